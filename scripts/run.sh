#!/usr/bin/env bash
# Sets up, builds (release) and serves the dashboard on http://127.0.0.1:3000/, with the embedded sample upstream
# unless UPSTREAM_BASE_URL says otherwise. A repeat run with nothing changed starts the last build at once.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/steps.sh
scripts/setup.sh
export PATH="$PWD/scripts/node_modules/.bin:$PATH"

# What the release build is made from: the sources, the manifests and the tools. cargo-leptos checks its own
# work, but a repeat build still runs wasm-bindgen and wasm-opt again (seconds each).
inputs() {
  {
    find Cargo.toml Cargo.lock Leptos.toml .cargo src style public -type f -print0 | sort -z | xargs -0 sha256sum
    rustc --version
    cargo leptos --version
    wasm-bindgen --version
    wasm-opt --version
  } | sha256sum | cut -d' ' -f1
}

# The server and the WASM build side by side: the WASM's last stages (one codegen unit, wasm-opt) use one core,
# and the server's compilation the other.
build_release() {
  cargo leptos build --release --frontend-only >"$(log_for "the release WASM")" 2>&1 &
  local front=$!
  cargo leptos build --release --server-only
  wait "$front" || { cat "$(log_for "the release WASM")"; return 1; }
}

built_from=target/release/built-from
fingerprint=$(inputs)
if [[ -x target/release/credit-dashboard && -f target/release/hash.txt &&
  "$(cat "$built_from" 2>/dev/null)" == "$fingerprint" ]]; then
  skip "the release build" "nothing changed since the last one"
else
  step "building the server and the WASM (release)" "about 9 minutes the first time on 2 cores" build_release
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
