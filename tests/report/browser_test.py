#!/usr/bin/env python3
"""The report in a real browser: headless Chromium screenshots the page of a quick cnn_1998
run, and the picture must show it: not blank, and the learned kernels drawn where the page's
layout puts them (checked by the pixel statistics of those regions).

  browser_test.py CNN_1998_PROGRAM

Exit 77 (reported as skipped, never as passed) when there is no Chromium.
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import browser  # noqa: E402
from pngread import read_png  # noqa: E402

WHITE = (255, 255, 255)


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def region(rows, box, inset=1):
    """The pixels of a box (x, y, w, h), a pixel in from its edges."""
    x, y, w, h = (int(round(v)) for v in box)
    out = []
    for yy in range(y + inset, y + h - inset):
        if yy < 0 or yy >= len(rows):
            continue
        row = rows[yy]
        for xx in range(x + inset, x + w - inset):
            if 0 <= 3 * xx < len(row):
                out.append(tuple(row[3 * xx:3 * xx + 3]))
    return out


def kernel_problem(rows, boxes):
    """Why the kernels are not drawn in `boxes` of the screenshot, or None when they are.

    Each kernel is 3×3 cells of the diverging map: no cell is page-white, and a trained
    kernel has several colours."""
    varied = 0
    for box in boxes:
        if box[2] < 20 or box[3] < 20:
            return f"a kernel is drawn {box[2]:.0f}×{box[3]:.0f} px, too small to see"
        pixels = region(rows, box)
        if not pixels:
            return f"the kernel at {box} is outside the screenshot"
        white = sum(1 for p in pixels if p == WHITE) / len(pixels)
        if white > 0.05:
            return (f"the kernel region {[round(v) for v in box]} is {100 * white:.0f}% white: "
                    "nothing is drawn where the layout puts the kernel")
        varied += len(set(pixels)) >= 3
    if varied < len(boxes) * 3 // 4:
        return f"only {varied} of {len(boxes)} kernel regions show several colours"
    return None


def main():
    chromium = browser.find_chromium()
    if chromium is None:
        print("skipped: no chromium found (apt-get install chromium)")
        sys.exit(77)
    program = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        page = os.path.join(tmp, "cnn.html")
        subprocess.run([program, "--epochs", "5", "--quiet", "--report", page], check=True,
                       timeout=300, stdout=subprocess.DEVNULL)
        boxes = browser.layout(chromium, page)
        height = min(int(boxes["height"]), 16000)
        png = os.path.join(tmp, "cnn.png")
        browser.screenshot(chromium, page, png, height)
        width, h, rows = read_png(png)
        hidden = os.path.join(tmp, "hidden.html")
        with open(page, encoding="utf-8") as f, open(hidden, "w", encoding="utf-8") as out:
            out.write(f.read().replace("</style>", ".kernel { visibility: hidden; }</style>"))
        browser.screenshot(chromium, hidden, png, height)
        _, _, hidden_rows = read_png(png)

    if (width, h) != (browser.WIDTH, height):
        fail(f"screenshot {width}×{h}, expected {browser.WIDTH}×{height}")
    # Not blank: a real page has ink and many colours.
    step = 7
    sample = [tuple(rows[y][3 * x:3 * x + 3]) for y in range(0, h, step) for x in range(0, width, step)]
    ink = sum(1 for p in sample if p != WHITE) / len(sample)
    colours = len(set(sample))
    print(f"screenshot {width}×{h}: {100 * ink:.1f}% of sampled pixels not white, {colours} colours")
    if ink < 0.03 or colours < 50:
        fail("the screenshot is (nearly) blank")

    kernels, before = boxes["boxes"]["kernel"], boxes["boxes"]["kernel-before"]
    if len(kernels) != 8 or len(before) != 8:
        fail(f"the layout has {len(kernels)} kernels and {len(before)} before, expected 8 and 8")
    problem = kernel_problem(rows, kernels + before)
    if problem:
        fail(problem)
    # The check sees a page without kernels: the same page with them hidden must fail it.
    if kernel_problem(hidden_rows, kernels + before) is None:
        fail("the kernel check passes a screenshot whose kernels are hidden: it checks nothing")
    # The two kernel grids lie side by side (before | after) on one row.
    if not (max(b[0] for b in before) < min(k[0] for k in kernels)
            and abs(before[0][1] - kernels[0][1]) < 2):
        fail("the kernels before and after training are not side by side")
    x, y, w, _ = kernels[-1]
    beside = region(rows, (x + w + 330, y, 40, 20), 0)
    if beside and sum(1 for p in beside if p == WHITE) / len(beside) < 0.9:
        fail("the page is not white to the right of the kernel grids")
    # The feature maps and the confusion matrix are drawn too.
    maps = boxes["boxes"]["feature-map"]
    drawn = 0
    for box in maps:
        pixels = region(rows, box)
        drawn += bool(pixels) and sum(1 for p in pixels if p == WHITE) / len(pixels) < 0.05
    if len(maps) != 24 or drawn < 20:
        fail(f"{drawn} of {len(maps)} feature maps drawn (expected 24)")
    cells = boxes["boxes"]["cell"]
    dark = 0
    for box in cells:
        pixels = region(rows, box, 3)
        dark += bool(pixels) and sum(sum(p) for p in pixels) / (3 * len(pixels)) < 200
    if len(cells) != 100 or dark < 50:
        fail(f"{dark} of {len(cells)} confusion cells coloured")
    print(f"ok: 16 kernels, {drawn} feature maps and {dark} dark confusion cells where the "
          "layout puts them")


if __name__ == "__main__":
    main()
