"""Light directions: the SynthRTI patterns and generic hemisphere samplings.

Directions are unit vectors (lx, ly, lz) in the image frame: x = image right, y = image up, z = toward the camera.
Azimuth is measured in degrees from +x toward +y; elevation in degrees above the surface plane.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import RTIError

GOLDEN_ANGLE = np.pi * (3.0 - np.sqrt(5.0))


def from_angles(elevation_deg: np.ndarray | Sequence[float], azimuth_deg: np.ndarray | Sequence[float]) -> np.ndarray:
    """Unit directions (N, 3) from elevations and azimuths in degrees."""
    el = np.radians(np.asarray(elevation_deg, dtype=np.float64))
    az = np.radians(np.asarray(azimuth_deg, dtype=np.float64))
    return np.stack([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)], axis=-1)


def elevation(lights: np.ndarray) -> np.ndarray:
    """Elevation in degrees of unit directions (N, 3)."""
    return np.degrees(np.arcsin(np.clip(lights[:, 2], -1.0, 1.0)))


def azimuth(lights: np.ndarray) -> np.ndarray:
    """Azimuth in degrees, in [0, 360), of directions (N, 3)."""
    return np.degrees(np.arctan2(lights[:, 1], lights[:, 0])) % 360.0


def rings(
    elevations_deg: Sequence[float], counts: Sequence[int], offsets_deg: Sequence[float] | None = None
) -> np.ndarray:
    """Rings of equally spaced azimuths: ring k has ``counts[k]`` lights at ``elevations_deg[k]``.

    Ring k starts at azimuth ``offsets_deg[k]`` (default 0); a ring at 90° holds one light whatever its count.
    """
    if len(elevations_deg) != len(counts):
        raise ValueError("rings: one count per elevation is needed")
    offsets = offsets_deg if offsets_deg is not None else [0.0] * len(counts)
    parts = []
    for el, n, off in zip(elevations_deg, counts, offsets, strict=True):
        n = 1 if el >= 90.0 else int(n)
        az = off + 360.0 * np.arange(n) / n
        parts.append(from_angles(np.full(n, float(el)), az))
    return np.concatenate(parts)


def synthrti_dome() -> np.ndarray:
    """SynthRTI's 49 training ("Dome") lights: 10°×18, 30°×12, 50°×10, 70°×8, 90°×1."""
    return rings([10, 30, 50, 70, 90], [18, 12, 10, 8, 1], [10, 0, 18, 0, 0])


def synthrti_test() -> np.ndarray:
    """SynthRTI's 20 test lights, at elevations disjoint from the dome: 20°×8, 40°×4, 60°×4, 80°×4."""
    return rings([20, 40, 60, 80], [8, 4, 4, 4], [0, 22.5, 67.5, 45])


def fibonacci(n: int, min_elevation_deg: float = 0.0) -> np.ndarray:
    """``n`` near-uniform directions on the part of the hemisphere above ``min_elevation_deg`` (Fibonacci lattice)."""
    if n < 1:
        raise ValueError("fibonacci: n must be at least 1")
    z_min = np.sin(np.radians(min_elevation_deg))
    z = 1.0 - (np.arange(n) + 0.5) / n * (1.0 - z_min)
    return _from_z_phi(z, GOLDEN_ANGLE * np.arange(n))


def random(n: int, seed: int, min_elevation_deg: float = 0.0) -> np.ndarray:
    """``n`` directions drawn uniformly on the hemisphere above ``min_elevation_deg``, reproducibly from ``seed``."""
    rng = np.random.default_rng(seed)
    z_min = np.sin(np.radians(min_elevation_deg))
    return _from_z_phi(rng.uniform(z_min, 1.0, n), rng.uniform(0.0, 2.0 * np.pi, n))


def _from_z_phi(z: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """Unit vectors from height z (uniform z means uniform area on the sphere) and azimuth phi (radians)."""
    r = np.sqrt(np.clip(1.0 - z * z, 0.0, None))
    return np.stack([r * np.cos(phi), r * np.sin(phi), z], axis=-1)


def from_flat(values: object, where: str) -> np.ndarray | None:
    """The (N, 3) directions of a flat ``[x0, y0, z0, x1, …]`` list as web folders store them (None when absent or
    empty); anything else, non-numbers, non-finite values or a length that is not a multiple of 3, is an error
    naming ``where``."""
    if values is None or (isinstance(values, list) and not values):
        return None
    try:
        flat = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise RTIError(f"{where}: lights must be a flat list of numbers") from None
    if flat.ndim != 1 or len(flat) % 3 or not np.isfinite(flat).all():
        raise RTIError(f"{where}: lights must be a flat list of finite x, y, z triples, got {flat.size} values")
    return flat.reshape(-1, 3)
