#!/usr/bin/env python3
"""Cuts the guides' figures out of a training report (a page of cnn_1998 --report):

  09_learned_kernels.svg   the first Conv2d's kernels before and after training, and the scale
  09_feature_maps.svg      the first test image and its maps after conv, ReLU and pool
  07_training_curves.svg   the loss and accuracy curves

  report_figures.py REPORT.html OUT_DIR
"""
import copy
import sys
import xml.etree.ElementTree as ET

XHTML = "{http://www.w3.org/1999/xhtml}"
SVG_NS = "http://www.w3.org/2000/svg"
SVG = "{" + SVG_NS + "}"
ET.register_namespace("", SVG_NS)


def with_class(root, tag, cls):
    return [e for e in root.iter(SVG + tag) if cls in (e.get("class") or "").split()]


def compose(parts, gap=24, top=0):
    """One SVG of `parts` [(svg element, caption)] side by side, captions under them."""
    width = sum(float(p.get("width")) for p, _ in parts) + gap * (len(parts) - 1)
    height = max(float(p.get("height")) for p, _ in parts) + top + 22
    out = ET.Element(SVG + "svg", {"width": f"{width:g}", "height": f"{height:g}",
                                   "viewBox": f"0 0 {width:g} {height:g}",
                                   "font-family": "sans-serif"})
    white = ET.SubElement(out, SVG + "rect", {"width": "100%", "height": "100%", "fill": "#ffffff"})
    del white
    x = 0.0
    for part, caption in parts:
        inner = copy.deepcopy(part)
        inner.set("x", f"{x:g}")
        inner.set("y", f"{top:g}")
        out.append(inner)
        if caption:
            text = ET.SubElement(out, SVG + "text", {
                "x": f"{x:g}", "y": f"{top + float(part.get('height')) + 16:g}", "font-size": "12"})
            text.text = caption
        x += float(part.get("width")) + gap
    return out


def save(element, path):
    ET.ElementTree(element).write(path, encoding="utf-8", xml_declaration=False)
    with open(path, "a", encoding="utf-8") as f:
        f.write("\n")


def main():
    page, out = sys.argv[1], sys.argv[2]
    root = ET.parse(page).getroot()
    grids = with_class(root, "svg", "kernel-grid")
    legends = with_class(root, "svg", "legend")
    if len(grids) < 2 or not legends:
        sys.exit(f"{page}: no kernels before and after training (is it a report of a CNN?)")
    save(compose([(grids[0], "before training"), (grids[1], "after training"),
                  (legends[0], "weight")]), f"{out}/09_learned_kernels.svg")
    maps = with_class(root, "svg", "feature-maps")
    if not maps:
        sys.exit(f"{page}: no feature maps")
    save(compose([(maps[0], "")]), f"{out}/09_feature_maps.svg")
    charts = [c for c in with_class(root, "svg", "chart") if c.get("data-chart") in ("loss", "accuracy")]
    if len(charts) != 2:
        sys.exit(f"{page}: expected the loss and accuracy charts")
    save(compose([(charts[0], ""), (charts[1], "")]), f"{out}/07_training_curves.svg")


if __name__ == "__main__":
    main()
