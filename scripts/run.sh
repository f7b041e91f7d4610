#!/usr/bin/env bash
# Sets up and serves the dashboard (release build) on http://127.0.0.1:3000, using the embedded sample
# upstream unless UPSTREAM_BASE_URL says otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$PWD/scripts/node_modules/.bin:$PATH"
exec cargo leptos serve --release
