"""Full-resolution captures: how fast models relight, score and give their view maps at camera sizes.

``BENCH_LARGE_SIZE`` (default 4096: 16.8 MP) is the side of the square models. Decoders are random (their speed does
not depend on their weights); eval scores against random test photos of the same size (nor does its speed).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import numpy as np
import torch

from core import relighting
from core.capture.mlic import MLIC
from core.neural.model import NeuralRTI
from core.neural.nn import Decoder
from core.quality import metrics
from core.quality.evaluate import evaluate
from core.surface import views

from .classic import best_time
from .report import table, write_section

SIZE = int(os.environ.get("BENCH_LARGE_SIZE", 4096))
TEST_LIGHTS = 20
VIEW_SIZE = 2048
"""The side of the model whose view maps are timed (4.2 MP)."""
REFERENCE_SIZE = 1024
"""The side of the crop the numpy reference decodes (it would take minutes at full size)."""


def model(width: int, size: int, seed: int = 0) -> NeuralRTI:
    """A random model of ``size``² pixels with a freshly initialised decoder ``width`` units wide."""
    torch.manual_seed(seed)
    layers = [(w.detach().numpy().copy(), b.detach().numpy().copy()) for w, b in Decoder(width).layers()]
    codes = np.random.default_rng(seed).normal(size=(size, size, 9)).astype(np.float32)
    return NeuralRTI(codes, layers)


def timed(fn: Callable[[], object], device: str) -> float:
    """Seconds of one call, the GPU's queue included."""
    start = time.perf_counter()
    fn()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def large_decode() -> None:
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    pixels = SIZE * SIZE
    light = np.array([0.3, 0.2, 0.93])
    rows = []
    for width, name in ((20, "student"), (50, "teacher")):
        big, crop = model(width, SIZE), model(width, REFERENCE_SIZE)
        numpy_rate = REFERENCE_SIZE**2 / best_time(lambda: crop.relight(light), repeats=2) / 1e6
        row: list[object] = [f"{name} ({width}-{width})", f"{numpy_rate:.1f}"]
        for device in devices:
            relit = relighting.Relighter(big, device)
            relit.image(light)  # warm-up: threads, kernels
            seconds = min(timed(lambda: relit.image(light, uint8=True), device) for _ in range(3))
            row.append(f"{pixels / seconds / 1e6:,.1f}")
        rows.append(row)
    decode = table(["model", "numpy reference, CPU (MP/s)", *(f"fast, {d} (MP/s)" for d in devices)], rows)

    rng = np.random.default_rng(1)
    photos = rng.integers(0, 256, (TEST_LIGHTS, SIZE, SIZE, 3), dtype=np.uint8)
    directions = rng.normal(size=(TEST_LIGHTS, 3)) * [1, 1, 0] + [0, 0, 1.5]
    test = MLIC(photos, directions / np.linalg.norm(directions, axis=1)[:, None],
                [f"test_{i:02d}.png" for i in range(TEST_LIGHTS)])
    student = model(20, SIZE)
    scores = []
    for device in devices:
        ssim_seconds = timed(lambda: metrics.ssim(torch.as_tensor(photos[0]).to(device),
                                                  torch.as_tensor(photos[1]).to(device)), device)
        eval_seconds = timed(lambda: evaluate(student, test, device=device), device)
        scores.append([device, f"{ssim_seconds:.2f}", f"{eval_seconds:.1f}"])
    scoring = table(["device", "SSIM of one image (s)", f"eval at {TEST_LIGHTS} lights (s)"], scores)
    del photos, test, student

    small = model(20, VIEW_SIZE)
    view_seconds = timed(lambda: views.prepare(small, device="cpu"), "cpu")
    body = (f"Models of {SIZE}×{SIZE} pixels ({pixels / 1e6:.1f} MP). Relighting: one light, 8-bit output, best of "
            f"three, through `core.relighting.Relighter`, against the numpy reference on a {REFERENCE_SIZE}² crop.\n\n"
            f"{decode}\n\nScoring: `core.quality.evaluate` of a student (relight, PSNR and SSIM of every test light) "
            f"against {TEST_LIGHTS} random test photos, the photos already in memory.\n\n{scoring}\n\n"
            f"The add-on's view maps (`core.surface.views.prepare`: 27 relightings, normals, the luminance PTM) of a "
            f"{VIEW_SIZE}² student on the CPU: {view_seconds:.1f} s, "
            f"{view_seconds / (VIEW_SIZE**2 / 1e6):.2f} s per megapixel.")
    name = "large_decode_" + devices[-1]
    write_section(name, f"Full-resolution relighting and scoring ({', '.join(devices)})", body,
                  ("BENCH_LARGE_SIZE=" + str(SIZE) + " " if SIZE != 4096 else "") + "python3 build.py bench large_decode")
