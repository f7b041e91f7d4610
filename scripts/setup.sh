#!/usr/bin/env bash
# Installs what building, running and testing the dashboard needs. Idempotent: each step is skipped when its
# tool is already there at the right version, so a second run takes a second.
#   scripts/setup.sh                what run.sh needs: the wasm target, cargo-leptos, wasm-bindgen, wasm-opt
#   scripts/setup.sh --wasm-target  the wasm target alone (the lints of the WASM build need no more)
#   scripts/setup.sh --tools        cargo-leptos and wasm-bindgen, for a debug build (no wasm-opt)
#   scripts/setup.sh --test-deps    what only the tests need: Chromium, PostgreSQL, Redis (Debian's), Playwright,
#                                   oidc-provider
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/steps.sh

what=${1:-run}

# Tools are compiled to be used, not to be fast: without optimisation and without their manifests' fat LTO.
# cargo-leptos 0.3.10 compiled in 18 m 38 s as its manifest asks (fat LTO, one codegen unit), 19 m 50 s without
# LTO at opt-level 1, 9 m 14 s without optimisation, on 2 cores. Their work is starting cargo and one another,
# minifying a few kilobytes of JavaScript, and wasm-bindgen's rewriting of the WASM: seconds, unoptimised. OpenSSL comes from Debian where its headers are there (they are on a new machine) rather
# than being compiled from source again. Measured in bench/RESULTS.md.
install_tool() {
  local -a env=(CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_OPT_LEVEL=0)
  pkg-config --exists openssl 2>/dev/null && env+=(OPENSSL_NO_VENDOR=1)
  env "${env[@]}" CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback cargo install "$@"
}

wasm_target() {
  if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    skip "the wasm32 target" "installed"
  else
    step "the wasm32 target" "" rustup target add wasm32-unknown-unknown
  fi
}

build_tools() {
  # 0.3.10 is the newest cargo-leptos that builds on Rust 1.95; --locked keeps its dependencies there too.
  if cargo leptos --version 2>/dev/null | grep -q ' 0\.3\.10$'; then
    skip "cargo-leptos 0.3.10" "installed"
  else
    step "compiling cargo-leptos 0.3.10" "about 10 minutes on 2 cores, once" \
      install_tool --locked --version 0.3.10 cargo-leptos
  fi

  # cargo-leptos would download wasm-bindgen; it must match the wasm-bindgen crate in Cargo.lock exactly. Only the
  # wasm-bindgen binary, without TLS (which only the test runner, a binary not used here, needs to download).
  local bindgen_version
  bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
  if [[ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" == "$bindgen_version" ]]; then
    skip "wasm-bindgen $bindgen_version" "installed"
  else
    step "compiling wasm-bindgen $bindgen_version" "about 3 minutes on 2 cores, once" \
      install_tool --force --no-default-features --bin wasm-bindgen --version "$bindgen_version" wasm-bindgen-cli
  fi
}

# wasm-opt for release builds, from npm: Debian's binaryen produces a WASM that fails to hydrate.
wasm_opt() {
  if [[ -x scripts/node_modules/.bin/wasm-opt ]]; then
    skip "wasm-opt (npm binaryen)" "installed"
  else
    step "wasm-opt (npm binaryen)" "" bash -c 'cd scripts && npm ci --no-audit --no-fund'
  fi
}

test_deps() {
  local missing=()
  [[ -x /usr/bin/chromium ]] || missing+=(chromium)
  # The history store's tests start PostgreSQL servers of their own (as the postgres user the package creates).
  compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || missing+=(postgresql)
  # The shared cache's tests start Redis servers of their own (no persistence, a free port each).
  [[ -x /usr/bin/redis-server ]] || missing+=(redis-server)
  if ((${#missing[@]})); then
    step "Debian packages: ${missing[*]}" "" \
      bash -c "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${missing[*]}"
  else
    skip "Chromium, PostgreSQL and Redis" "installed"
  fi
  # Playwright, and the OpenID provider the access-control tests sign in at (oidc-provider).
  if [[ -d end2end/node_modules/@playwright/test && -d end2end/node_modules/oidc-provider ]]; then
    skip "Playwright and oidc-provider" "installed"
  else
    step "Playwright and oidc-provider" "" bash -c 'cd end2end && npm ci --no-audit --no-fund'
  fi
}

case "$what" in
  run) wasm_target; build_tools; wasm_opt ;;
  --wasm-target) wasm_target ;;
  --tools) build_tools ;;
  --test-deps) test_deps ;;
  *) echo "usage: scripts/setup.sh [--wasm-target | --tools | --test-deps]" >&2 && exit 2 ;;
esac
