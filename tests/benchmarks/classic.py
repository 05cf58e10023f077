"""Classic PTM/HSH benchmarks: fit speed, memory on a 24-megapixel stack, quality on the real capture."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from core.capture import lights
from core.capture.mlic import MLIC
from core.classic import fitting

from .report import ROOT, table, write_section

SHARED_CAPTURE = ROOT.parent / "shared" / "datasets" / "neuralrti_icon_sanmichele"


def best_time(fn, repeats: int = 3) -> float:
    """Fastest of a few runs, in seconds (the least disturbed by other load)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def classic_fit() -> None:
    """Fit time for 1 megapixel × 49 lights, against numpy's lstsq on the whole float64 stack (the obvious code)."""
    rng = np.random.default_rng(0)
    dirs = lights.synthrti_dome()
    data = MLIC(rng.integers(0, 256, (49, 1000, 1000, 3), dtype=np.uint8), dirs, [str(i) for i in range(49)])
    rows = []
    for method in fitting.METHODS:
        ours = best_time(lambda: fitting.fit(data, method))
        basis = fitting.method_basis(method, dirs)
        flat = data.images.reshape(49, -1)
        baseline = best_time(lambda: np.linalg.lstsq(basis, flat / 255.0, rcond=None), repeats=1)
        rows.append([method, fitting.coefficients_per_pixel(method), f"{ours:.2f}", f"{baseline:.2f}", f"{baseline / ours:.1f}x"])
    body = (
        "Fit of every pixel of a 1000×1000 × 49-light 8-bit stack (random values; the time does not depend on them). "
        "Baseline: `np.linalg.lstsq` on the whole stack as float64, the straightforward implementation. "
        "Target: HSH3 ≤ 2 s on this CPU.\n\n"
        + table(["method", "coefficients/pixel", "fit (s)", "lstsq baseline (s)", "speed-up"], rows)
    )
    write_section("classic_fit", "Classic fit speed (1 MP × 49 lights)", body)


MEMORY_SCRIPT = """
import resource, time, numpy as np
from core.classic import fitting
from core.capture import lights
from core.capture.mlic import MLIC
dirs = lights.fibonacci(60, 10)
stack = np.empty((60, 4000, 6000, 3), np.uint8)
stack[:] = np.random.default_rng(0).integers(0, 256, (1, 1, 6000, 3), dtype=np.uint8)
start = time.perf_counter()
model = fitting.fit(MLIC(stack, dirs, [str(i) for i in range(60)]), "hsh3")
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, stack.nbytes,
      model.coeffs.nbytes)
"""


def classic_memory() -> None:
    """Peak memory of an HSH3 fit of a 24-megapixel × 60-light stack, in a fresh process."""
    out = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT], cwd=ROOT, capture_output=True, text=True, check=True)
    seconds, peak, stack, coeffs = (float(v) for v in out.stdout.split())
    rows = [["HSH3, 6000×4000 × 60 lights, 8-bit", f"{stack / 1e9:.2f}", f"{coeffs / 1e9:.2f}", f"{peak / 1e9:.2f}",
             f"{(peak - stack - coeffs) / 1e9:.2f}", f"{seconds:.1f}"]]
    body = (
        "The stack stays uint8; the fit converts one tile (131,072 pixels) at a time to float32, so the peak is the "
        "stack plus the float32 coefficients plus a small constant.\n\n"
        + table(["fit", "stack (GB)", "coefficients (GB)", "peak RSS (GB)", "overhead (GB)", "fit time (s)"], rows)
    )
    write_section("classic_memory", "Classic fit memory (24 MP × 60 lights)", body)


def icon_classic() -> None:
    """PTM/HSH quality on the real 72-light capture, every 8th light held out, through the CLI."""
    if not SHARED_CAPTURE.is_dir():
        print(f"skipping icon_classic: {SHARED_CAPTURE} is not available")
        return
    rows, hsh3_table = [], ""
    with tempfile.TemporaryDirectory() as tmp:
        split = Path(tmp) / "split"
        cli = [sys.executable, "-m", "core"]
        subprocess.run([*cli, "split", str(SHARED_CAPTURE), "--every", "8", "-o", str(split), "-q"], cwd=ROOT,
                       check=True, capture_output=True)
        for method in fitting.METHODS:
            model = Path(tmp) / method
            start = time.perf_counter()
            subprocess.run([*cli, "fit", str(split), "-m", method, "-o", str(model), "-q"], cwd=ROOT, check=True,
                           capture_output=True)
            seconds = time.perf_counter() - start
            result = subprocess.run([*cli, "eval", str(model), "--test", str(split), "--json", "-q"], cwd=ROOT,
                                    check=True, capture_output=True, text=True)
            report = json.loads(result.stdout)
            rows.append([method, fitting.coefficients_per_pixel(method), f"{report['psnr']:.2f}", f"{report['ssim']:.4f}", f"{seconds:.1f}"])
            if method == "hsh3":
                hsh3_table = subprocess.run([*cli, "eval", str(model), "--test", str(split), "-q"], cwd=ROOT,
                                            check=True, capture_output=True, text=True).stdout
    body = (
        "Data: `../shared/datasets/neuralrti_icon_sanmichele` (402×395, 72 lights, 8-bit JPEG). Every 8th light "
        "(9 lights: image01, image09, …, image65) is held out; models are fitted on the other 63 and stored as JPEG "
        "planes (quality 95); scores are on 8-bit relit images. Commands:\n\n"
        "```\npython -m core split ../shared/datasets/neuralrti_icon_sanmichele --every 8 -o split\n"
        "python -m core fit split -m hsh3 -o hsh3          # and ptm, lptm, hsh2\n"
        "python -m core eval hsh3 --test split\n```\n\n"
        + table(["method", "coefficients/pixel", "test PSNR (dB)", "test SSIM", "fit + write time (s)"], rows)
        + "\n\nHSH3 per held-out light (`python -m core eval hsh3 --test split`):\n\n```\n" + hsh3_table.strip()
        + "\n```"
    )
    write_section("icon_classic", "Classic RTI on the real capture (held-out lights)", body)


RELIGHT_2026 = ROOT.parent / "shared" / "datasets" / "relight_2026_sanmichele"
RELIGHT_RENDERS = {"image01": (0.205159, -0.237021, 0.949595), "image33": (0.431932, 0.814218, 0.387922),
                   "image57": (-0.671919, -0.040148, 0.739536)}


def relight_folders() -> None:
    """relight's default outputs of the real capture (63 training lights): each folder scored by ``core eval`` at
    the 9 held-out lights, and our decode against relight's own renders at three of them."""
    import dataclasses

    from core.capture import images
    from core.formats import models
    from core.neural.model import NeuralRTI
    from core.quality import metrics

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        split = Path(tmp) / "split"
        subprocess.run([sys.executable, "-m", "core", "split", str(SHARED_CAPTURE), "--every", "8", "-o", str(split),
                        "-q"], cwd=ROOT, check=True, capture_output=True)
        for folder in sorted(p for p in RELIGHT_2026.iterdir() if (p / "info.json").is_file()):
            info = json.loads((folder / "info.json").read_text())
            done = subprocess.run([sys.executable, "-m", "core", "eval", str(folder), "--test", str(split), "--json",
                                   "-q"], cwd=ROOT, check=True, capture_output=True, text=True)
            scores = json.loads(done.stdout)
            model = models.load(folder)
            assert not isinstance(model, NeuralRTI)
            values = dataclasses.replace(model, colorprofile="sRGB")  # the folder's own values, as relight renders
            differences = []
            for image, light in RELIGHT_RENDERS.items():
                theirs = images.read_image(folder / "relight_renders" / f"{image}.png").astype(np.float64)
                ours = metrics.to_uint8(np.clip(values.relight(np.array(light)), 0, 1)).astype(np.float64)
                differences.append(np.abs(ours - theirs).mean())
            planes = info.get("nplanes") or sum(info.get("yccplanes", []))
            rows.append([folder.name, f"{info['type']} {info['colorspace']}", str(planes),
                         info.get("colorprofile", "(none)"), f"{scores['psnr']:.2f}", f"{scores['ssim']:.4f}",
                         f"{np.mean(differences):.2f}"])
    body = (f"`{RELIGHT_2026.relative_to(ROOT.parent)}` (SOURCE.md there): relight-cli 2026.03's outputs of the real "
            "capture's 63 training lights, scored by `python -m core eval FOLDER --test SPLIT` at the 9 held-out "
            "lights (every 8th), linear folders encoded to sRGB as a viewer shows them; the last column is the mean "
            "absolute difference, in 8-bit levels, between our decode (in the folder's own colour profile, rounded) "
            "and relight's render (truncated) at image01, image33 and image57.\n\n"
            + table(["folder", "type", "planes", "colorprofile", "test PSNR (dB)", "test SSIM",
                     "against relight's render (levels)"], rows))
    write_section("relight_folders", "relight's own folders, opened and scored", body,
                  "python3 build.py bench relight_folders")
