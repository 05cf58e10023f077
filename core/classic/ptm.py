"""Polynomial texture maps (Malzbender et al. 2001): c(u, v) = a0·u² + a1·v² + a2·uv + a3·u + a4·v + a5.

(u, v) = (lx, ly). The coefficient order a0..a5 is the one of the ``.ptm`` file format and of our models.
"""

from __future__ import annotations

import numpy as np

TERMS = 6


def basis(lights: np.ndarray) -> np.ndarray:
    """PTM basis (N, 6) at unit light directions (N, 3)."""
    u, v = lights[:, 0], lights[:, 1]
    return np.stack([u * u, v * v, u * v, u, v, np.ones_like(u)], axis=-1)
