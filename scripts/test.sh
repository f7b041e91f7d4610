#!/usr/bin/env bash
# Sets up and runs every test: formatting and lints (server and WASM), unit and integration (against a
# wiremock upstream), then the browser tests (Playwright in Debian's Chromium) against a debug build.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
export PATH="$PWD/scripts/node_modules/.bin:$PATH"

printf '\n== format and lints\n'
cargo fmt --check
cargo clippy --all-targets --features ssr -- -D warnings
cargo clippy --lib --target wasm32-unknown-unknown --no-default-features --features hydrate -- -D warnings

printf '\n== unit and integration tests\n'
cargo test --features ssr

printf '\n== build (server and WASM)\n'
cargo leptos build

printf '\n== end-to-end tests\n'
cd end2end
npx playwright test
