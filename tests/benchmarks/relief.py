"""``relief``: heights integrated from normals against synth's true heights (``height.exr``), and the command's time
and memory at camera sizes.

``BENCH_RELIEF_SUITES``: suites rendered by ``python -m synth --suite quick`` (comma-separated, e.g. at two relief
depths; default: render them now at 160 pixels, depths 0.1 and 0.2). Each scene's normals: its true ``normals.png``
(what integration alone costs), least squares (``l2``) and ``robust`` photometric stereo from its training photos;
each integrated by every method of ``core.surface.relief``. A flat scene checks tilt and bowl.
``BENCH_RELIEF_SIZES``: normal maps for the timing (default 4096x4096,8192x6144); Add Relief is timed in Blender on a
16.8 MP plane.
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

from core.capture import images, splits
from core.surface import maps, photometric, relief as integration

from .report import ROOT, table, write_section

SUITES = [Path(p) for p in os.environ.get("BENCH_RELIEF_SUITES", "").split(",") if p]
SIZES = os.environ.get("BENCH_RELIEF_SIZES", "4096x4096,8192x6144").split(",")
BLENDER_SIZE = 4096
"""The side of the PTM plane Add Relief is timed on in Blender (16.8 MP)."""
DEPTHS = (0.1, 0.2)
NORMALS = ("true", "l2", "robust")
GLOSSY = ("glossy", "stripes", "split")
"""Material sets with specular highlights (stripes and split mix plastics and metals with matte ones)."""


def relief() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        roots = SUITES or [_render(Path(tmp) / f"d{depth}", "--suite", "quick", "--depth", str(depth))
                           for depth in DEPTHS]
        flat = _render(Path(tmp) / "flat", "--relief", "flat")
        rows: list[list[object]] = []
        summary: dict[tuple[float, str, str, str], list[float]] = {}
        for root in roots:
            for entry in json.loads((root / "index.json").read_text())["scenes"]:
                scene = root / entry["path"]
                depth = json.loads((scene / "scene.json").read_text())["spec"]["depth"]
                print(f"  {scene}", flush=True)
                for (normals, method), (median, rms, p95, slope) in scene_errors(scene).items():
                    kind = "glossy" if entry["material"] in GLOSSY else "matte"
                    summary.setdefault((depth, kind, normals, method), []).append(median)
                    if method == integration.DEFAULT:
                        rows.append([depth, entry["relief"], entry["material"], normals, f"{median:.2f}",
                                     f"{rms:.2f}", f"{p95:.2f}", f"{slope:.3f}"])
        flatness = _flatness(flat)
        timing = [_timed(size, Path(tmp)) for size in SIZES]
        blender = _in_blender(BLENDER_SIZE, Path(tmp))
    header = ["depth", "relief", "material", "normals", "median |error| (% of depth)", "RMS (%)", "95th pct (%)",
              "slope RMS error"]
    methods = integration.METHODS
    means = [[depth, kind, normals, *(f"{np.mean(summary[depth, kind, normals, m]):.2f}" for m in methods)]
             for depth in sorted({k[0] for k in summary}) for kind in ("matte", "glossy") for normals in NORMALS
             if (depth, kind, normals, methods[0]) in summary]
    intro = ("Data: `python -m synth --suite quick --size 160 --depth D` (3 reliefs × 4 material sets, 49 training "
             "photos each) at each depth; truth: the scene's `height.exr` (the height the camera sees, rendered "
             "by Blender as a pass). Heights are known up to a constant: the median and 95th percentile of the "
             "absolute error are taken once the median difference is removed (the constant that minimises the mean "
             "absolute error: a step the normals cannot see shifts a whole region), the RMS once the mean difference "
             "is; all as fractions of the relief's depth inside the mask (its 0.5th to 99.5th "
             "percentile). Normals: the scene's true "
             "`normals.png` (the integration's own error), `l2` and `robust` photometric stereo (`core normals`). "
             "Slope error: RMS of the difference of the height gradients (pixel widths per pixel).\n\n"
             "Mean of the scenes' median errors (% of depth), by integration method "
             f"(`python -m core relief --method`):\n\n{table(['depth', 'materials', 'normals', *methods], means)}"
             f"\n\nEvery scene, `{integration.DEFAULT}` (the default):\n\n")
    rest = (f"\n\nFlat surface (`--relief flat`, robust normals): heights span {flatness:.3f} % of the frame's width "
            "(target ≤ 1 %).\n\nTime and peak memory of `python -m core relief NORMALS.png -o OUT --mesh OUT.ply` "
            f"(a smooth synthetic normal map, `{integration.DEFAULT}`; the mesh one vertex in K pixels by "
            "default):\n\n"
            + table(["size", "pixels (MP)", "seconds", "peak memory (GB)", "mesh vertices"], timing)
            + "\n\nAdd Relief in Blender (bpy, `python -m tests.benchmarks.relief_blender`) on a smooth "
            f"{BLENDER_SIZE}² PTM plane: import {blender['import']:.0f} s, Add Relief {blender['relief']:.0f} s (its "
            f"views, which hold the normal map, built first; plain least squares above 2 MP), {blender['vertices']} "
            f"vertices, peak memory of the whole process {blender['peak']:.1f} GB.")
    write_section("relief", "Relief: heights from normals against the true heights", intro + table(header, rows) + rest,
                  f"BENCH_RELIEF_SUITES={','.join(map(str, SUITES))} python3 build.py bench relief" if SUITES
                  else None)


def scene_errors(scene: Path) -> dict[tuple[str, str], tuple[float, float, float, float]]:
    """(normals, method) → median, RMS and 95th percentile of the height error (% of depth) and slope RMS error."""
    truth = images.read_float(scene / integration.TRUE_HEIGHT_NAME)
    inside = images.read_mask(scene / "mask.png") if (scene / "mask.png").is_file() else np.ones(truth.shape, bool)
    depth = float(np.diff(np.percentile(truth[inside], [0.5, 99.5]))[0])
    train = splits.load_part(scene, "train")
    sources = {"true": maps.read_normals(scene / maps.NORMALS_NAME),
               **{m: photometric.from_mlic(train, m).normals for m in ("l2", "robust")}}
    found = {}
    for normals, values in sources.items():
        for method in integration.METHODS:
            heights = integration.integrate(values, inside, method).heights
            difference = (heights - truth)[inside] / depth * 100
            error = np.abs(difference - np.median(difference))  # heights are known up to a constant: the best one
            slope = np.stack(np.gradient(heights)) - np.stack(np.gradient(truth))
            found[normals, method] = (float(np.median(error)), float(np.std(difference)),
                                      float(np.percentile(error, 95)),
                                      float(np.sqrt((slope[:, inside] ** 2).sum(axis=0).mean())))
    return found


def _flatness(scene: Path) -> float:
    heights = integration.integrate(photometric.from_mlic(splits.load_part(scene, "train"), "robust").normals).heights
    return float(np.ptp(heights) / heights.shape[1] * 100)


def _timed(size: str, tmp: Path) -> list[object]:
    """Time and peak memory of the relief command on a smooth normal map of ``size`` (WxH)."""
    width, height = map(int, size.split("x"))
    r = np.arange(height, dtype=np.float32)[:, None]
    c = np.arange(width, dtype=np.float32)[None, :]
    p, q = 0.3 * np.cos(c / 50) * np.cos(r / 70), 0.2 * np.sin(c / 60) + 0 * r
    nz = 1 / np.sqrt(1 + p**2 + q**2)
    maps.write_normals(tmp / "big.png", np.stack([-p * nz, q * nz, nz], axis=-1))
    del p, q, nz
    start = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "%M", sys.executable, "-m", "core", "relief", str(tmp / "big.png"),
                           "-o", str(tmp / "big"), "--mesh", str(tmp / "big.ply"), "-q", "--force"], cwd=ROOT,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode:
        raise RuntimeError(f"relief failed:\n{done.stderr}")
    vertices = next(line for line in done.stdout.splitlines() if "vertices" in line).split(": ")[1].split(" ")[0]
    peak = int(done.stderr.strip().splitlines()[-1]) / 1e6
    return [size, f"{width * height / 1e6:.1f}", f"{seconds:.0f}", f"{peak:.1f}", vertices]


def _in_blender(size: int, tmp: Path) -> dict:
    done = subprocess.run(["/usr/bin/time", "-f", "%M", sys.executable, "-m", "tests.benchmarks.relief_blender",
                           str(size), str(tmp / "blender.ptm")], cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"Add Relief in Blender failed:\n{done.stderr}")
    found = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("{")))
    return {**found, "peak": int(done.stderr.strip().splitlines()[-1]) / 1e6}


def _render(out: Path, *args: str) -> Path:
    done = subprocess.run([sys.executable, "-m", "synth", "--out", str(out), "--size", "160", "-q", *args], cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"rendering {out.name} failed:\n{done.stderr}")
    return out
