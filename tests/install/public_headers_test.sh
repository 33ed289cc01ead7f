#!/usr/bin/env bash
# Installs this build into a scratch prefix and checks what a user of the package gets: public
# headers only. Fails if an installed header names an internal (detail::) symbol, opens a
# detail namespace, or includes a header that was not installed (a detail/ or internal/ one).
#   public_headers_test.sh BUILD_DIR
set -euo pipefail
build=$1
prefix=$(mktemp -d "${TMPDIR:-/tmp}/tinytorch-install.XXXXXX")
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null

include=$prefix/include
test -f "$include/tinytorch/tinytorch.hpp" || { echo "FAIL: tinytorch.hpp was not installed"; exit 1; }
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

for dir in detail core/internal io/internal; do
  [[ -e $include/tinytorch/$dir ]] && fail "tinytorch/$dir/ was installed"
done
headers=$(cd "$include" && find tinytorch -name '*.hpp' | sort)
for header in $headers; do
  # Comments may mention internals by name; code may not.
  code=$(sed -e 's|//.*$||' "$include/$header")
  if grep -nE '\bdetail::|namespace[[:space:]]+([a-z_:]*::)?detail\b' <<<"$code" >/dev/null; then
    fail "$header names an internal symbol: $(grep -nE '\bdetail::|namespace.*detail' <<<"$code" | head -1)"
  fi
  while read -r included; do
    [[ -f $include/$included ]] || fail "$header includes <$included>, which is not installed"
  done < <(grep -oE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<tinytorch/[^>]+>' <<<"$code" |
           sed -E 's/.*<([^>]+)>/\1/')
done
echo "$(wc -w <<<"$headers") installed headers checked"
exit $((failures > 0))
