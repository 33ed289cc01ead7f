#!/usr/bin/env bash
# A rank that fails ends the whole job within seconds, with a non-zero exit and its message:
#   failure_test.sh MPIRUN PROGRAM NP
# runs PROGRAM (failure_program.cpp) under MPIRUN at NP processes in each failure mode.
set -u
mpirun=$1 program=$2 np=$3
last=$((np - 1))
failures=0
check() {  # mode, text expected on stderr
  local mode=$1 expected=$2 start end status err
  err=$(mktemp)
  start=$(date +%s.%N)
  timeout 60 "$mpirun" --oversubscribe --mca btl self,vader -np "$np" "$program" "$mode" 2>"$err" >/dev/null
  status=$?
  end=$(date +%s.%N)
  local seconds; seconds=$(echo "$end - $start" | bc)
  if [ "$status" -eq 0 ] || [ "$status" -eq 124 ]; then
    echo "FAIL $mode: exit status $status (0: the failure went unnoticed, 124: the job hung)"
    failures=$((failures + 1))
  elif (( $(echo "$seconds > 10" | bc) )); then
    echo "FAIL $mode: the job took ${seconds}s to end (expected a few seconds)"
    failures=$((failures + 1))
  elif ! grep -qF "$expected" "$err"; then
    echo "FAIL $mode: stderr lacks '$expected':"; cat "$err"
    failures=$((failures + 1))
  else
    echo "ok $mode: ended in ${seconds}s with status $status, saying '$expected'"
  fi
  rm -f "$err"
}
check throw "rank $last: deliberate failure in step 3"
check terminate "rank $last: terminate called after an exception: deliberate failure in a thread"
check exit "rank $last: exited with code 3"
[ "$failures" -eq 0 ]
