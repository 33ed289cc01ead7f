#!/usr/bin/env bash
# The README's picture of the training report: the page of a full cnn_1998 run, screenshotted
# by headless Chromium with the same command the browser test uses (tests/report/browser.py).
#   bash scripts/report-screenshot.sh [OUT.png]        (default docs/report.png; BUILD=build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
out=${1:-docs/report.png}
cmake --build "$build" --target cnn_1998
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$build/milestones/cnn_1998" --quiet --threads 1 --report "$tmp/cnn.html" | tail -1
python3 - "$tmp/cnn.html" "$out" <<'PY'
import sys
sys.path.insert(0, "tests/report")
import browser
chromium = browser.find_chromium()
if chromium is None:
    sys.exit("no chromium: apt-get install chromium")
height = min(int(browser.layout(chromium, sys.argv[1])["height"]), 16000)
browser.screenshot(chromium, sys.argv[1], sys.argv[2], height)
print(f"{sys.argv[2]}: {browser.WIDTH}×{height}")
PY
