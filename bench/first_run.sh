#!/usr/bin/env bash
# A newcomer's first hour, measured: the README's two commands on a machine made as fresh as this one can be,
# then each again. Prints Markdown (`bench/first_run.sh > bench/FIRST_RUN.md`; bench/run.sh copies it into
# bench/RESULTS.md).
#
# Fresh means: a new CARGO_HOME (no tools, an empty crate registry: every crate is downloaded again), a new npm
# cache, a fresh clone of this repository's HEAD with an empty target directory, and the wasm32 target removed
# from the toolchain (the scripts add it back). Debian packages already installed (Chromium, PostgreSQL, Redis)
# are not removed: test.sh installs them in the background, beside the compilation. Nothing else may run on the
# machine meanwhile, and the ports 3000 and 3100-3193 must be free.
#   bench/first_run.sh [run|test|both]
set -uo pipefail
cd "$(dirname "$0")/.."
what=${1:-both}
root=$(mktemp -d /tmp/first-run.XXXXXX)
trap 'rm -rf "$root"' EXIT

# A fresh machine for `name`: its directory, whose env.sh the measured commands source.
fresh() {
  local name=$1 dir="$root/$1"
  mkdir -p "$dir/bin"
  for tool in cargo rustc rustup cargo-clippy cargo-fmt clippy-driver rustfmt rustdoc; do
    ln -s "$HOME/.cargo/bin/$tool" "$dir/bin/$tool"
  done
  git clone -q . "$dir/repo"
  rustup target remove wasm32-unknown-unknown >/dev/null 2>&1 || true
  cat >"$dir/env.sh" <<EOF
export CARGO_HOME=$dir/cargo-home npm_config_cache=$dir/npm-cache
export PATH=$dir/cargo-home/bin:$dir/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
cd $dir/repo
EOF
  echo "$dir"
}

# Seconds from now until http://127.0.0.1:3000/ answers 200 while `scripts/run.sh` runs; its output in $1.
time_run_sh() {
  local out=$1 started=$SECONDS
  scripts/run.sh >"$out" 2>&1 &
  local pid=$!
  until curl -fs -o /dev/null http://127.0.0.1:3000/; do
    if ! kill -0 "$pid" 2>/dev/null; then
      cat "$out" >&2
      echo "run.sh ended before serving" >&2
      kill -TERM $$
    fi
    sleep 0.2
  done
  echo $((SECONDS - started))
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null
}

minutes() {
  printf '%d min %02d s' $(($1 / 60)) $(($1 % 60))
}

# The steps' own lines (`✓ name: time`), as table rows.
phases() {
  sed -n 's/^ *✓ \(.*\): \([0-9].*\)$/| \1 | \2 |/p' "$1"
}

echo "## The first hour: the README's two commands on a fresh machine"
echo
echo "$(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(rustc --version); $(date -u +%Y-%m-%d); commit $(git rev-parse --short HEAD)."
echo "Fresh: a new CARGO_HOME (no tools, every crate downloaded again), a new npm cache, a fresh clone with an empty"
echo "target directory, the wasm32 target removed from the toolchain (\`bench/first_run.sh\`)."

if [[ $what == run || $what == both ]]; then
  dir=$(fresh run)
  (
    source "$dir/env.sh"
    first=$(time_run_sh "$dir/first.out")
    again=$(time_run_sh "$dir/again.out")
    echo
    echo "### \`scripts/run.sh\`: $(minutes "$first") to the first 200; again, nothing changed: ${again} s"
    echo
    echo "| phase | time |"
    echo "|---|---:|"
    phases "$dir/first.out"
  )
fi

if [[ $what == test || $what == both ]]; then
  dir=$(fresh test)
  (
    source "$dir/env.sh"
    started=$SECONDS
    scripts/test.sh >"$dir/first.out" 2>&1 || { cat "$dir/first.out" >&2; exit 1; }
    first=$((SECONDS - started))
    # One source file touched: the money type, which everything above it depends on.
    echo "// touched" >>src/money.rs
    started=$SECONDS
    scripts/test.sh >"$dir/again.out" 2>&1 || { cat "$dir/again.out" >&2; exit 1; }
    again=$((SECONDS - started))
    echo
    echo "### \`scripts/test.sh\`: $(minutes "$first") to green; again with \`src/money.rs\` touched: $(minutes "$again")"
    echo
    echo "| phase (fresh) | time |"
    echo "|---|---:|"
    phases "$dir/first.out"
    echo
    echo "| phase (one file touched) | time |"
    echo "|---|---:|"
    phases "$dir/again.out"
  )
fi
