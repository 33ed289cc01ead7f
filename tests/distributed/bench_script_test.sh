#!/usr/bin/env bash
# benchmarks/distributed.sh still runs every configuration and prints its table (one round, one
# epoch, 640 images: a check that the benchmark works, not a measurement):
#   bench_script_test.sh SCRIPT BENCH
# Skips (77) without the Fashion-MNIST files the benchmark reads.
set -euo pipefail
script=$1 bench=$2
data=/usr/share/datasets/fashion-mnist
if [ ! -f "$data/train-images-idx3-ubyte.gz" ]; then
  echo "no Fashion-MNIST in $data (dataset-fashion-mnist): skipped"
  exit 77
fi
out=$(BENCH=$bench timeout 120 bash "$script" 1 1 640)
echo "$out"
failures=0
for config in 1x1 2x1 1x2 2x1-deterministic 2x1-no-overlap 2x1-independent; do
  # Each configuration's row: its name, a time, a speed-up and one run.
  if ! grep -qE "^\| $config \| [0-9]+\.[0-9]+ \| [0-9]+\.[0-9]+× \| .* \| 1 \|$" <<<"$out"; then
    echo "FAIL: no table row for $config"
    failures=$((failures + 1))
  fi
done
# 2 processes average 246,824 bytes of LeNet-5 gradients per step.
for line in "per step: 246824 bytes averaged" "mean over both processes" \
            "training alone on their halves" "over fast mode at 2 processes"; do
  if ! grep -qF "$line" <<<"$out"; then
    echo "FAIL: no line with '$line'"
    failures=$((failures + 1))
  fi
done
exit $((failures > 0))
