"""Height fields of the built-in reliefs, made from a seed with numpy alone (no bpy).

A relief is a (H, W) array of heights over the square [-1, 1]² seen by the camera (row 0 at the top, y = +1), in the
same units as that square, so slopes and cast shadows do not depend on the resolution. The kinds imitate SynthRTI's
three objects: ``bumps`` a nearly flat surface with fine bumps, ``basrelief`` raised rounded shapes on a plane,
``tablet`` a slab with carved wedge-shaped marks; ``flat`` is the plane used to check the lights.
"""

from __future__ import annotations

import numpy as np

KINDS = ("flat", "bumps", "basrelief", "tablet")
DEPTH = 0.1
"""The depth the built-in reliefs are made at (their highest and lowest points are about this far apart)."""
MARGIN = 2
"""Pixels of surface beyond each edge of the frame: the render's pixel filter reaches past the edge pixels."""


def grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """x (right) and y (up) coordinates of the vertex grid of a ``size``-pixel frame, one quad per pixel, row 0 at
    the top: [-1, 1] and ``MARGIN`` pixels more on each side, (size + 1 + 2·MARGIN)² vertices."""
    reach = 1.0 + 2.0 * MARGIN / size
    t = np.linspace(-reach, reach, size + 1 + 2 * MARGIN)
    x, y = np.meshgrid(t, -t)
    return x, y


def make(kind: str, size: int, seed: int) -> np.ndarray:
    """Heights at the vertices of :func:`grid` for a built-in ``kind``."""
    x, y = grid(size)
    rng = np.random.default_rng(seed)
    if kind == "flat":
        return np.zeros_like(x)
    if kind == "bumps":
        return _bumps(x, y, rng)
    if kind == "basrelief":
        return _basrelief(x, y, rng)
    if kind == "tablet":
        return _tablet(x, y, rng)
    raise ValueError(f"unknown relief {kind!r} (choose from {', '.join(KINDS)})")


def from_image(gray: np.ndarray, size: int, depth: float = 0.1) -> np.ndarray:
    """Heights at the vertices of :func:`grid` from a grey image (rows top to bottom, values in [0, 1]) stretched over
    [-1, 1]², white high; the margin repeats the image's edge."""
    x, y = grid(size)
    cols = np.clip((x[0] + 1.0) / 2.0, 0.0, 1.0) * (gray.shape[1] - 1)
    rows = np.clip((1.0 - y[:, 0]) / 2.0, 0.0, 1.0) * (gray.shape[0] - 1)
    r0 = np.clip(np.floor(rows).astype(int), 0, max(gray.shape[0] - 2, 0))
    c0 = np.clip(np.floor(cols).astype(int), 0, max(gray.shape[1] - 2, 0))
    r1, c1 = np.minimum(r0 + 1, gray.shape[0] - 1), np.minimum(c0 + 1, gray.shape[1] - 1)
    fr, fc = (rows - r0)[:, None], (cols - c0)[None, :]
    top = gray[r0][:, c0] * (1 - fc) + gray[r0][:, c1] * fc
    bottom = gray[r1][:, c0] * (1 - fc) + gray[r1][:, c1] * fc
    return depth * (top * (1 - fr) + bottom * fr)


def _bumps(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Hundreds of small Gaussian bumps and dents over a gentle swell."""
    height = 0.02 * np.sin(1.3 * x + rng.uniform(0, 6)) * np.cos(1.1 * y + rng.uniform(0, 6))
    for cx, cy, r, a in zip(rng.uniform(-1.1, 1.1, 400), rng.uniform(-1.1, 1.1, 400), rng.uniform(0.015, 0.07, 400),
                            rng.uniform(-0.6, 1.0, 400)):
        height += a * 0.4 * r * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r))
    return height


def _basrelief(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Raised discs, ellipses and rounded bars with soft edges, some stacked, on a flat ground."""
    height = np.zeros_like(x)
    for _ in range(14):
        cx, cy = rng.uniform(-0.8, 0.8, 2)
        a, b = rng.uniform(0.08, 0.35), rng.uniform(0.08, 0.35)
        angle = rng.uniform(0, np.pi)
        u = ((x - cx) * np.cos(angle) + (y - cy) * np.sin(angle)) / a
        v = (-(x - cx) * np.sin(angle) + (y - cy) * np.cos(angle)) / b
        d = np.sqrt(u * u + v * v) if rng.uniform() < 0.6 else np.maximum(np.abs(u), np.abs(v))
        edge = 0.04 / min(a, b)
        plateau = np.clip((1.0 - d) / edge, 0.0, 1.0)
        dome = np.sqrt(np.clip(1.0 - d * d, 0.0, None))
        height = np.maximum(height, rng.uniform(0.04, 0.09) * plateau * (0.6 + 0.4 * dome))
    return height


def _tablet(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A slightly domed slab with rows of carved wedges: a V-groove with a triangular head, like cuneiform."""
    height = 0.05 * (1.0 - 0.15 * (x * x + y * y))
    carve = np.zeros_like(x)
    for row in np.linspace(-0.8, 0.8, 7):
        for cx in np.arange(-0.85, 0.86, 0.14) + rng.uniform(-0.03, 0.03):
            if rng.uniform() < 0.15:
                continue
            cy = row + rng.uniform(-0.04, 0.04)
            angle = rng.choice([0.0, np.pi / 2, np.pi / 4, -np.pi / 4]) + rng.uniform(-0.15, 0.15)
            length, width, depth = rng.uniform(0.06, 0.11), rng.uniform(0.008, 0.014), rng.uniform(0.012, 0.02)
            along = (x - cx) * np.cos(angle) + (y - cy) * np.sin(angle)
            across = -(x - cx) * np.sin(angle) + (y - cy) * np.cos(angle)
            inside = (along > 0) & (along < length)
            groove = np.where(inside, np.clip(1.0 - np.abs(across) / width, 0.0, None), 0.0)
            head_half = 2.5 * width * np.clip(1.0 - along / (0.35 * length), 0.0, None)
            head = np.where(along > -width, np.clip(1.0 - np.abs(across) / np.maximum(head_half, 1e-9), 0, None), 0)
            head *= along < 0.35 * length
            carve = np.maximum(carve, depth * np.maximum(groove, 1.3 * head))
    return height - carve
