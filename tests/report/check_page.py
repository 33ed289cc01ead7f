#!/usr/bin/env python3
"""Runs a milestone with --report and checks the page it writes.

  check_page.py PROGRAM KIND [ARGS...]      KIND: cnn, lenet, mlp, perceptron or xor
  check_page.py mpirun [MPI ARGS...] KIND PROGRAM [ARGS...]   the same over several processes

The page must parse as XML (it is XHTML), reference nothing outside itself, have the sections
of its kind, the right number of kernels and feature maps for the model, and a confusion
matrix that sums to the test set with the diagonal the program printed as its accuracy.
Exit 77 (skipped) when the program says its data is missing (exit 2).
"""
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

XHTML = "{http://www.w3.org/1999/xhtml}"
SVG = "{http://www.w3.org/2000/svg}"

# kernels after training, kernels before (first layer), feature maps of the first image
EXPECTED = {
    "cnn": dict(sections={"run", "curves", "kernels", "feature-maps", "confusion", "mistakes"},
                kernels=8, before=8, maps=8 * 3, classes=10),
    "lenet": dict(sections={"run", "curves", "kernels", "feature-maps", "confusion", "mistakes"},
                  kernels=6 + 16 * 6, before=6, maps=6 * 3 + 16 * 3, classes=10),
    "mlp": dict(sections={"run", "curves", "confusion", "mistakes"}, kernels=0, before=0, maps=0,
                classes=10),
    "perceptron": dict(sections={"run", "curves", "decision"}, kernels=0, before=0, maps=0),
    "xor": dict(sections={"run", "curves", "decision"}, kernels=0, before=0, maps=0),
}


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def with_class(root, cls):
    return [e for e in root.iter() if cls in (e.get("class") or "").split()]


def main():
    argv = sys.argv[1:]
    at = next(i for i, a in enumerate(argv) if a in EXPECTED)  # the KIND word
    kind = argv[at]
    command = argv[:at] + argv[at + 1:]
    program = command[0]
    expected = EXPECTED[kind]
    with tempfile.TemporaryDirectory() as tmp:
        page_path = os.path.join(tmp, "run.html")
        run = subprocess.run([*command, "--report", page_path], capture_output=True,
                             text=True, timeout=600)
        print(run.stdout[-3000:])
        print(run.stderr[-3000:], file=sys.stderr)
        if run.returncode == 2 and kind == "lenet":
            print("skipped: the Fashion-MNIST data is not installed")
            sys.exit(77)
        if run.returncode != 0:
            fail(f"{program} exited with {run.returncode}")
        last = run.stdout.strip().splitlines()[-1]
        if not last.startswith("report: ") or page_path not in last:
            fail(f"the program's last line should say where the report is, got {last!r}")
        text = open(page_path, encoding="utf-8").read()
        leftovers = [f for f in os.listdir(tmp) if f != "run.html"]
        if leftovers:
            fail(f"files left beside the report: {leftovers}")

    root = ET.fromstring(text.encode("utf-8"))  # raises on a page that is not well-formed
    if root.tag != XHTML + "html":
        fail(f"the root element is {root.tag}")
    for bad in ("<script", "src=", "url(", "@import", 'href="http'):
        if bad in text:
            fail(f"the page references something outside itself: {bad}")
    sections = {s.get("id") for s in root.iter(XHTML + "section")}
    if sections != expected["sections"]:
        fail(f"sections {sorted(sections)}, expected {sorted(expected['sections'])}")
    counts = {"kernels": len(with_class(root, "kernel")),
              "before": len(with_class(root, "kernel-before")),
              "maps": len(with_class(root, "feature-map"))}
    for key, n in counts.items():
        if n != expected[key]:
            fail(f"{n} {key}, expected {expected[key]}")
    for image in root.iter(SVG + "image"):
        if not image.get("href", "").startswith("data:image/png;base64,"):
            fail("an image is not an inline PNG")

    if "classes" in expected:
        cells = with_class(root, "cell")
        if len(cells) != expected["classes"] ** 2:
            fail(f"{len(cells)} confusion cells, expected {expected['classes'] ** 2}")
        total = sum(int(c.get("data-count")) for c in cells)
        right = sum(int(c.get("data-count")) for c in cells
                    if c.get("data-truth") == c.get("data-predicted"))
        m = re.search(r"result: test accuracy ([0-9.]+)%", run.stdout)
        if not m:
            fail("no 'result: test accuracy' line")
        printed = float(m.group(1))
        if f"{100 * right / total:.1f}" != f"{printed:.1f}":
            fail(f"the diagonal is {right} of {total} = {100 * right / total:.2f}%, the program "
                 f"printed {printed}%")
        m = re.search(r"(\d+) test images", run.stdout)
        if m and int(m.group(1)) != total:
            fail(f"the confusion matrix counts {total} images, the test set has {m.group(1)}")
        mistakes = len(with_class(root, "mistake"))
        if mistakes != min(16, total - right):
            fail(f"{mistakes} mistakes shown, expected {min(16, total - right)}")
        print(f"confusion matrix: {right} of {total} right ({100 * right / total:.1f}%)")
    charts = {c.get("data-chart") for c in with_class(root, "chart")}
    if not {"loss", "accuracy"} <= charts:
        fail(f"charts {charts}: expected loss and accuracy")
    print(f"ok: {kind} page, {len(text)} bytes, sections {sorted(sections)}, {counts}")


if __name__ == "__main__":
    main()
