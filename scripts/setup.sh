#!/usr/bin/env bash
# Installs what building, running and testing the dashboard needs. Idempotent: each step is skipped when
# its tool is already there at the right version, so a second run takes seconds.
#   scripts/setup.sh            build tools (wasm target, cargo-leptos, wasm-bindgen, wasm-opt)
#   scripts/setup.sh --test     also Chromium, the Playwright packages and PostgreSQL (the tests start their own)
set -euo pipefail
cd "$(dirname "$0")/.."

want_tests=false
[[ "${1:-}" == "--test" ]] && want_tests=true

step() { printf '\n== %s\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "wasm32 target"
  rustup target add wasm32-unknown-unknown
fi

# 0.3.10 is the newest cargo-leptos that builds on Rust 1.95; --locked keeps its dependencies there too.
if ! cargo leptos --version 2>/dev/null | grep -q ' 0\.3\.10$'; then
  step "cargo-leptos 0.3.10 (a long build, once)"
  cargo install --locked --version 0.3.10 cargo-leptos
fi

# cargo-leptos would download wasm-bindgen; it must match the wasm-bindgen crate in Cargo.lock exactly.
bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [[ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$bindgen_version" ]]; then
  step "wasm-bindgen-cli $bindgen_version"
  CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback cargo install --force --version "$bindgen_version" wasm-bindgen-cli
fi

# wasm-opt for release builds, from npm: Debian's binaryen produces a WASM that fails to hydrate.
if [[ ! -x scripts/node_modules/.bin/wasm-opt ]]; then
  step "binaryen (wasm-opt)"
  (cd scripts && npm ci --no-audit --no-fund)
fi

if $want_tests; then
  missing=()
  [[ -x /usr/bin/chromium ]] || missing+=(chromium)
  # The history store's tests start PostgreSQL servers of their own (as the postgres user the package creates).
  compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || missing+=(postgresql)
  # The shared cache's tests start Redis servers of their own (no persistence, a free port each).
  [[ -x /usr/bin/redis-server ]] || missing+=(redis-server)
  if ((${#missing[@]})); then
    step "Debian packages: ${missing[*]}"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
  fi
  if [[ ! -d end2end/node_modules/@playwright/test ]]; then
    step "Playwright"
    (cd end2end && npm ci --no-audit --no-fund)
  fi
fi
