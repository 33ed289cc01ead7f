#!/usr/bin/env bash
# Builds and runs examples/consumer, an outside project, against tinytorch the ways a user
# would: (a) installed into a temporary prefix and found with find_package(tinytorch), and
# with pkg-config; (b) with add_subdirectory() on this source tree. Also checks that every
# installed header compiles on its own, and that a moved install still finds its digits while
# a missing digits file is an error that says where it looked. Run from anywhere; CI runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d "${TMPDIR:-/tmp}/tinytorch-consumer.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
fail() { echo "check-consumer: $*" >&2; exit 1; }

echo "== (a) install into a temporary prefix, then find_package(tinytorch) =="
cmake -S . -B "$work/build-lib" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX="$prefix" -DTINYTORCH_BUILD_TESTS=OFF -DTINYTORCH_BUILD_PROGRAMS=OFF \
  "${launcher[@]}" >/dev/null
cmake --build "$work/build-lib" -j2 >/dev/null
cmake --install "$work/build-lib" | sed "s|$work|<tmp>|"
cmake -S examples/consumer -B "$work/build-installed" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" "${launcher[@]}"
cmake --build "$work/build-installed" -j2
(cd "$work" && ./build-installed/consumer) | tee "$work/out.txt"
grep -qx "digits: $prefix/share/tinytorch/digits.csv.gz" "$work/out.txt" ||
  fail "the installed consumer did not use the installed digits file"
grep -q 'class="confusion"' "$work/consumer_cnn.safetensors.html" ||
  fail "the installed consumer wrote no training report"

echo "== the installed tinytorch::distributed: one model over two processes =="
test -x "$work/build-installed/consumer_distributed" ||
  fail "the installed package has no tinytorch::distributed (is libopenmpi-dev installed?)"
(cd "$work" && OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 timeout 120 \
  mpirun --oversubscribe --mca btl self,vader -np 2 ./build-installed/consumer_distributed) |
  tee "$work/dist.txt"
grep -q "^2 processes: .*weights equal: yes" "$work/dist.txt" ||
  fail "the distributed consumer did not train over two processes"

echo "== every installed header compiles on its own =="
openblas_flags=$(pkg-config --cflags openblas)
count=0
while IFS= read -r header; do
  echo "#include <$header>" |
    g++ -std=c++17 -fsyntax-only -Wall -Wextra -Werror -isystem "$prefix/include" \
      $openblas_flags -x c++ - || fail "$header does not compile on its own"
  count=$((count + 1))
done < <(cd "$prefix/include" && find tinytorch -name '*.hpp' | sort)
echo "$count headers"

echo "== pkg-config =="
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
echo "pkg-config --cflags --libs tinytorch: $(pkg-config --cflags --libs tinytorch | sed "s|$work|<tmp>|g")"
g++ -std=c++17 -O2 examples/consumer/main.cpp -o "$work/consumer-pc" \
  $(pkg-config --cflags --libs tinytorch)
(cd "$work" && ./consumer-pc pc.safetensors)

echo "== a moved install finds its digits beside the program; none at all is a clear error =="
mv "$prefix" "$work/moved"
rm -rf "$work/build-lib"  # the build tree's copy of the digits goes too
mkdir -p "$work/moved/bin" && cp "$work/build-installed/consumer" "$work/moved/bin/"
(cd "$work" && ./moved/bin/consumer) | grep -x "digits: $work/moved/share/tinytorch/digits.csv.gz" ||
  fail "a consumer in the moved prefix's bin/ did not find the digits beside it"
if (cd "$work" && ./build-installed/consumer) 2>"$work/err.txt"; then
  fail "the consumer found digits that should be gone"
fi
sed "s|$work|<tmp>|g" "$work/err.txt"
grep -q "TINYTORCH_DIGITS" "$work/err.txt" && grep -q "$prefix/share/tinytorch/digits.csv.gz" "$work/err.txt" ||
  fail "the error does not name TINYTORCH_DIGITS and the places it looked in"
(cd "$work" && TINYTORCH_DIGITS="$work/moved/share/tinytorch/digits.csv.gz" ./build-installed/consumer) |
  grep -x "digits: $work/moved/share/tinytorch/digits.csv.gz" || fail "TINYTORCH_DIGITS was not used"

echo "== (b) add_subdirectory() on the source tree =="
cmake -S examples/consumer -B "$work/build-subdir" -G Ninja -DTINYTORCH_SOURCE_DIR="$root" \
  "${launcher[@]}"
grep -qx "CMAKE_BUILD_TYPE:STRING=" "$work/build-subdir/CMakeCache.txt" ||
  fail "add_subdirectory(tinytorch) set the consumer's CMAKE_BUILD_TYPE"
cmake --build "$work/build-subdir" -j2
(cd "$work" && ./build-subdir/consumer subdir.safetensors)
echo "check-consumer: all passed"
