#!/usr/bin/env bash
# `tito release --student DIR [--force]` never touches what it did not write.
#
#   release_safety_test.sh  with TITO (the tito binary), SRC (this source tree), BUILD (its
#                           build folder, unused) and WORK (a scratch folder) in the environment
#
# A sandbox under $WORK/sandbox holds victim files: a fake home folder, a folder of unrelated
# work, a scratch project (the "source tree" tito runs in), symbolic links into all of these
# and folders that look almost like a student copy. tito is aimed at each of them, with and
# without --force; every attempt must fail, say why, and leave every file of the sandbox as it
# was (a checksum list of the sandbox is compared after each attempt). Then the happy path, on
# a fake project under $WORK/happy: a new copy, --force over it (a file the student added in
# the copy is gone afterwards, by design: --force replaces everything but the copy's build*
# folders), and --force over a copy holding links to victims outside it (the links go, the
# victims stay).
#
# Nothing outside $WORK can be changed by this script, even with a broken tito: where the
# system allows it (root, or unprivileged user namespaces) the script runs itself again in a
# private mount namespace in which every mount except $WORK is read-only, and only there does
# it aim tito at targets outside $WORK (/, the user's real home folder, the source tree $SRC).
# Elsewhere those cases print "skip:" and every target and every link lies inside $WORK.
# RELEASE_SAFETY_GUARD=off runs without the namespace (to try the test on an older tito).
set -uo pipefail
: "${TITO:?}" "${SRC:?}" "${BUILD:?}" "${WORK:?}"
export NO_COLOR=1
mkdir -p "$WORK" || exit 1
WORK=$(cd "$WORK" && pwd -P) && SRC=$(cd "$SRC" && pwd -P) && TITO=$(realpath "$TITO") || exit 1
case "$SRC/" in "$WORK"/*) echo "WORK ($WORK) must not contain SRC ($SRC)"; exit 1 ;; esac
[ "$WORK" != / ] || { echo "WORK must not be /"; exit 1; }

# ---- the read-only guard ---------------------------------------------------------------------

# True when every mount point but $WORK (and what lies below it) is read-only here.
outside_work_read_only() {
  local -A top
  local mnt opts
  while read -r _ _ _ _ mnt opts _; do top[$mnt]=$opts; done </proc/self/mountinfo
  for mnt in "${!top[@]}"; do  # the last entry of a path is the mount on top
    case "$mnt" in "$WORK" | "$WORK"/*) continue ;; esac
    case ",${top[$mnt]}," in *,ro,*) ;; *) return 1 ;; esac
  done
}

if [ "${1:-}" = --in-namespace ]; then
  # Inside the private mount namespace: $WORK stays writable, everything else becomes read-only.
  mount --bind "$WORK" "$WORK" || exit 125
  while read -r _ _ _ _ mnt _; do
    mount -o remount,bind,ro "$(printf '%b' "$mnt")" 2>/dev/null
  done </proc/self/mountinfo
  mount -o remount,bind,rw "$WORK" || exit 125
  outside_work_read_only || exit 125
elif [ "${RELEASE_SAFETY_GUARD:-on}" != off ] && command -v unshare >/dev/null; then
  ns=(--mount --propagation private)
  [ "$(id -u)" -eq 0 ] || ns=(--user --map-root-user "${ns[@]}")
  if unshare "${ns[@]}" -- true 2>/dev/null; then
    unshare "${ns[@]}" -- bash "$0" --in-namespace
    rc=$?
    [ $rc -eq 125 ] || exit $rc  # 125: the namespace could not be made read-only
  fi
fi
guarded=false
[ "${RELEASE_SAFETY_GUARD:-on}" != off ] && [ -r /proc/self/mountinfo ] && outside_work_read_only && guarded=true

# ---- helpers -----------------------------------------------------------------------------------

failures=0 passes=0 skips=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; passes=$((passes + 1)); }
skip() { echo "skip: $*"; skips=$((skips + 1)); }
expect_contains() { if grep -qF -- "$2" <<<"$1"; then pass "$3"; else fail "$3: expected '$2' in:"; echo "$1" | head -20; fi; }
expect_lacks() { if grep -qF -- "$2" <<<"$1"; then fail "$3: did not expect '$2' in:"; echo "$1" | head -20; else pass "$3"; fi; }

SB=$WORK/sandbox
FAKE_HOME=$SB/home
P=$SB/outer/project  # the scratch project tito runs in
# tito_in DIR ARGS...: tito run in DIR, with the sandbox's home folder as $HOME
tito_in() { local dir=$1; shift; (cd "$dir" && HOME=$FAKE_HOME "$TITO" "$@" 2>&1); }

# A project with one source file holding one exercise region (see tools/tito/project.cpp).
fake_project() {
  local dir=$1
  rm -rf "$dir" && mkdir -p "$dir/tinytorch/core" && touch "$dir/CMakeLists.txt" "$dir/tinytorch/tinytorch.hpp"
  printf '%s\n' 'int f() {' '  // Hint: return one' '  // BEGIN SOLUTION 01_tensor f' '  return 1;' '  // END SOLUTION' '}' \
    >"$dir/tinytorch/core/ops.cpp"
}

# Every path of the sandbox with its type, mode and link target, and every file's checksum.
snapshot() {
  (cd "$SB" && find . -printf '%y %m %p -> %l\n' | LC_ALL=C sort &&
    find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
}
BEFORE=

# unchanged WHAT: the sandbox is as it was before the first attempt (when not, it is built
# again, so that the next case is judged on its own).
unchanged() {
  local now; now=$(snapshot)
  if [ "$now" = "$BEFORE" ]; then pass "$1: every victim file is still there, unchanged"; else
    fail "$1: the sandbox changed:"; diff <(echo "$BEFORE") <(echo "$now") | head -20
    build_sandbox && [ "$(snapshot)" = "$BEFORE" ] || { echo "cannot rebuild the sandbox"; exit 1; }
  fi
}

# refused WHAT FRAGMENT DIR ARGS...: tito release run in DIR must fail, say FRAGMENT and that
# nothing was changed, and leave the sandbox as it was.
refused() {
  local what=$1 fragment=$2 dir=$3; shift 3
  local out rc
  out=$(tito_in "$dir" release "$@"); rc=$?
  if [ $rc -ne 0 ]; then pass "$what: refused"; else fail "$what: accepted: $out"; fi
  expect_contains "$out" "$fragment" "$what: says why"
  expect_contains "$out" "nothing was changed" "$what: says nothing was changed"
  unchanged "$what"
}

# attempt TARGET FRAGMENT [FORCE_FRAGMENT]: release into TARGET from the scratch project,
# without and with --force.
attempt() {
  local target=$1 fragment=$2 force_fragment=${3:-$2}
  refused "release --student $target" "$fragment" "$P" --student "$target"
  refused "release --student $target --force" "$force_fragment" "$P" --student "$target" --force
}

# ---- the sandbox -------------------------------------------------------------------------------

build_sandbox() {
  rm -rf "$SB" && mkdir -p "$SB"
  fake_project "$P"
  mkdir -p "$P/docs" "$P/build/obj" && echo guide >"$P/docs/guide.md"
  echo cache >"$P/build/CMakeCache.txt" && echo obj >"$P/build/obj/a.o"
  echo "outer notes" >"$SB/outer/notes.txt"

  mkdir -p "$FAKE_HOME/docs" "$FAKE_HOME/.config"
  echo "alias ll='ls -l'" >"$FAKE_HOME/.bashrc"
  echo thesis >"$FAKE_HOME/docs/thesis.txt" && echo settings >"$FAKE_HOME/.config/app.ini"

  mkdir -p "$SB/work/sub/deeper" "$SB/work/.git"
  echo a >"$SB/work/a.txt" && echo b >"$SB/work/sub/b.txt" && echo c >"$SB/work/sub/deeper/c.txt"
  echo head >"$SB/work/.git/HEAD"

  # victims outside every target
  mkdir -p "$SB/victim/dir" "$SB/victim/dot-tito"
  echo precious >"$SB/victim/precious.txt" && echo inner >"$SB/victim/dir/inner.txt"
  local record='{"written_by": "tito release", "kept": [], "released": "2024-01-01"}'
  echo "$record" >"$SB/victim/release.json" && echo "$record" >"$SB/victim/dot-tito/release.json"

  # a folder with unrelated work and links to the victims
  mkdir -p "$SB/has-links" && echo mine >"$SB/has-links/mine.txt"
  ln -s "$SB/victim" "$SB/has-links/victim-dir" && ln -s "$SB/victim/precious.txt" "$SB/has-links/victim-file"

  # folders that look almost like a student copy tito wrote
  mkdir -p "$SB/marker-link/.tito" && echo data >"$SB/marker-link/data.txt"
  ln -s "$SB/victim/release.json" "$SB/marker-link/.tito/release.json"
  mkdir -p "$SB/marker-tito-link" && echo data >"$SB/marker-tito-link/data.txt"
  ln -s "$SB/victim/dot-tito" "$SB/marker-tito-link/.tito"
  mkdir -p "$SB/marker-bad/.tito" && echo data >"$SB/marker-bad/data.txt"
  echo 'not json {' >"$SB/marker-bad/.tito/release.json"
  mkdir -p "$SB/marker-foreign/.tito" && echo data >"$SB/marker-foreign/data.txt"
  echo '{"written_by": "someone else", "kept": [], "released": "2024-01-01"}' >"$SB/marker-foreign/.tito/release.json"
  mkdir -p "$SB/marker-dir/.tito/release.json" && echo data >"$SB/marker-dir/data.txt"
  # a student copy as tito writes it (its record), reached only through a link below
  mkdir -p "$SB/copy-like/.tito" && echo "$record" >"$SB/copy-like/.tito/release.json"
  echo "student work" >"$SB/copy-like/answer.cpp"

  ln -s "$P" "$SB/link-to-project"
  ln -s "$P/docs" "$SB/link-into-project"
  ln -s "$SB/outer" "$SB/link-to-outer"
  ln -s "$FAKE_HOME" "$SB/link-to-home"
  ln -s "$SB/work" "$SB/link-to-work"
  ln -s "$SB/copy-like" "$SB/link-to-copy"
  ln -s "$SB/nowhere" "$SB/dangling"
  ln -s "$P/new-folder" "$SB/dangling-into-project"
  if $guarded; then ln -s / "$SB/link-to-root"; fi
}

# ---- the dangerous targets ---------------------------------------------------------------------

dangerous_targets() {
  if $guarded; then
    refused "release --student / (from the solution tree)" "/ is the root of the file system" "$SRC" --student /
    attempt / "/ is the root of the file system"
    attempt "$SB/link-to-root" "(which leads to /) is the root of the file system"
    local home; home=$(getent passwd "$(id -u)" | cut -d: -f6)
    if [ -n "$home" ] && [ -d "$home" ]; then
      attempt "$home" "is your home folder (the home folder of user"
    else skip "no home folder in the password database"; fi
  else
    skip "/, a link to / and the real home folder: no read-only mount namespace here"
  fi

  attempt "$FAKE_HOME" "is your home folder (\$HOME)"
  attempt "$SB/link-to-home" "(which leads to $FAKE_HOME) is your home folder"
  attempt "$SB" "contains your home folder $FAKE_HOME"

  attempt "$P" "is the project tito runs in"
  refused "release --student . --force" "is the project tito runs in" "$P" --student . --force
  refused "release --student ./ --force" "is the project tito runs in" "$P" --student ./ --force
  attempt "$P/build" "is inside the project $P"
  attempt "$P/build/x" "is inside the project $P"
  attempt "$P/docs" "is inside the project $P"
  attempt "$P/docs/x" "is inside the project $P"
  attempt "$P/tinytorch" "is inside the project $P"
  refused "release --student docs/../build/x (relative)" "is inside the project $P" "$P" --student docs/../build/x --force
  refused "release --student build/x from inside build/" "is inside the project $P" "$P/build" --student x --force

  attempt "$SB/outer" "contains the project $P"
  refused "release --student .. --force" "contains the project $P" "$P" --student .. --force
  refused "release --student ../ --force" "contains the project $P" "$P" --student ../ --force
  refused "release --student ../.. --force" "contains your home folder" "$P" --student ../.. --force

  attempt "$SB/link-to-project" "(which leads to $P) is the project tito runs in"
  attempt "$SB/link-to-project/docs/new" "is inside the project $P"
  attempt "$SB/link-into-project" "(which leads to $P/docs) is inside the project $P"
  attempt "$SB/link-into-project/new" "is inside the project $P"
  attempt "$SB/link-to-outer" "(which leads to $SB/outer) contains the project $P"
  attempt "$SB/dangling-into-project" "is a symbolic link (to $P/new-folder)"
  attempt "$SB/dangling-into-project/sub" "passes through the symbolic link $SB/dangling-into-project"

  attempt "$SB/work" "is not empty; choose a new folder, or add --force" \
    "does not look like a student copy tito wrote (it has no .tito/release.json)"
  attempt "$SB/has-links" "does not look like one (it has no .tito/release.json)" \
    "does not look like a student copy tito wrote"
  attempt "$SB/link-to-work" "is a symbolic link (to $SB/work)"
  attempt "$SB/link-to-work/" "is a symbolic link (to $SB/work)"
  attempt "$SB/link-to-copy" "is a symbolic link (to $SB/copy-like)"
  attempt "$SB/link-to-copy/." "is a symbolic link (to $SB/copy-like)"
  attempt "$SB/dangling" "is a symbolic link (to $SB/nowhere)"
  attempt "$SB/marker-link" "its .tito/release.json is a symbolic link"
  attempt "$SB/marker-tito-link" "its .tito is a symbolic link"
  attempt "$SB/marker-bad" "its .tito/release.json is not the record tito release writes"
  attempt "$SB/marker-foreign" "its .tito/release.json is not the record tito release writes"
  attempt "$SB/marker-dir" "its .tito/release.json is not a regular file"
  attempt "$SB/victim/precious.txt" "is a file, not a folder"

  # The solution tree itself, only where nothing but $WORK can change.
  if ! $guarded; then
    skip "the solution tree \$SRC as a target: no read-only mount namespace here"
    return
  fi
  local new
  for new in "$SRC/build/x" "$SRC/docs/x"; do
    if [ -e "$new" ] || [ -L "$new" ]; then skip "$new exists already"; continue; fi
    refused "release --student $new (solution tree)" "is inside the project $SRC" "$SRC" --student "$new"
    refused "release --student $new --force (solution tree)" "is inside the project $SRC" "$SRC" --student "$new" --force
    [ ! -e "$new" ] && [ ! -L "$new" ] && pass "$new was not created" || fail "$new was created"
  done
  refused "release --student \$SRC --force (solution tree)" "is the project tito runs in" "$SRC" --student "$SRC" --force
  # Refused either way; the reason tito gives first is the home folder when the tree's parent
  # holds this test's fake home too (a tree cloned straight into /tmp, next to WORK).
  local parent reason="contains the project $SRC"
  parent=$(cd "$SRC/.." && pwd -P)
  case "$(cd "$SB" && pwd -P)/" in "$parent"/*) reason="contains your home folder" ;; esac
  refused "release --student \$SRC/.. --force (solution tree)" "$reason" "$SRC" --student "$SRC/.." --force
  [ -f "$SRC/CMakeLists.txt" ] && [ -f "$SRC/tinytorch/tinytorch.hpp" ] && pass "the solution tree is still there" ||
    fail "the solution tree lost files"
}

# ---- the happy path ----------------------------------------------------------------------------

happy_path() {
  local H=$WORK/happy/project C=$WORK/happy/copy out rc
  rm -rf "$WORK/happy" && fake_project "$H"
  out=$(tito_in "$H" release --student "$C"); rc=$?
  [ $rc -eq 0 ] && pass "release into a new folder" || fail "release into a new folder: $out"
  expect_contains "$out" "1 exercises are stubs" "the region became a stub"
  expect_contains "$(cat "$C/tinytorch/core/ops.cpp" 2>&1)" "BEGIN EXERCISE 01_tensor f" "the copy holds the stub"
  expect_lacks "$(cat "$C/tinytorch/core/ops.cpp" 2>&1)" "return 1;" "the copy lacks the solution"
  expect_contains "$(cat "$C/.tito/release.json" 2>&1)" '"written_by": "tito release"' "the copy has its marker"
  [ "$(ls -A "$WORK/happy")" = "$(printf 'copy\nproject')" ] && pass "no staging folder left over" ||
    fail "left over next to the copy: $(ls -A "$WORK/happy")"

  mkdir -p "$WORK/happy/empty"
  out=$(tito_in "$H" release --student "$WORK/happy/empty"); rc=$?
  [ $rc -eq 0 ] && [ -f "$WORK/happy/empty/.tito/release.json" ] && pass "release into an empty folder" ||
    fail "release into an empty folder: $out"
  rm -rf "$WORK/happy/empty"

  out=$(tito_in "$H" release --student "$C"); rc=$?
  [ $rc -ne 0 ] && pass "a copy without --force: refused" || fail "a copy without --force: accepted"
  expect_contains "$out" "is not empty; choose a new folder, or add --force to write over it (it is a student copy" \
    "a copy without --force: says --force replaces it"

  # What the student did in the copy: a file of their own, a build folder, links out of the copy.
  echo "my notes" >"$C/my-notes.txt"
  echo "int f() { return 2; }" >"$C/tinytorch/core/ops.cpp"
  mkdir -p "$C/build/obj" "$C/build-debug" "$C/deep/er"
  echo "cache of the copy" >"$C/build/CMakeCache.txt" && echo obj >"$C/build/obj/a.o"
  echo dbg >"$C/build-debug/x" && echo file >"$C/deep/er/file"
  ln -s "$SB/victim" "$C/build-link"  # a link named build*: removed, never kept or followed
  ln -s "$SB/victim" "$C/victim-dir-link"
  ln -s "$SB/victim/precious.txt" "$C/tinytorch/victim-file-link"
  ln -s "$SB/victim/dir" "$C/deep/er/victim-link"
  ln -s "$SB/work" "$C/build-debug/work-link"  # inside a kept build folder: stays a link
  echo "new in the solution" >"$H/NEW.md"

  out=$(tito_in "$H" release --student "$C" --force); rc=$?
  [ $rc -eq 0 ] && pass "--force over a copy tito wrote" || fail "--force over a copy tito wrote: $out"
  [ ! -e "$C/my-notes.txt" ] && pass "--force: the student's own file is gone (documented: --force replaces the copy)" ||
    fail "--force: my-notes.txt survived"
  expect_contains "$(cat "$C/tinytorch/core/ops.cpp" 2>&1)" "BEGIN EXERCISE 01_tensor f" "--force: the stub is back"
  [ -f "$C/NEW.md" ] && pass "--force: the new copy has the solution's new file" || fail "--force: NEW.md missing"
  [ "$(cat "$C/build/CMakeCache.txt" 2>&1)" = "cache of the copy" ] && [ -f "$C/build/obj/a.o" ] &&
    [ -f "$C/build-debug/x" ] && pass "--force: the copy's build folders survive" || fail "--force: a build folder is gone"
  [ -L "$C/build-debug/work-link" ] && pass "--force: a link inside a kept build folder is left alone" ||
    fail "--force: build-debug/work-link is gone"
  local gone
  for gone in build-link victim-dir-link tinytorch/victim-file-link deep; do
    [ ! -e "$C/$gone" ] && [ ! -L "$C/$gone" ] && pass "--force: $gone is gone" || fail "--force: $gone survived"
  done
  [ "$(ls -A "$WORK/happy")" = "$(printf 'copy\nproject')" ] && pass "--force: no staging or old copy left over" ||
    fail "--force: left over next to the copy: $(ls -A "$WORK/happy")"
  expect_contains "$(cat "$C/.tito/release.json" 2>&1)" '"written_by": "tito release"' "--force: the new copy has its marker"
  unchanged "--force over a copy with links to victims outside it"

  # A failure leaves the old copy as it was.
  echo "my notes" >"$C/my-notes.txt"
  printf '%s\n' 'int g() {' '  // Hint: two' '  // BEGIN SOLUTION 01_tensor g' '  return 2;' '}' >"$H/tinytorch/core/bad.cpp"
  out=$(tito_in "$H" release --student "$C" --force); rc=$?
  [ $rc -ne 0 ] && pass "--force with a broken marker: refused" || fail "--force with a broken marker: accepted"
  expect_contains "$out" "BEGIN has no matching END" "--force with a broken marker: says why"
  [ -f "$C/my-notes.txt" ] && [ -f "$C/NEW.md" ] && [ -f "$C/build/obj/a.o" ] &&
    pass "--force with a broken marker: the old copy is as it was" || fail "--force with a broken marker: the old copy changed"
  rm "$H/tinytorch/core/bad.cpp"

  # A copy written before release recorded "written_by" is still recognised.
  echo '{"kept": ["01"], "released": "2024-01-01"}' >"$C/.tito/release.json"
  out=$(tito_in "$H" release --student "$C" --force); rc=$?
  [ $rc -eq 0 ] && [ ! -e "$C/my-notes.txt" ] && pass "--force over a copy with the older record" ||
    fail "--force over a copy with the older record: $out"
  unchanged "the happy path"
}

build_sandbox
BEFORE=$(snapshot)
$guarded && pass "running where everything but $WORK is read-only" || skip "no read-only mount namespace: cases outside \$WORK skipped"
dangerous_targets
happy_path
echo "$passes ok, $skips skipped, $failures failure(s)"
[ "$failures" -eq 0 ]
