#!/usr/bin/env bash
# Runs every fuzzer for SECONDS (default 60) from its committed seeds and dictionary; new
# inputs go to a scratch corpus, findings (crash-*, leak-*, timeout-*, oom-*) to $OUT.
#   bash fuzz/run.sh 600        (after: cmake --preset fuzz && cmake --build --preset fuzz)
# Prints, per target, libFuzzer's last status line (executions, coverage) and its final stats;
# the whole output of a target that fails.
set -uo pipefail
seconds=${1:-60}
here=$(cd "$(dirname "$0")" && pwd)
bin=${FUZZ_BUILD:-$here/../build-fuzz}/fuzz
OUT=${OUT:-$(mktemp -d)}
status=0
for target in "$here"/corpus/*/; do
  name=$(basename "$target")
  [ -x "$bin/fuzz_$name" ] || { echo "fuzz_$name is not built in $bin"; status=1; continue; }
  work=$OUT/$name && mkdir -p "$work/corpus"
  dict=()
  [ -f "$here/dict/$name.dict" ] && dict=(-dict="$here/dict/$name.dict")
  echo "== fuzz_$name for ${seconds}s"
  log=$work/fuzz.log
  if (cd "$work" && "$bin/fuzz_$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 "${dict[@]}" "$work/corpus" "$target" >"$log" 2>&1); then
    grep -E "^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE)" "$log" | tail -1
    grep -E "^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)" "$log"
  else
    tail -40 "$log"
    status=1
  fi
  if ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* >/dev/null 2>&1; then
    echo "fuzz_$name found inputs that fail; they are in $work"
    status=1
  fi
done
exit $status
