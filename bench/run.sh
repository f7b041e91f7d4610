#!/usr/bin/env bash
# Builds the release server and WASM, runs the benchmark driver against a fake upstream on loopback, and
# prints the figures (Markdown). `bench/run.sh > bench/RESULTS.md` records them.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
scripts/setup.sh --test >&2
export PATH="$PWD/scripts/node_modules/.bin:$PATH"

cargo leptos build --release >&2
cargo build --release --example bench --features ssr >&2

echo "# Benchmark results"
echo
echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/ {print $2}') GiB; $(rustc --version); $(date -u +%Y-%m-%d)."
echo "Release build (\`cargo leptos build --release\`); server logs at warn. Everything on loopback."
echo
target/release/examples/bench

echo
echo "## What the browser downloads"
echo
echo "| file | raw | gzip -9 |"
echo "|---|---:|---:|"
total=0
for file in target/site/pkg/*.wasm target/site/pkg/*.js target/site/pkg/*.css; do
  raw=$(stat -c %s "$file")
  gz=$(gzip -9 -c "$file" | wc -c)
  case "$file" in *.wasm|*.js) total=$((total + gz)) ;; esac
  awk -v f="$(basename "$file")" -v r="$raw" -v g="$gz" 'BEGIN { printf "| %s | %.1f KB | %.1f KB |\n", f, r / 1024, g / 1024 }'
done
awk -v t="$total" 'BEGIN { printf "\nJS + WASM gzip: **%.1f KB**, %.0f%% of the 196 KB the React build of this dashboard ships.\n", t / 1024, t / 1024 / 196 * 100 }'
