"""Headless Chromium on a report page: where its layout puts things, and a screenshot.

Used by the browser test and by scripts/report-screenshot.sh (the README's picture), so both
make their pictures with the same command.
"""
import json
import os
import re
import shutil
import subprocess
import tempfile

# Sizes in CSS pixels = screenshot pixels.
WIDTH = 1200

PROBE = """<script>//<![CDATA[
window.addEventListener('load', function () {
  var out = {height: document.documentElement.scrollHeight, boxes: {}};
  ['kernel', 'kernel-before', 'feature-map', 'cell', 'chart', 'input-image'].forEach(function (c) {
    out.boxes[c] = Array.prototype.map.call(document.getElementsByClassName(c), function (e) {
      var r = e.getBoundingClientRect();
      return [r.left + window.scrollX, r.top + window.scrollY, r.width, r.height];
    });
  });
  var pre = document.createElement('pre');
  pre.id = 'layout';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
//]]></script>"""


def find_chromium():
    for name in (os.environ.get("CHROMIUM", ""), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def _run(chromium, args, url):
    # As root Chromium needs --no-sandbox; its D-Bus complaints on stderr are noise.
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               "--force-device-scale-factor=1", "--no-first-run", "--disable-extensions",
               *args, url]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def layout(chromium, page):
    """Boxes (x, y, w, h) of the page's kernels, feature maps, ... and its height."""
    with tempfile.TemporaryDirectory() as tmp:
        probe = os.path.join(tmp, "probe.html")
        text = open(page, encoding="utf-8").read()
        with open(probe, "w", encoding="utf-8") as f:
            f.write(text.replace("</body>", PROBE + "</body>"))
        run = _run(chromium, [f"--window-size={WIDTH},1000", "--dump-dom"], "file://" + probe)
    m = re.search(r'<pre id="layout">(.*?)</pre>', run.stdout, re.S)
    if not m:
        raise RuntimeError(f"chromium gave no layout (exit {run.returncode}): {run.stderr[-2000:]}")
    return json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def screenshot(chromium, page, png, height):
    """A screenshot WIDTH × height of the page's top."""
    if os.path.exists(png):
        os.remove(png)
    run = _run(chromium, [f"--window-size={WIDTH},{height}", f"--screenshot={png}"],
               "file://" + os.path.abspath(page))
    if not os.path.exists(png):
        raise RuntimeError(f"chromium wrote no screenshot (exit {run.returncode}): "
                           f"{run.stderr[-2000:]}")
