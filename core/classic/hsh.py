"""Hemispherical harmonics (Gautron et al. 2004) as used by RTIBuilder, relight and OpenLIME.

θ = acos(lz) clamped to π/2 − ``min_elevation`` (grazing lights make the basis unstable), φ = atan2(ly, lx) in
[0, 2π), c = cos θ, s = √(c − c²). Order n has n² terms: 4, 9 or 16.
"""

from __future__ import annotations

import numpy as np

MIN_ELEVATION = 0.01
"""Clamp (radians) used by our fits, as in the method notes."""

OPENLIME_MIN_ELEVATION = 0.15
"""Clamp (radians) of OpenLIME's HSH shader: used for relight folders that do not record their own."""

ORDERS = (2, 3, 4)


def basis(lights: np.ndarray, order: int, min_elevation: float = MIN_ELEVATION) -> np.ndarray:
    """HSH basis (N, order²) at unit light directions (N, 3)."""
    if order not in ORDERS:
        raise ValueError(f"HSH order must be one of {ORDERS}, got {order}")
    theta = np.minimum(np.arccos(np.clip(lights[:, 2], -1.0, 1.0)), np.pi / 2 - min_elevation)
    phi = np.arctan2(lights[:, 1], lights[:, 0]) % (2 * np.pi)
    c = np.cos(theta)
    s = np.sqrt(c - c * c)
    pi = np.pi
    terms = [
        np.full_like(c, 1 / np.sqrt(2 * pi)),
        np.sqrt(6 / pi) * np.cos(phi) * s,
        np.sqrt(3 / (2 * pi)) * (2 * c - 1),
        np.sqrt(6 / pi) * np.sin(phi) * s,
    ]
    if order >= 3:
        terms += [
            np.sqrt(30 / pi) * np.cos(2 * phi) * (c * c - c),
            np.sqrt(30 / pi) * np.cos(phi) * (2 * c - 1) * s,
            np.sqrt(5 / (2 * pi)) * (6 * c * c - 6 * c + 1),
            np.sqrt(30 / pi) * np.sin(phi) * (2 * c - 1) * s,
            np.sqrt(30 / pi) * np.sin(2 * phi) * (c * c - c),
        ]
    if order >= 4:
        s3 = (c - c * c) ** 1.5
        p = 5 * c * c - 5 * c + 1
        terms += [
            2 * np.sqrt(35 / pi) * np.cos(3 * phi) * s3,
            np.sqrt(210 / pi) * np.cos(2 * phi) * (2 * c - 1) * (c * c - c),
            2 * np.sqrt(21 / pi) * np.cos(phi) * s * p,
            np.sqrt(7 / (2 * pi)) * (20 * c**3 - 30 * c * c + 12 * c - 1),
            2 * np.sqrt(21 / pi) * np.sin(phi) * s * p,
            np.sqrt(210 / pi) * np.sin(2 * phi) * (2 * c - 1) * (c * c - c),
            2 * np.sqrt(35 / pi) * np.sin(3 * phi) * s3,
        ]
    return np.stack(terms, axis=-1)
