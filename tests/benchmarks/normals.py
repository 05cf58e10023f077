"""``normals``: angular error of surface normals against synth's ground truth over its suite (3 reliefs × 4 material
sets), per method: ``l2`` (least squares over every photo, what relight and RTIBuilder do by default: the anchor),
``robust``, and from fitted HSH3 and student models sampled under virtual lights.

``BENCH_SUITE``: suites rendered by ``python -m synth --suite``, comma-separated (e.g. at two relief depths; default:
render one now at ``BENCH_SUITE_SIZE``);
``BENCH_DEVICE`` trains the students (the default recipe, one per scene, through ``python -m core train``);
``BENCH_NORMALS_METHODS`` picks methods (default ``l2,robust,HSH3,student``; without ``student`` nothing is trained).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from core.capture import images, splits
from core.formats import models
from core.surface import maps, photometric

from .neural import DEVICE, SUITE, SUITE_SIZE, _render_suite, cli
from .report import table, write_section

METHODS = tuple(os.environ.get("BENCH_NORMALS_METHODS", "l2,robust,HSH3,student").split(","))


def errors(scene: Path, work: Path) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Per-pixel angular errors (degrees, inside the mask) of every method on one scene, and each method's seconds."""
    truth = maps.read_normals(scene / maps.NORMALS_NAME)
    inside = (np.linalg.norm(truth, axis=-1) > 0) & (images.read_mask(scene / "mask.png")
                                                     if (scene / "mask.png").is_file() else True)
    train = splits.load_part(scene, "train")
    if "HSH3" in METHODS:
        cli("fit", str(scene), "-m", "hsh3", "-o", str(work / "hsh3"), "-q")
    if "student" in METHODS:
        cli("train", str(scene), "-o", str(work / "neural"), "--device", DEVICE, "-q")
    found, seconds = {}, {}
    for method in METHODS:
        start = time.perf_counter()
        if method in photometric.METHODS:
            surface = photometric.from_mlic(train, method)
        else:
            model = models.load(work / ("hsh3" if method == "HSH3" else "neural/student"))
            surface = photometric.from_model(model, "l2")
        seconds[method] = time.perf_counter() - start
        found[method] = photometric.angular_error(surface.normals, truth)[inside]
    return found, seconds


def normals() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        roots = [Path(p) for p in SUITE.split(",")] if SUITE else [_render_suite(Path(tmp) / "suite")]
        scenes = [(root, entry) for root in roots for entry in json.loads((root / "index.json").read_text())["scenes"]]
        results = [errors(root / entry["path"], Path(tmp) / root.name / entry["path"]) for root, entry in scenes]
    depths = {root: json.loads((root / entry["path"] / "scene.json").read_text())["spec"]["depth"]
              for root, entry in scenes}
    deepest = max(depths.values())
    rows: list[list[str]] = []
    ratios: list[float] = []
    matte: list[float] = []
    for (root, entry), (found, _) in zip(scenes, results):
        depth = depths[root]
        median = {m: float(np.median(found[m])) for m in METHODS}
        rows.append([entry["relief"], f"{depth:g}", entry["material"],
                     *(f"{median[m]:.2f} / {found[m].mean():.2f}" for m in METHODS),
                     f"{median['robust'] / median['l2']:.2f}"])
        if entry["material"] == "matte":
            matte.append(median["robust"])
        if entry["material"] == "glossy" or (entry["material"] == "matte" and depth == deepest):
            ratios.append(median["robust"] / median["l2"])
    pooled = {m: np.concatenate([found[m] for found, _ in results]) for m in METHODS}
    rows.append(["**all**", "", "", *(f"**{np.median(pooled[m]):.2f} / {pooled[m].mean():.2f}**" for m in METHODS),
                 ""])
    pixels = sum(len(found["l2"]) for found, _ in results)
    timing = ", ".join(f"{m} {sum(s[m] for _, s in results) / pixels * 1e6:.1f} µs" for m in METHODS)
    size = json.loads((scenes[0][0] / scenes[0][1]["path"] / "scene.json").read_text())["spec"]["size"]
    made = (f"`python -m synth --suite --size {size}`" + (" at each relief depth below" if len(roots) > 1 else "")
            + (f", rendered elsewhere (`{SUITE}`)" if SUITE else ""))
    body = (f"Data: {made}, its 49 training photos per scene (8-bit PNG) and its ground-truth `normals.png`; errors "
            "inside the mask. l2: least squares over every photo (what relight and RTIBuilder do by default); robust: "
            "saturated samples never count, a start without each pixel's darkest 30 % and brightest 10 %, then three "
            "passes that leave out the samples a Lambertian fit does not explain (beyond 2.5 robust standard "
            "deviations) or sees from behind (`python -m core normals --method robust`); HSH3 and student: the "
            "fitted model (`fit -m hsh3`; `train` with the defaults "
            f"on {DEVICE}; when measured) sampled under {len(photometric.VIRTUAL_LIGHTS)} virtual lights from 30° "
            "to the zenith, "
            "then least squares. Cells: median / mean angular error in degrees.\n\n"
            + table(["relief", "depth", "material", *METHODS, "robust / l2 median"], rows)
            + f"\n\nTargets: robust median at most half of l2's on the glossy scenes and the deepest reliefs' matte "
            f"ones (shadowed): {sum(r <= 0.5 for r in ratios)} of {len(ratios)} (ratios "
            f"{', '.join(f'{r:.2f}' for r in ratios)}); robust median under 5° on every matte scene: "
            f"{sum(m < 5 for m in matte)} of {len(matte)} (largest {max(matte):.2f}°). Time per pixel (all scenes, "
            "this "
            f"machine): {timing}.")
    suite = f"BENCH_SUITE={SUITE}" if SUITE else f"BENCH_SUITE_SIZE={SUITE_SIZE}"
    chosen = "" if "student" in METHODS else f" BENCH_NORMALS_METHODS={','.join(METHODS)}"
    device = f"BENCH_DEVICE={DEVICE} " if "student" in METHODS else ""
    command = f"{device}{suite}{chosen} python3 build.py bench normals"
    write_section("normals", "Surface normals against ground truth (synth suite)", body, command)
