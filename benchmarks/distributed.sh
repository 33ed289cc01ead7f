#!/usr/bin/env bash
# LeNet-5 on Fashion-MNIST (3 epochs, 60,000 images) in alternating configurations, each run a
# job of its own: 1 process × 1 thread, 2 processes × 1 thread (fast mode, and deterministic
# mode with 2 shards), 1 process × 2 threads; and, as the ceiling, 2 processes that each train
# alone on their half with nothing averaged (2x1-independent: not a training). Prints each
# configuration's median training time and test accuracy, the speed-ups over 1 × 1, and what
# averaging cost at 2 processes.
#   bash benchmarks/distributed.sh [ROUNDS] [EPOCHS] [LIMIT]     (defaults 5, 3, 0 = all)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
epochs=${2:-3}
limit=${3:-0}
for arg in "$rounds" "$epochs"; do
  [[ $arg =~ ^[1-9][0-9]*$ ]] || { echo "distributed.sh: ROUNDS and EPOCHS must be positive whole numbers, got '$arg'" >&2; exit 2; }
done
[[ $limit =~ ^[0-9]+$ ]] || { echo "distributed.sh: LIMIT must be a whole number (0 = all images), got '$limit'" >&2; exit 2; }
bench=${BENCH:-build/benchmarks/distributed_bench}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpirun=(mpirun --oversubscribe --mca btl self,vader --bind-to none)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
run() {  # NAME NP THREADS MODE
  "${mpirun[@]}" -np "$2" "$bench" train --epochs "$epochs" --limit "$limit" --threads "$3" \
    --mode "$4" | grep '^result' | sed "s/^result /result config=$1 /" >>"$out"
}
for ((r = 1; r <= rounds; r++)); do
  run 1x1 1 1 fast
  run 2x1 2 1 fast
  run 1x2 1 2 fast
  run 2x1-deterministic 2 1 deterministic
  run 2x1-no-overlap 2 1 fast-no-overlap
  run 2x1-independent 2 1 independent
  echo "round $r/$rounds done" >&2
done
python3 - "$out" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    fields = dict(f.split("=", 1) for f in line.split()[1:])
    runs.setdefault(fields["config"], []).append(fields)
def med(config, key):
    return statistics.median(float(r[key]) for r in runs[config])
def paired(a, b):
    # Median over rounds of a's time / b's time in the same round: a drift of the machine's
    # speed between rounds cancels out.
    return statistics.median(float(x["train_s"]) / float(y["train_s"])
                             for x, y in zip(runs[a], runs[b]))
print("| configuration | train s (median) | speed-up over 1 × 1 (paired) | test accuracy | runs |")
print("| --- | ---: | ---: | ---: | ---: |")
for config in ["1x1", "2x1", "1x2", "2x1-deterministic", "2x1-no-overlap", "2x1-independent"]:
    t = med(config, "train_s")
    accs = sorted({r["test_accuracy"] for r in runs[config]})
    acc = (f"{100 * float(accs[0]):.2f} %"
           f"{'' if len(accs) == 1 else ' – ' + format(100 * float(accs[-1]), '.2f') + ' %'}")
    if config == "2x1-independent":
        acc = "— (not a training)"
    print(f"| {config} | {t:.2f} | {paired('1x1', config):.2f}× | {acc} | {len(runs[config])} |")
print()
print(f"fast mode at 2 processes, per step: {int(med('2x1', 'bytes_per_step'))} bytes averaged, "
      f"allreduce {med('2x1', 'allreduce_ms_per_step'):.3f} ms, waited for {med('2x1', 'wait_ms_per_step'):.3f} ms, "
      f"hidden behind backward {100 * med('2x1', 'hidden_share'):.0f} % "
      f"(without overlap: {100 * med('2x1-no-overlap', 'hidden_share'):.0f} %)")
print(f"waited for in finish() per step, mean over both processes: "
      f"{med('2x1', 'wait_ms_per_step_all'):.3f} ms (each step waits for the slower process)")
print(f"averaging at 2 processes: fast mode took {paired('2x1', '2x1-independent'):.3f}× the time of "
      f"the same two processes training alone on their halves (paired)")
print(f"deterministic mode (2 shards) over fast mode at 2 processes: "
      f"{paired('2x1-deterministic', '2x1'):.3f}× the time (paired)")
print("every run, train s per round: " + "; ".join(
    f"{c} " + " ".join(r["train_s"] for r in runs[c]) for c in runs))
PY
