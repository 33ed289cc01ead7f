#!/usr/bin/env bash
# The course tool end to end: student releases of this tree, built and checked with tito.
#
#   course_test.sh STEP     with TITO (the tito binary), SRC (this source tree), BUILD (its
#                           build folder) and WORK (a scratch folder) in the environment
#
# Steps: bad_input, release_full, keep_01_04, keep_all_but_07, milestones_run_student_code,
# grade_class, solution. The release steps share one student copy under $WORK (released with
# --force over the previous one), so its build is incremental; ccache hashes paths relative to
# each tree (see the top CMakeLists.txt), so the copies reuse the tree's object files.
set -uo pipefail
step=$1
: "${TITO:?}" "${SRC:?}" "${BUILD:?}" "${WORK:?}"
export NO_COLOR=1
HERE=$(cd "$(dirname "$0")" && pwd)
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

  # grade rewrites its scratch tree: never one it did not make (a wrong --build-dir).
  mkdir -p "$WORK/other-build/tito/grade" "$WORK/fake-copy/tinytorch" && echo keep > "$WORK/other-build/tito/grade/victim.txt"
  out=$(tito_in "$SRC" --build-dir "$WORK/other-build" grade "$WORK/fake-copy"); rc=$?
  [ $rc -ne 0 ] && [ "$(cat "$WORK/other-build/tito/grade/victim.txt")" = keep ] && pass "grade leaves a scratch folder it did not make alone" ||
    fail "grade used $WORK/other-build/tito/grade"
  expect_contains "$out" "holds files tito did not write" "grade says why it will not use that folder"
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
  expect_contains "$out" "75 exercises are stubs" "every exercise became a stub"
  [ ! -e "$COPY/.git" ] && [ ! -e "$COPY/build" ] && pass "no .git or build folder in the copy" || fail "copy has .git or build"
  for teacher_only in tests/hidden tests/kernels tests/course; do
    [ ! -e "$COPY/$teacher_only" ] && pass "$teacher_only stays out of the copy" || fail "$teacher_only is in the copy"
  done
  [ -x "$COPY/tito" ] && pass "the copy has ./tito at its root" || fail "no ./tito script in the copy"
  out=$(python3 "$HERE/solution_leaks.py" "$SRC" "$COPY"); rc=$?
  [ $rc -eq 0 ] && pass "no solution statement outside its region in a full release" || { fail "solutions leak into given code:"; echo "$out" | head -40; }
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
  expect_contains "$(tito_in "$COPY" test 01 | sed -n 2p)" "… 01_tensor: " "(b) 01 shows its own stubs"
  expect_contains "$(tito_in "$COPY" test 09 | sed -n 2p)" "… 09_spatial: " "(b) 09 shows its own stubs"
  local given; given=$(cd "$COPY/build/tests" && for t in test_0*; do ./$t --gtest_filter='*Given.*' --gtest_brief=1 2>&1 | tail -1; done)
  expect_lacks "$given" "FAILED" "the given code's tests pass in a fresh copy"
  out=$(cd "$COPY/build" && ctest -N 2>&1)
  expect_lacks "$out" "course." "the copy's ctest lists no course tests (their script is not there)"
}

keep_01_04() {
  local out status
  out=$(tito_in "$SRC" release --student "$COPY" --keep 01-04 --force) || { fail "release: $out"; return; }
  status=$(tito_in "$COPY" status)
  echo "$status"
  expect_states "$status" 1 4 "done"
  expect_states "$status" 5 9 "not started"
  expect_contains "$status" "next: write the exercises of module 05" "next: skips the modules handed out solved"
  for ms in 01 02 03 04; do expect_contains "$(row "$status" "$ms 1")" "locked" "(c) milestone $ms locked"; done
  out=$(tito_in "$COPY" test 05)
  expect_lacks "$(grep ' is not implemented yet; ' <<<"$out" | grep -v '… 05_autograd: ')" "not implemented" \
    "(c) module 05 stops at its own stubs once 01-04 are kept"
  expect_contains "$out" "… 05_autograd: sum_backward is not implemented yet; " \
    "stub failures are grouped by exercise"
  local waiting; waiting=$(sed -n 's/.*sum_backward is not implemented yet; \([0-9]*\) tests wait on it.*/\1/p' <<<"$out")
  [ "${waiting:-0}" -gt 100 ] && pass "the group counts the tests waiting on the stub ($waiting)" ||
    fail "expected over 100 tests waiting on sum_backward, got '$waiting'"
  out=$(tito_in "$COPY" milestone run 01)
  expect_contains "$out" "milestone 01 (1957 The perceptron) is locked: modules 05-07 are not done yet" "locked milestone refused"
  out=$(tito_in "$COPY" grade "$COPY"); rc=$?
  [ $rc -ne 0 ] && pass "grade refuses to run in a student copy" || fail "grade ran in a student copy"
  expect_contains "$out" "grade runs in the teacher's tree" "grade in a copy says where it runs"
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
  for ms in 01 02 03 04; do expect_contains "$(row "$status" "$ms 1")" "locked (missing 07)" "milestone $ms needs module 07"; done
  # The programs themselves, whatever tito says: each one stops at one of module 07's stubs.
  cmake --build "$COPY/build" --target perceptron_1957 xor_1969 mlp_1986 cnn_1998 >/dev/null 2>&1 ||
    fail "building the milestone programs"
  for program in perceptron_1957 xor_1969 mlp_1986 cnn_1998; do
    out=$(cd "$COPY" && "build/milestones/$program" --epochs 1 --quiet 2>&1); rc=$?
    [ $rc -ne 0 ] && grep -q "not implemented: 07_training: " <<<"$out" && pass "$program runs the student's module-07 code" ||
      { fail "$program did not stop at a module-07 stub:"; echo "$out" | tail -5; }
  done
}

# Which exercises each milestone runs: a copy with every solution kept, where each exercise
# announces itself the first time it runs. Every module a milestone needs must show up, and
# the list must be the one docs/modules/README.md gives for the milestone.
milestones_run_student_code() {
  local traced=$WORK/traced out
  rm -rf "$traced"
  out=$(tito_in "$SRC" release --student "$traced" --keep 01-09) || { fail "release: $out"; return; }
  python3 - "$traced" <<'PY' || { fail "adding the trace lines"; return; }
import os, re, sys
begin = re.compile(r"^(\s*)// BEGIN SOLUTION\s+(\S+)\s+(\S+)\s*$")
for folder, _, files in os.walk(os.path.join(sys.argv[1], "tinytorch")):
    for name in files:
        path = os.path.join(folder, name)
        lines = open(path, encoding="utf-8").read().split("\n")
        out, traced = [], False
        for line in lines:
            out.append(line)
            m = begin.match(line)
            if m:
                traced = True
                out.append(f'{m.group(1)}{{ static const int traced_ = std::fprintf(stderr, "exercise ran: {m.group(2)} {m.group(3)}\\n"); (void)traced_; }}')
        if traced:
            open(path, "w", encoding="utf-8").write("#include <cstdio>\n" + "\n".join(out))
PY
  cmake -S "$traced" -B "$traced/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTINYTORCH_BUILD_TESTS=OFF >/dev/null 2>&1 &&
    cmake --build "$traced/build" --target perceptron_1957 xor_1969 mlp_1986 cnn_1998 >"$WORK/traced-build.log" 2>&1 ||
    { fail "building the traced copy"; tail -20 "$WORK/traced-build.log"; return; }
  local ms program needs documented ran module
  # "runs" are the modules whose exercises the program must reach (the perceptron and XOR
  # call no module-01 exercise themselves); "needs" is tito's unlock list, which every exercise
  # the program reaches must be inside.
  for entry in "01 perceptron_1957 2-7 1-7" "02 xor_1969 2-7 1-7" "03 mlp_1986 1-8 1-8" "04 cnn_1998 1-9 1-9"; do
    read -r ms program runs needs <<<"$entry"
    ran=$(cd "$traced" && "build/milestones/$program" --epochs 1 --quiet 2>&1 >/dev/null | sed -n 's/^exercise ran: //p' | sort -u)
    for module in $(seq "${runs%-*}" "${runs#*-}"); do
      grep -q "^0$module" <<<"$ran" && pass "milestone $ms runs exercises of module 0$module" ||
        fail "milestone $ms runs no exercise of module 0$module"
    done
    expect_contains "$(row "$(tito_in "$SRC" --build-dir "$BUILD" status)" "$ms 1")" "0${needs%-*}-0${needs#*-} " "tito's unlock list for milestone $ms"
    for module in $(sed 's/_.*//' <<<"$ran" | sort -u); do
      [ "${module#0}" -ge "${needs%-*}" ] && [ "${module#0}" -le "${needs#*-}" ] && pass "milestone $ms: module $module is in its unlock list" ||
        fail "milestone $ms runs module $module's exercises but does not need it"
    done
    documented=$(sed -n "s/^<!-- milestone $ms runs: \(.*\) -->$/\1/p" "$SRC/docs/modules/README.md" | tr ' ' '\n' | sed 's/:/ /' | sort -u)
    [ "$documented" = "$ran" ] && pass "milestone $ms: the guide lists exactly the exercises it runs" ||
      { fail "milestone $ms: docs/modules/README.md lists other exercises than it runs; it runs:"; echo "$ran" | tr '\n' ' ' | sed 's/ \([0-9][0-9]_\)/ \1/g'; echo; }
  done
}

# tito grade, in the teacher's tree, over a class of three copies released with 01-04 kept:
# ada wrote three exercises of module 05; bob wrote the same and then tried to game the grade
# (a test file that skips every test, an edited test that asserts nothing); cat wrote the same
# plus a module-06 exercise that does not compile and a module-08 exercise that never returns.
grade_class() {
  local class=$WORK/class out rc student
  rm -rf "$class" && mkdir -p "$class"
  for student in ada bob cat; do
    out=$(tito_in "$SRC" release --student "$class/$student" --keep 01-04) || { fail "release: $out"; return; }
    for exercise in sum_backward mul_backward add_backward; do
      python3 "$HERE/answer.py" "$class/$student" 05_autograd $exercise --from "$SRC" || fail "answer $exercise"
    done
  done
  cat >"$class/bob/tests/07_training/zz_skip_test.cpp" <<'CPP'
#include <gtest/gtest.h>
struct SkipAll : ::testing::Environment { void SetUp() override { GTEST_SKIP(); } };
static auto* const skip_all = ::testing::AddGlobalTestEnvironment(new SkipAll);
CPP
  for f in "$class"/bob/tests/05_autograd/*.cpp; do printf '#include <gtest/gtest.h>\nTEST(Autograd, Fine) {}\n' >"$f"; done
  python3 "$HERE/answer.py" "$class/cat" 06_optimizers sgd_step --body '  this is not C++;' || fail "answer sgd_step"
  python3 "$HERE/answer.py" "$class/cat" 08_dataloader collate --body '  for (volatile int spin = 0;; spin = spin + 0) {}' || fail "answer collate"

  out=$(tito_in "$SRC" --build-dir "$BUILD" grade "$class" --csv "$WORK/grades.csv" --time-limit 20); rc=$?
  echo "$out" | grep -v "^  building" | head -80
  [ $rc -ne 0 ] && pass "grade exits non-zero when a module does not build" || fail "grade exited 0"
  expect_contains "$out" "this is not C++" "grade shows the compiler's message"
  python3 - "$WORK/grades.csv" "$BUILD/tests/test_05_autograd" "$class/ada/build/tests/test_05_autograd" <<'PY'
import csv, subprocess, sys
rows = {r["student"]: r for r in csv.DictReader(open(sys.argv[1]))}
failures = 0
def check(ok, what):
    global failures
    print(("ok: " if ok else "FAIL: ") + what)
    failures += not ok
def listed(binary):
    out = subprocess.run([binary, "--gtest_list_tests", "--gtest_filter=-*Given.*"], capture_output=True, text=True).stdout
    return sum(1 for line in out.splitlines() if line.startswith("  "))
check(sorted(rows) == ["ada", "bob", "cat"], "one CSV row per student: %s" % sorted(rows))
ada, bob, cat = rows["ada"], rows["bob"], rows["cat"]
check(0 < float(ada["05_score"]) < 60, "ada's module 05 scores part of its 60 points: " + ada["05_score"])
check(all(ada[f"0{n}_note"].startswith("kept") for n in range(1, 5)), "kept modules are marked")
check(ada["kept"] == "01 02 03 04", "the CSV names the kept modules: " + ada["kept"])
check(float(ada["total"]) == float(ada["05_score"]) and ada["max"] == "325", "kept modules count for nothing: total %s of %s" % (ada["total"], ada["max"]))
same = [k for k in ada if k != "student" and ada[k] != bob[k]]
check(not same, "bob's skip-injected and edited tests change nothing: " + ", ".join(f"{k} {ada[k]} vs {bob[k]}" for k in same))
check(cat["05_score"] == ada["05_score"], "cat's compile error in 06 leaves 05 graded as ada's")
check(cat["06_note"].startswith("build error: tinytorch/core/optimizers.cpp:") and " error: " in cat["06_note"] and float(cat["06_score"]) == 0, "cat's 06 is a build error in the CSV: " + cat["06_note"])
check("time limit" in cat["08_note"] and float(cat["08_score"]) == 0, "cat's endless loop costs module 08 only: " + cat["08_note"])
check(all(cat[f"0{n}_note"] == ada[f"0{n}_note"] for n in range(1, 6)), "cat's modules 01-05 are graded as ada's")
check(cat["07_tests"] == ada["07_tests"] and int(cat["07_tests"]) > 0, "cat's module 07 still runs its tests (a stub's warnings are no build error)")
teacher = listed(sys.argv[2])
check(int(ada["05_tests"]) == teacher, "grade runs the teacher's module-05 tests (%s of %d)" % (ada["05_tests"], teacher))
sys.exit(1 if failures else 0)
PY
  [ $? -eq 0 ] || failures=$((failures + 1))
  grep -q "AutogradHidden" "$BUILD/tito/grade/build/tito/05_autograd.list" 2>/dev/null &&
    pass "the hidden tests run in the grade" || fail "the hidden tests did not run in the grade"
  [ ! -e "$class/ada/tests/hidden" ] && pass "the hidden tests are not in the copies" || fail "hidden tests in a copy"
}

solution() {
  local status
  status=$(tito_in "$SRC" --build-dir "$BUILD" status)
  echo "$status"
  expect_states "$status" 1 9 "done"
  for ms in 01 02 03 04; do expect_contains "$(row "$status" "$ms 1")" "unlocked" "(d) milestone $ms unlocked in the solution"; done
  # --report passes through, and a relative path is where the user stands, not the root.
  # (tito finds the project from where it stands: a fresh folder in tito's own, inside the
  # tree; only what the test made is removed after.)
  local here out made_state=0
  [ -d "$SRC/.tito" ] || made_state=1
  mkdir -p "$SRC/.tito" && here=$(mktemp -d "$SRC/.tito/report-test.XXXXXX")
  out=$(cd "$here" && "$TITO" --build-dir "$BUILD" milestone run 01 --report first.html -- --epochs 2 --quiet 2>&1)
  expect_contains "$out" "report: $here/first.html" "milestone run --report says where the page is"
  [ -s "$here/first.html" ] && pass "the report is written beside the user" || fail "no report in $here: $out"
  out=$(cd "$here" && "$TITO" --build-dir "$BUILD" milestone run 01 -- --epochs 2 --quiet --report=second.html 2>&1)
  [ -s "$here/second.html" ] && pass "a --report= flag after -- is the user's path too" || fail "no second report: $out"
  rm -rf "$here"
  [ "$made_state" -eq 0 ] || rmdir "$SRC/.tito" 2>/dev/null || true
}

mkdir -p "$WORK"
"$step"
echo "$failures failure(s)"
[ "$failures" -eq 0 ]
