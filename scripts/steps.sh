# Progress a person can read, for setup.sh, run.sh and test.sh (sourced, not run). Each step says what it is
# doing and, for the long ones, what to expect; its output goes to a log file named on screen, shown whole when
# the step fails; it ends with how long it took.
#   step NAME EXPECT COMMAND...    runs COMMAND as the step NAME (EXPECT "" for no expectation)
#   skip NAME WHY                  says that NAME is skipped, and why
#   summary PATTERN                the last step's log lines that match PATTERN (a test run's counts)
#   background NAME COMMAND...     starts a step that runs while the script goes on (a tool compiling while
#   await NAME [show]              the tests compile); `await` waits for it and reports as `step` does, with
#                                  its log when asked to show it (a script's own step lines)

steps_started=$SECONDS
log_dir="$PWD/target/logs"
mkdir -p "$log_dir"
declare -A background_pids

# 75 → "1 min 15 s"; 9 → "9 s".
duration() {
  local seconds=$1
  if ((seconds >= 60)); then
    printf '%d min %02d s' $((seconds / 60)) $((seconds % 60))
  else
    printf '%d s' "$seconds"
  fi
}

log_for() {
  printf '%s/%s.log' "$log_dir" "$(tr -cs 'a-zA-Z0-9.-' '-' <<<"$1" | sed 's/^-*//; s/-*$//')"
}

failed() {
  local name=$1 status=$2 log=$3
  printf '  ✗ %s failed (exit %d); its log, %s:\n\n' "$name" "$status" "$log"
  cat "$log"
  printf '\n✗ %s failed after %s; the log above is %s\n' "$name" "$(elapsed)" "$log"
  exit "$status"
}

step() {
  local name=$1 expect=$2
  shift 2
  local log started=$SECONDS
  log=$(log_for "$name")
  printf '▸ %s%s\n    log: %s\n' "$name" "${expect:+ ($expect)}" "$log"
  "$@" >"$log" 2>&1 || failed "$name" $? "$log"
  printf '  ✓ %s: %s\n' "$name" "$(duration $((SECONDS - started)))"
  step_log=$log
}

skip() {
  printf '· %s: skipped, %s\n' "$1" "$2"
}

summary() {
  grep -E "$1" "$step_log" | sed 's/^ */    /'
}

background() {
  local name=$1
  shift
  local log
  log=$(log_for "$name")
  printf '▸ %s, in the background\n    log: %s\n' "$name" "$log"
  # Its own duration is written beside its log when it ends, which may be long before it is awaited.
  (
    started=$(date +%s)
    "$@" >"$log" 2>&1
    status=$?
    echo $(($(date +%s) - started)) >"$log.took"
    exit $status
  ) &
  background_pids[$name]=$!
}

await() {
  local name=$1 waited=$SECONDS log
  log=$(log_for "$name")
  wait "${background_pids[$name]}" || failed "$name" $? "$log"
  printf '  ✓ %s: %s, of which %s waited for here\n' "$name" "$(duration "$(cat "$log.took")")" \
    "$(duration $((SECONDS - waited)))"
  [[ "${2:-}" != show ]] || sed 's/^/    /' "$log"
}

# The whole script's time so far.
elapsed() {
  duration $((SECONDS - steps_started))
}
