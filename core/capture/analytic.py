"""Analytic MLICs: a bumpy, striped surface shaded with Lambert + Blinn-Phong, no Blender needed.

Exactly known, instantly made data for the demo and for smoke tests. It has no cast shadows or interreflections;
``synth`` renders the realistic scenes. Lights: SynthRTI's 49 dome lights to train, its 20 test lights to test.
"""

from __future__ import annotations

import numpy as np

from . import lights as light_patterns
from .mlic import MLIC

STRIPES = np.array(
    [[0.80, 0.62, 0.20], [0.18, 0.32, 0.70], [0.20, 0.60, 0.55], [0.70, 0.25, 0.55], [0.72, 0.60, 0.45],
     [0.55, 0.55, 0.55]]
)


def surface(size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normals (H, W, 3), albedo (H, W, 3) and specular weight (H, W) of a relief of random bumps.

    The albedo is in horizontal stripes; the right half is glossy, the left half matte.
    """
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size] / size
    height = np.zeros((size, size))
    for cx, cy, r in zip(rng.uniform(0.1, 0.9, 24), rng.uniform(0.1, 0.9, 24), rng.uniform(0.04, 0.16, 24)):
        d2 = ((x - cx) ** 2 + (y - cy) ** 2) / r**2
        height += r * np.sqrt(np.clip(1.0 - d2, 0.0, None)) * rng.choice([-0.6, 1.0])
    height += 0.004 * np.sin(2 * np.pi * 14 * x) * np.cos(2 * np.pi * 11 * y)
    d_row, d_col = np.gradient(height * size)
    normals = np.stack([-d_col, d_row, np.ones_like(height)], axis=-1)  # image rows go down, y goes up
    normals /= np.linalg.norm(normals, axis=-1, keepdims=True)
    albedo = STRIPES[(y * len(STRIPES)).astype(int) % len(STRIPES)]
    specular = np.where(x > 0.5, 0.5, 0.04)
    return normals, albedo, specular


def shade(normals: np.ndarray, albedo: np.ndarray, specular: np.ndarray, lights: np.ndarray,
          shininess: float = 40.0) -> np.ndarray:
    """8-bit images (N, H, W, 3): albedo·max(n·l, 0) + specular·max(n·h, 0)^shininess, viewer at +z."""
    out = np.empty((len(lights), *albedo.shape), dtype=np.uint8)
    for i, light in enumerate(lights):
        half = light + np.array([0.0, 0.0, 1.0])
        half /= np.linalg.norm(half)
        lit = normals @ light > 0
        diffuse = np.clip(normals @ light, 0.0, None)[..., None] * albedo
        gloss = (specular * np.where(lit, np.clip(normals @ half, 0.0, None) ** shininess, 0.0))[..., None]
        out[i] = np.rint(np.clip(diffuse + gloss, 0.0, 1.0) * 255).astype(np.uint8)
    return out


def scene(size: int = 192, seed: int = 0) -> tuple[MLIC, MLIC]:
    """(train, test) MLICs of the analytic surface under the SynthRTI dome and test lights."""
    normals, albedo, specular = surface(size, seed)
    parts = []
    for prefix, dirs in (("train", light_patterns.synthrti_dome()), ("test", light_patterns.synthrti_test())):
        names = [f"{prefix}_{i:03d}.png" for i in range(len(dirs))]
        parts.append(MLIC(shade(normals, albedo, specular, dirs), dirs, names))
    return parts[0], parts[1]
