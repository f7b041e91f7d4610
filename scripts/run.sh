#!/usr/bin/env bash
# Sets up, builds (release) and serves the dashboard on http://127.0.0.1:3000/, with the embedded sample upstream
# unless UPSTREAM_BASE_URL says otherwise. A repeat run with nothing changed starts the last build at once.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/steps.sh
export PATH="$PWD/scripts/node_modules/.bin:$PATH"

# What the release build is made from: the sources, the manifests and the toolchain.
inputs() {
  {
    find Cargo.toml Cargo.lock Leptos.toml .cargo src style public -type f -print0 | sort -z | xargs -0 sha256sum
    rustc --version
  } | sha256sum | cut -d' ' -f1
}

built_from=target/release/built-from
fingerprint=$(inputs)
if [[ -x target/release/credit-dashboard && -f target/release/hash.txt &&
  "$(cat "$built_from" 2>/dev/null)" == "$fingerprint" ]]; then
  skip "the set-up and the release build" "nothing changed since the last build"
else
  rm -f "$built_from"
  scripts/setup.sh --wasm-target
  # The server's release build needs none of the tools: it compiles at low priority while they do (their
  # compilation leaves a core idle at times), exactly as cargo-leptos would build it, which then finds it done.
  background "compiling the server (release)" \
    nice -n 19 cargo build --release --no-default-features --features ssr --bin credit-dashboard
  scripts/setup.sh
  # The WASM (in target/front: no lock shared with the server's build), wasm-bindgen, wasm-opt, the stylesheet
  # and the hashed names, while the server still compiles: its fat LTO leaves the second core idle, which the
  # server's build fills.
  step "building the WASM and the site (release), beside the server" "about 4 minutes the first time" \
    cargo leptos build --release --frontend-only
  await "compiling the server (release)"
  # cargo-leptos' own server build, which finds the one above done (or rebuilds it, should they ever differ).
  step "checking the server's build" "" cargo leptos build --release --server-only
  echo "$fingerprint" >"$built_from"
fi

configured_addr=$(sed -n 's/^site_addr *= *"\([^"]*\)".*/\1/p' Leptos.toml)
url="http://${LEPTOS_SITE_ADDR:-$configured_addr}/"
printf '▸ starting the server (its log follows)\n'
# Says where to look once the first page answers; the server itself takes this script's place, so that Ctrl-C
# and its exit status are its own.
server=$$
(
  for _ in $(seq 1 600); do
    if curl -fs -o /dev/null "$url"; then
      printf '\n✓ ready in %s: open %s (Ctrl-C stops it)\n\n' "$(elapsed)" "$url"
      exit 0
    fi
    kill -0 "$server" 2>/dev/null || exit 0
    sleep 0.1
  done
) &
LEPTOS_SITE_ROOT=target/site exec target/release/credit-dashboard
