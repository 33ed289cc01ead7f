#!/usr/bin/env bash
# The course tool end to end: student releases of this tree, built and checked with tito.
#
#   course_test.sh STEP     with TITO (the tito binary), SRC (this source tree), BUILD (its
#                           build folder) and WORK (a scratch folder) in the environment
#
# Steps: bad_input, release_full, keep_01_04, keep_all_but_07, solution. The release steps
# share one student copy under $WORK (released with --force over the previous one), so its
# build is incremental; ccache with a base dir lets the copy reuse the tree's object files.
set -uo pipefail
step=$1
: "${TITO:?}" "${SRC:?}" "${BUILD:?}" "${WORK:?}"
export CCACHE_BASEDIR=/ NO_COLOR=1
COPY=$WORK/student
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }
# expect_contains TEXT FRAGMENT WHAT
expect_contains() { if grep -qF -- "$2" <<<"$1"; then pass "$3"; else fail "$3: expected '$2' in:"; echo "$1" | head -40; fi; }
expect_lacks() { if grep -qF -- "$2" <<<"$1"; then fail "$3: did not expect '$2' in:"; echo "$1" | head -40; else pass "$3"; fi; }
# row TEXT NAME: the status line of one module or milestone
row() { grep -E "^  $2" <<<"$1"; }
tito_in() { local dir=$1; shift; (cd "$dir" && "$TITO" "$@" 2>&1); }

# A project with one source file, for the marker checks.
fake_project() {
  local dir=$1 body=$2
  rm -rf "$dir" && mkdir -p "$dir/tinytorch/core" && touch "$dir/CMakeLists.txt" "$dir/tinytorch/tinytorch.hpp"
  printf '%s\n' "$body" > "$dir/tinytorch/core/ops.cpp"
}

bad_input() {
  local out
  fake_project "$WORK/unpaired" $'int f() {\n  // Hint: return one\n  // BEGIN SOLUTION 01_tensor f\n  return 1;\n}'
  out=$(tito_in "$WORK/unpaired" release --student "$WORK/unpaired-copy"); rc=$?
  [ $rc -ne 0 ] && pass "unpaired BEGIN refused" || fail "unpaired BEGIN accepted"
  expect_contains "$out" "tinytorch/core/ops.cpp:3: BEGIN has no matching END" "unpaired BEGIN names file and line"
  [ ! -e "$WORK/unpaired-copy" ] && pass "nothing written for unpaired markers" || fail "a copy was written"

  fake_project "$WORK/nested" $'int f() {\n  // Hint: a\n  // BEGIN SOLUTION 01_tensor f\n  // Hint: b\n  // BEGIN SOLUTION 01_tensor g\n  return 1;\n  // END SOLUTION\n  // END SOLUTION\n}'
  out=$(tito_in "$WORK/nested" release --student "$WORK/nested-copy")
  expect_contains "$out" "tinytorch/core/ops.cpp:5: BEGIN inside the region opened at line 3" "nested markers refused"

  fake_project "$WORK/stray" $'int f() {\n  return 1;\n  // END SOLUTION\n}'
  out=$(tito_in "$WORK/stray" release --student "$WORK/stray-copy")
  expect_contains "$out" "tinytorch/core/ops.cpp:3: END without a BEGIN" "END without BEGIN refused"

  fake_project "$WORK/nohint" $'int f() {\n  // BEGIN SOLUTION 01_tensor f\n  return 1;\n  // END SOLUTION\n}'
  out=$(tito_in "$WORK/nohint" release --student "$WORK/nohint-copy")
  expect_contains "$out" "ops.cpp:2: the region has no \`// Hint: ...\` comment" "region without a hint refused"

  touch "$WORK/a-file"
  out=$(tito_in "$SRC" release --student "$WORK/a-file")
  expect_contains "$out" "is a file, not a folder" "release onto a file refused"
  mkdir -p "$WORK/full" && echo keep > "$WORK/full/notes.txt"
  out=$(tito_in "$SRC" release --student "$WORK/full")
  expect_contains "$out" "is not empty; choose a new folder, or add --force" "non-empty folder refused"
  [ "$(ls "$WORK/full")" = "notes.txt" ] && pass "non-empty folder left as it was" || fail "files written into $WORK/full"
  out=$(tito_in "$SRC" release --student "$SRC/docs/copy")
  expect_contains "$out" "is inside the project" "release into the tree refused"
  out=$(tito_in "$SRC" release --student "$WORK/k" --keep 01-x)
  expect_contains "$out" "expected modules like 01-04" "bad --keep refused"

  out=$(tito_in "$SRC" --build-dir "$BUILD" test 12)
  expect_contains "$out" "there is no module 12" "unknown module number refused"
  out=$(tito_in "$SRC" --build-dir "$BUILD" test tensor)
  expect_contains "$out" "expected a module number, got 'tensor'; 01_tensor is module 01" "module name refused with the number"
  out=$(tito_in "$SRC" --build-dir "$BUILD" milestone run 7)
  expect_contains "$out" "there is no milestone '7'" "unknown milestone refused"
  out=$(tito_in / status)
  expect_contains "$out" "not inside a tinytorch project" "tito outside a project refused"
}

# Every row of `tito status` for modules $1..$2 says $3.
expect_states() {
  local status=$1 first=$2 last=$3 state=$4 n
  for n in $(seq "$first" "$last"); do
    local line; line=$(row "$status" "0$n ")
    grep -qE " $state\b" <<<"$line" && pass "module 0$n is $state" || fail "module 0$n: expected '$state' in '$line'"
  done
}

release_full() {
  rm -rf "$COPY"
  local out status
  out=$(tito_in "$SRC" release --student "$COPY") || { fail "release: $out"; return; }
  expect_contains "$out" "73 exercises are stubs" "every exercise became a stub"
  [ ! -e "$COPY/.git" ] && [ ! -e "$COPY/build" ] && pass "no .git or build folder in the copy" || fail "copy has .git or build"
  status=$(tito_in "$COPY" status) || fail "status failed"
  expect_lacks "$status" "does not build" "(a) the student copy compiles"
  expect_states "$status" 1 9 "not started"
  for ms in "01 1957" "02 1969" "03 1986" "04 1998"; do
    expect_contains "$(row "$status" "$ms")" "locked" "milestone ${ms%% *} locked"
  done
  for n in 1 2 3 4 5 6 7 8 9; do
    out=$(tito_in "$COPY" test 0$n)
    expect_contains "$(tail -1 <<<"$out")" "0 passed" "(b) module 0$n: no test passes"
    expect_lacks "$out" "  failed: " "(b) module 0$n: every test stops at an exercise stub"
  done
  # The own module's message where the earlier modules cannot intervene first.
  expect_contains "$(tito_in "$COPY" test 01)" "not implemented: 01_tensor: " "(b) 01 shows its own stubs"
  expect_contains "$(tito_in "$COPY" test 09)" "not implemented: 09_spatial: " "(b) 09 shows its own stubs"
  local given; given=$(cd "$COPY/build/tests" && for t in test_0*; do ./$t --gtest_filter='*Given.*' --gtest_brief=1 2>&1 | tail -1; done)
  expect_lacks "$given" "FAILED" "the given code's tests pass in a fresh copy"
}

keep_01_04() {
  local out status
  out=$(tito_in "$SRC" release --student "$COPY" --keep 01-04 --force) || { fail "release: $out"; return; }
  status=$(tito_in "$COPY" status)
  echo "$status"
  expect_states "$status" 1 4 "done"
  expect_states "$status" 5 9 "not started"
  for ms in 01 02 03 04; do expect_contains "$(row "$status" "$ms 1")" "locked" "(c) milestone $ms locked"; done
  out=$(tito_in "$COPY" test 05)
  expect_lacks "$(grep 'not implemented: ' <<<"$out" | grep -v 'not implemented: 05_autograd: ')" "not implemented" \
    "(c) module 05 stops at its own stubs once 01-04 are kept"
  out=$(tito_in "$COPY" milestone run 01)
  expect_contains "$out" "milestone 01 (1957 The perceptron) is locked: modules 05-06 are not done yet" "locked milestone refused"
  out=$(tito_in "$COPY" grade --csv "$WORK/grade.csv")
  echo "$out"
  expect_contains "$out" "total" "grade prints a total"
  expect_contains "$(cat "$WORK/grade.csv")" "01,01_tensor," "grade wrote the CSV"
  expect_contains "$(grep '^total' "$WORK/grade.csv")" "total,,,,595,270.0" "grade: 01-04 full marks (85+70+55+60), the rest 0"
  out=$(tito_in "$COPY" complete 04)
  expect_contains "$out" "module 04_losses complete" "complete records a passing module"
  expect_lacks "$out" "this unlocks milestone" "completing 04 unlocks nothing yet"
  out=$(tito_in "$COPY" complete 05); rc=$?
  [ $rc -ne 0 ] && pass "complete refuses a failing module" || fail "complete accepted module 05"
}

keep_all_but_07() {
  local out status
  out=$(tito_in "$SRC" release --student "$COPY" --keep 01-06,08,09 --force) || { fail "release: $out"; return; }
  status=$(tito_in "$COPY" status)
  expect_states "$status" 7 7 "not started"
  for ms in 01 02 03 04; do expect_contains "$(row "$status" "$ms 1")" "unlocked" "milestone $ms unlocked without module 07"; done
  # The programs themselves, whatever tito says: none may reach one of module 07's stubs.
  cmake --build "$COPY/build" --target perceptron_1957 xor_1969 mlp_1986 cnn_1998 >/dev/null 2>&1 ||
    fail "building the milestone programs"
  for program in perceptron_1957 xor_1969 mlp_1986 cnn_1998; do
    out=$(cd "$COPY" && "build/milestones/$program" --epochs 1 --quiet 2>&1); rc=$?
    [ $rc -eq 0 ] && pass "$program needs no module-07 code" || { fail "$program failed:"; echo "$out" | tail -5; }
  done
  rm -f "$COPY/.tito/progress.json"
  out=$(tito_in "$COPY" complete 06)
  expect_contains "$out" "this unlocks milestone 01 (1957 The perceptron)" "complete runs the milestone it unlocks"
  expect_contains "$out" "result: accuracy" "the unlocked milestone ran in quick mode"
}

solution() {
  local status
  status=$(tito_in "$SRC" --build-dir "$BUILD" status)
  echo "$status"
  expect_states "$status" 1 9 "done"
  for ms in 01 02 03 04; do expect_contains "$(row "$status" "$ms 1")" "unlocked" "(d) milestone $ms unlocked in the solution"; done
}

mkdir -p "$WORK"
"$step"
echo "$failures failure(s)"
[ "$failures" -eq 0 ]
