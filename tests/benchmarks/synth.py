"""synth benchmarks: render time of a SynthRTI-sized scene on this CPU, and how samples trade noise for time.

Both go through ``python -m synth`` (a subprocess, as a user runs it); times come from its progress lines, which
stamp each image with the seconds since the start.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from core.capture import images, splits
from core.quality import metrics

from .report import ROOT, table, write_section

SHEET = ROOT / "docs" / "synth_contact_sheet.png"
LINE = re.compile(r"^\[(\d+)/(\d+)\] (\S.*) \(([\d.]+) s\)$")
SIZE = 320


def synth(out: Path, *args: str) -> list[tuple[str, float]]:
    """Render with ``python -m synth``; returns (label, seconds that image took) for every step."""
    done = subprocess.run([sys.executable, "-m", "synth", "--out", str(out), "--size", str(SIZE), *args], cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"python -m synth failed:\n{done.stderr}")
    stamps = [(m[3], float(m[4])) for m in map(LINE.match, done.stderr.splitlines()) if m]
    return [(label, t - (stamps[i - 1][1] if i else 0.0)) for i, (label, t) in enumerate(stamps)]


def contact_sheet(scene: Path, out: Path) -> None:
    """Six training lights from grazing to overhead, then normals, albedo and mask, in two rows."""
    train = splits.load_part(scene, "train")
    picks = [int(i) for i in np.argsort(train.lights[:, 2])[np.linspace(0, train.count - 1, 6).astype(int)]]
    tiles = [train.images[i] for i in picks]
    tiles.append((images.read_image(scene / "normals.png") // 257).astype(np.uint8))
    tiles.append(images.read_image(scene / "albedo.png"))
    tiles.append(images.read_image(scene / "mask.png"))
    tiles += [np.zeros_like(tiles[0])] * (12 - len(tiles))
    rows = [np.concatenate(tiles[k : k + 6], axis=1) for k in (0, 6)]
    out.parent.mkdir(exist_ok=True)
    images.write_image(out, np.concatenate(rows, axis=0))


def synth_render() -> None:
    """Seconds per image and per 69-image scene (default settings), and noise against samples."""
    with tempfile.TemporaryDirectory() as tmp:
        steps = synth(Path(tmp) / "scene")
        contact_sheet(Path(tmp) / "scene", SHEET)
        lights = [seconds for label, seconds in steps if "/" in label]
        truth = next(seconds for label, seconds in steps if "/" not in label)
        total = sum(seconds for _, seconds in steps)
        default = (f"Default scene (`python -m synth --out OUT`: {SIZE}×{SIZE}, bumps relief, stripes, 4 samples, "
                   f"49 + 20 lights): {total:.1f} s in all; per light image median {np.median(lights):.2f} s "
                   f"(min {min(lights):.2f}, max {max(lights):.2f}); the ground-truth passes (normals, albedo, "
                   f"mask) {truth:.2f} s. Times are from the progress lines and include writing the PNG.\n\n")
        rows = []
        reference = Path(tmp) / "reference"
        common = ["--train-lights", "fibonacci:5", "--test-lights", "none", "--material", "split", "--relief",
                  "basrelief"]
        synth(reference, *common, "--samples", "256")
        truth_images = splits.load_part(reference, "train").images

        def trial(name: str, *args: str) -> list[str]:
            """Median seconds per light image and mean PSNR against the 256-sample images."""
            steps = synth(Path(tmp) / name, *common, *args)
            rendered = splits.load_part(Path(tmp) / name, "train").images
            psnr = np.mean([metrics.psnr(a, b) for a, b in zip(truth_images, rendered)])
            return [f"{np.median([s for label, s in steps if '/' in label]):.2f}", f"{psnr:.1f}"]

        for samples in (1, 4, 8, 16, 32, 64):
            rows.append([samples, *trial(f"s{samples}", "--samples", str(samples)),
                         *trial(f"d{samples}", "--samples", str(samples), "--denoise")])
    body = (default
            + f"Contact sheet of that scene: `{SHEET.relative_to(ROOT)}` (six training lights from grazing to "
            "overhead; normals, albedo, mask).\n\n"
            "Noise against samples: a split diffuse/metal bas-relief (more noise than the default scene), 5 lights, "
            "PSNR of the 8-bit images against the same lights rendered at 256 samples.\n\n"
            + table(["samples", "s / image", "PSNR vs 256 spp (dB)", "s / image, --denoise",
                     "PSNR, --denoise (dB)"], rows))
    write_section("synth_render", f"synth render time ({SIZE}×{SIZE}, Cycles on this CPU)", body,
                  "python3 build.py bench synth_render")
