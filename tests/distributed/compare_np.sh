#!/usr/bin/env bash
# Deterministic mode gives the same weights, bit for bit, at every process and thread count:
#   compare_np.sh MPIRUN TEST_BINARY OUTPUT_FOLDER
# runs the DeterministicAcrossWorlds tests at np 1 (one thread, then two), np 2 and np 4; each
# run writes one record per model (its losses as hex floats and the hash of its final weights
# and buffers), and every record must equal the np 1, one-thread run's.
set -u
mpirun=$1 binary=$2 out=$3
rm -rf "$out"
run() {  # name, processes, threads
  mkdir -p "$out/$1"
  TINYTORCH_DETERMINISM_OUT="$out/$1" TINYTORCH_TEST_THREADS=$3 \
    "$mpirun" --oversubscribe --mca btl self,vader -np "$2" "$binary" \
    --gtest_filter='DeterministicAcrossWorlds.*' --gtest_brief=1 ||
    { echo "FAIL: the run at np $2 with $3 thread(s) failed"; exit 1; }
}
run np1_threads1 1 1
run np1_threads2 1 2
run np2 2 1
run np4 4 1
records=$(ls "$out/np1_threads1")
[ -n "$records" ] || { echo "FAIL: the reference run wrote no record"; exit 1; }
echo "records: $(echo $records)"
status=0
for other in np1_threads2 np2 np4; do
  if diff -r "$out/np1_threads1" "$out/$other"; then
    echo "ok: $other is bit-identical to np1_threads1"
  else
    echo "FAIL: $other differs from np1_threads1 (above)"
    status=1
  fi
done
exit $status
