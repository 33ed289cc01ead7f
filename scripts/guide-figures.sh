#!/usr/bin/env bash
# Regenerates the guides' figures in docs/modules/figures:
#   - the diagrams of modules 02, 05, 07 and 09, drawn from what the library computes
#     (tools/diagrams; the test docs.diagrams checks that the committed ones are current);
#   - the learned kernels and feature maps (module 09) and the training curves (module 07)
#     of SimpleCNN, cut out of the report of a full cnn_1998 run (50 epochs, seed 42).
#   bash scripts/guide-figures.sh            (BUILD=build by default)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
cmake --build "$build" --target guide_diagrams cnn_1998
"$build/diagrams/guide_diagrams" docs/modules/figures
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$build/milestones/cnn_1998" --quiet --threads 1 --report "$tmp/cnn.html" | tail -2
python3 scripts/report_figures.py "$tmp/cnn.html" docs/modules/figures
ls -l docs/modules/figures
