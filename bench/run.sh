#!/usr/bin/env bash
# Builds the release server and WASM, runs the benchmark driver against a fake upstream on loopback, and
# prints the figures (Markdown). `bench/run.sh > bench/RESULTS.md` records them.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
scripts/setup.sh >&2
scripts/setup.sh --test-deps >&2
export PATH="$PWD/scripts/node_modules/.bin:$PATH"

# The builds compared with this one, each a worktree of its revision whose server is compiled into this
# repository's target directory (reusing every dependency this build compiles alike) and copied out beside its
# own Leptos.toml; they come first, since each leaves its binary at target/release/credit-dashboard.
#  - BASELINE_REV: the build before the second review (`GET /` throughput);
#  - HISTORY_BASELINE_REV: the build before the third review of the history store (a past period of 500 000
#    rows, the retention of 2 million);
#  - STRUCTURE_BASELINE_REV: the build before the configuration, start-up and state were reorganised (warm
#    `GET /` and `/usage`).
baseline_server() {
  local rev=$1 directory=$2
  if [[ "$(git -C "$directory" rev-parse --short=7 HEAD 2>/dev/null)" == "${rev:0:7}" && -x "$directory/credit-dashboard" ]]; then
    return
  fi
  git worktree remove --force "$directory" 2>/dev/null || rm -rf "$directory"
  git worktree add --detach "$directory" "$rev" >&2
  (cd "$directory" && cargo build --release --no-default-features --features ssr --bin credit-dashboard \
    --target-dir "$root/target" >&2)
  cp target/release/credit-dashboard "$directory/credit-dashboard"
}
root=$PWD
baseline_server "${BASELINE_REV:-f894c47}" target/bench-baseline
baseline_server "${HISTORY_BASELINE_REV:-93c04fb}" target/bench-history-baseline
baseline_server "${STRUCTURE_BASELINE_REV:-10b1488}" target/bench-structure-baseline
# A baseline's crate and this one share the target directory's name for the artifact (the same package, version
# and features): without this, cargo finds the last baseline's build fresh and this build would be that one.
cargo clean --release -p credit-dashboard >&2

# Also writes target/release/hash.txt beside the server binary, which finds it there: the pages then name the
# content-hashed assets, served as immutable, and a repeat visit downloads none of them.
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
# This build's files, by the content hashes cargo-leptos lists in hash.txt (`wasm: …`, `js: …`, `css: …`):
# it does not clear target/site/pkg, so earlier builds' files can be there too.
for kind in wasm js css; do
  hash=$(sed -n "s/^$kind: *//p" target/release/hash.txt)
  files=(target/site/pkg/*."$hash"."$kind")
  file=${files[0]}
  [[ -n "$hash" && -f "$file" ]] || { echo "no $kind file for hash '$hash' in target/site/pkg" >&2; exit 1; }
  raw=$(stat -c %s "$file")
  gz=$(gzip -9 -c "$file" | wc -c)
  case "$kind" in wasm | js) total=$((total + gz)) ;; esac
  awk -v f="$(basename "$file")" -v r="$raw" -v g="$gz" 'BEGIN { printf "| %s | %.1f KB | %.1f KB |\n", f, r / 1024, g / 1024 }'
done
awk -v t="$total" 'BEGIN { printf "\nJS + WASM gzip: %.1f KB (target ≤ 100 KB; the React build ships 196 KB; before islands: 181.7 KB).\n", t / 1024 }'

# The first hour (the README's two commands on a fresh machine) is measured apart, by bench/first_run.sh: it
# needs the machine to itself and a fresh CARGO_HOME. Its latest figures are copied here.
if [[ -f bench/FIRST_RUN.md ]]; then
  echo
  cat bench/FIRST_RUN.md
fi
