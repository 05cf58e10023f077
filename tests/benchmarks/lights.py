"""``lights``: light directions read from the calibration spheres of synth scenes against the lights they were
rendered with: the black sphere, the chrome one, both averaged (circles from ``scene.json``), and both found in the
photos; median and largest error, images refused, seconds per image. ``BENCH_LIGHTS_SIZES`` (default 320) lists the
image sizes; each scene has SynthRTI's 49 dome and 20 test lights. ``BENCH_WORKDIR`` keeps the rendered scenes for
the next run (a 1024² scene takes minutes to render).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from core.capture import lp, spheres
from core.errors import RTIError

from .report import ROOT, table, write_section

SIZES = [int(v) for v in os.environ.get("BENCH_LIGHTS_SIZES", "320").split(",")]
WORKDIR = os.environ.get("BENCH_WORKDIR", "")


def measure(folder: Path, circles: list[spheres.Sphere] | None) -> list[str]:
    """One table row's cells: median and largest error (degrees), images refused, seconds per image."""
    names, stack = spheres.read_folder(folder)
    truth = dict(zip(*lp.read_lp(folder / "dirs.lp")))
    start = time.perf_counter()
    try:
        found = circles if circles is not None else spheres.detect(stack)
        result = spheres.calibrate(names, stack, found, drop_bad=True)
    except RTIError as exc:
        return ["–", "–", f"all ({exc})", "–"]
    seconds = (time.perf_counter() - start) / len(names)
    errors = np.degrees(np.arccos(np.clip([light @ truth[name] for name, light in zip(result.names, result.lights)],
                                          -1.0, 1.0)))
    return [f"{np.median(errors):.2f}", f"{errors.max():.2f}", str(len(names) - len(result.names)), f"{seconds:.3f}"]


def lights() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in SIZES:
            out = Path(WORKDIR or tmp) / f"spheres_scene_{size}"
            if not (out / "scene.json").is_file():
                done = subprocess.run([sys.executable, "-m", "synth", "--out", str(out), "--size", str(size),
                                       "--spheres", "both", "-q"], cwd=ROOT, capture_output=True, text=True)
                if done.returncode:
                    raise RuntimeError(f"python -m synth failed:\n{done.stderr}")
            placed = {p["kind"]: spheres.Sphere(*p["pixels"])
                      for p in json.loads((out / "scene.json").read_text())["spheres"]}
            for label, circles in (("black", [placed["black"]]), ("chrome", [placed["chrome"]]),
                                   ("both, averaged", list(placed.values())), ("both, found in the photos", None)):
                for part in ("train", "test"):
                    rows.append([f"{size}²", label, part, *measure(out / part, circles)])
    write_section("lights", "Light directions from spheres (synth scenes)",
                  "Each scene: `python -m synth --spheres both --size S` (the default bumps relief and stripes; a "
                  "chrome and a glossy black sphere of radius 8 % of the frame in its top corners; SynthRTI's 49 dome "
                  "lights as train, its 20 test lights as test), then `core.capture.spheres.calibrate` with the "
                  "circles of `scene.json` or those `detect` finds, images without a usable highlight left out "
                  "(`--drop-bad`). Errors: degrees between the light read and the light rendered; seconds per image "
                  "to find the spheres' highlights (and the spheres), after reading the images. Targets at 320²: "
                  "median ≤ 1°, largest ≤ 3°.\n\n"
                  + table(["size", "spheres", "lights", "median error (°)", "largest error (°)", "images refused",
                           "seconds per image"], rows),
                  f"BENCH_LIGHTS_SIZES={','.join(map(str, SIZES))} python3 build.py bench lights")
