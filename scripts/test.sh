#!/usr/bin/env bash
# Sets up and runs every test: formatting and lints (server and WASM), unit and integration (against a wiremock
# upstream and real PostgreSQL and Redis servers they start), then the browser tests (Playwright in Debian's
# Chromium) against a debug build. What only the browser tests need (cargo-leptos, wasm-bindgen) compiles in
# the background, at low priority, while the lints and tests use the cores; the browser tests run the server
# binary the integration tests built, so the server is compiled once.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/steps.sh

scripts/setup.sh --wasm-target
background "build tools for the browser tests" nice -n 19 scripts/setup.sh --tools
background "test dependencies (Chromium, PostgreSQL, Redis, Playwright)" scripts/setup.sh --test-deps

step "format" "" cargo fmt --check
step "lints, server" "about 4 minutes the first time" cargo clippy --all-targets --features ssr -- -D warnings
step "lints, WASM" "about a minute the first time" \
  cargo clippy --lib --target wasm32-unknown-unknown --no-default-features --features hydrate -- -D warnings
step "compiling the unit and integration tests" "about 4 minutes the first time" \
  cargo test --features ssr --tests --no-run
await "test dependencies (Chromium, PostgreSQL, Redis, Playwright)" show
step "unit and integration tests" "about a minute" cargo test --features ssr --tests
summary '^test result:'

await "build tools for the browser tests" show
step "WASM and assets for the browser tests" "about 2 minutes the first time" cargo leptos build --frontend-only
step "browser tests" "about 3 minutes" bash -c 'cd end2end && npx playwright test'
summary '^ *[0-9]+ (passed|failed|flaky|skipped)'

printf '\n✓ every test passed in %s\n' "$(elapsed)"
