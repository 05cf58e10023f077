"""Deep-zoom planes in a real viewer: OpenSeadragon (npm) in headless Chromium (Debian) shows one of our ``.dzi``
planes as the untiled plane. What it drew is read from its canvas once it reports every tile of the view loaded (no
screenshot after a fixed wait, which a loaded machine can outrun). ``build.py test`` installs both; without them the
test skips and says why."""

from __future__ import annotations

import base64
import functools
import http.server
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from core.capture import images
from core.formats import deepzoom

ROOT = Path(__file__).resolve().parents[1]
OPENSEADRAGON = ROOT / ".cache" / "openseadragon" / "openseadragon.min.js"
WIDTH, HEIGHT = 700, 500
"""Three by two tiles at the full level; the viewer is the plane's size, so OpenSeadragon draws it at 1:1."""
PAGE = """<!doctype html><html><head><meta charset=utf-8><script src="openseadragon.min.js"></script>
<style>html, body {{ margin: 0; background: #000; overflow: hidden; }}
#view {{ width: {width}px; height: {height}px; }}</style></head>
<body><div id=view></div><script>
const viewer = OpenSeadragon({{ id: "view", tileSources: "plane_0.dzi", drawer: "canvas",
  imageSmoothingEnabled: false, showNavigationControl: false, animationTime: 0, blendTime: 0, immediateRender: true,
  alwaysBlend: false, minZoomImageRatio: 0, visibilityRatio: 1 }});
// once every tile the view needs is in, what the viewer drew goes into the page, for --dump-dom to hand over
viewer.addHandler("update-viewport", () => {{
  const item = viewer.world.getItemAt(0);
  if (item && item.getFullyLoaded()) document.body.dataset.shot = viewer.drawer.canvas.toDataURL("image/png");
}});
</script></body></html>
"""

@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A local web server of ``tmp_path`` (Chromium does not let a page read files next to it from file: URLs)."""
    handler = functools.partial(QuietHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def test_openseadragon_shows_our_deep_zoom_plane_as_the_untiled_plane(served: tuple[str, Path]) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None or not OPENSEADRAGON.is_file():
        pytest.skip("needs Chromium and OpenSeadragon (python3 build.py test installs them where apt-get and npm "
                    "work)")
    url, folder = served
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    rng = np.random.default_rng(0)
    plane = np.stack([x * 255 // (WIDTH - 1), y * 255 // (HEIGHT - 1), (x // 16 + y // 16) % 2 * 200], axis=-1)
    plane = np.clip(plane + rng.integers(-20, 21, plane.shape), 0, 255).astype(np.uint8)  # detail at every pixel
    deepzoom.write_plane(folder, "plane_0", plane, "png", 100, layout="deepzoom")
    shutil.copy(OPENSEADRAGON, folder)
    (folder / "view.html").write_text(PAGE.format(width=WIDTH, height=HEIGHT))
    shown = None
    for budget in (10_000, 60_000, 300_000):  # virtual milliseconds: more only if the tiles were not all in yet
        done = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                               "--force-device-scale-factor=1", f"--window-size={WIDTH},{HEIGHT}",
                               f"--virtual-time-budget={budget}", "--dump-dom", f"{url}/view.html"],
                              capture_output=True, text=True, timeout=300)
        found = re.search(r'data-shot="data:image/png;base64,([^"]+)"', done.stdout)
        if found:
            shown = images.decode_bytes(base64.b64decode(found.group(1)), ".png", "the viewer's canvas")[..., :3]
            break
    assert shown is not None, f"OpenSeadragon drew no fully loaded view: {done.stderr[-2000:]}"
    assert shown.shape == plane.shape
    difference = np.abs(shown.astype(np.int16) - plane.astype(np.int16))
    assert difference.mean() < 0.5 and np.percentile(difference, 99) <= 2, (difference.mean(), difference.max())
