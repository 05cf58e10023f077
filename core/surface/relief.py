"""Heights from normals: a normal map integrated into a height map, the relief a conservator measures.

The normals (the lights' frame: x right, y up, z toward the camera) give the height's slopes, dz/dx = −nx/nz and
dz/drow = ny/nz (rows run down), at every pixel; heights are in pixel widths. Integration finds the height map whose
forward differences between neighbouring pixels best match the mean slope of the two, in the least-squares sense:

- ``poisson``: that least-squares problem solved exactly. Its normal equations are a Poisson equation with
  Neumann boundary (Simchony, Chellappa & Shao 1990), which the discrete cosine transform diagonalises: one solve costs
  two transforms and no matrix is ever formed. With a mask,
  differences leaving the mask get a tiny weight (the outside is filled by a smooth membrane and pulls nothing
  inside), and the weighted problem is solved by conjugate gradients with the unweighted solve as preconditioner.
- ``fc``: Frankot & Chellappa 1988, the slopes projected on integrable fields in the Fourier domain with periodic
  boundaries (no mirroring): cheaper, but the frame's opposite edges pull on each other.
- ``robust`` (default): the least-squares solve reweighted a few times so that differences far from the first answer
  (wrong normals along cast-shadow edges, the walls a normal cannot see) count less (iteratively reweighted least
  squares, Cauchy weights). The most accurate on synth's suite, at about 45 conjugate-gradient iterations in all
  (BENCHMARKS.md, ``relief``).

numpy, and SciPy's DCT where it is installed: Blender's own Python, which has no SciPy, runs it too (Add Relief).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import RTIError

try:
    import scipy.fft as scipy_fft
except ImportError:  # Blender's Python: numpy's FFT instead (``mirrored_poisson``)
    scipy_fft = None

METHODS = ("robust", "poisson", "fc")
DEFAULT = "robust"
HEIGHT_NAME = "height.tif"
PREVIEW_NAME = "height.png"
TRUE_HEIGHT_NAME = "height.exr"
"""What ``synth`` writes beside ``normals.png``: the true heights, in pixel widths (``core.capture.images.read_float``
reads it)."""
MIN_NZ = 0.05
"""Normals closer to the image plane than this (slopes beyond about 87°) are clamped: a slope has no finite value at
nz = 0. Pixels whose nz is not positive are not used."""
OUTSIDE = 1e-3
"""Weight of the differences that leave the mask or touch an unusable normal, relative to the others."""
TOLERANCE = 1e-5
"""Conjugate gradients stop once the residual is this fraction of the right-hand side's norm."""
MAX_ITERATIONS = 200
ROBUST_PASSES = 4
ROBUST_SCALE = 2.0
"""Cauchy weights 1 / (1 + (r / (c·s))²) with c = this and s the residuals' robust spread (1.4826 × their median
absolute value)."""
MIN_SPREAD = 0.01
"""The least spread the weights assume (slope, pixel widths per pixel): residuals of nearly exact normals would
otherwise make the weights span many orders of magnitude and the conjugate gradients stall."""


@dataclass
class Relief:
    """Heights (H, W) in pixel widths (mean 0 over the pixels used), the pixels used (inside the mask, a normal
    facing the camera), and how they were found."""

    heights: np.ndarray
    usable: np.ndarray
    method: str
    iterations: int = 0


def slopes(normals: np.ndarray, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """dz/dx, dz/drow (H, W) of unit normals (H, W, 3), and where they can be used (inside ``mask`` and nz > 0)."""
    if normals.ndim != 3 or normals.shape[2] != 3:
        raise RTIError(f"normals must be (H, W, 3), got {normals.shape}")
    if min(normals.shape[:2]) < 2:
        raise RTIError(f"a height map needs at least 2×2 pixels, got {normals.shape[1]}×{normals.shape[0]}")
    usable = np.isfinite(normals).all(axis=2) & (normals[..., 2] > 0)
    if mask is not None:
        if mask.shape != normals.shape[:2]:
            raise RTIError(f"the mask is {mask.shape[1]}×{mask.shape[0]}, the normals {normals.shape[1]}×"
                           f"{normals.shape[0]}")
        usable &= mask
    if not usable.any():
        raise RTIError("no usable normal (every pixel is masked out or faces away from the camera)")
    nz = np.where(usable, np.maximum(normals[..., 2], MIN_NZ), 1.0)
    p = np.where(usable, -normals[..., 0] / nz, 0.0)
    q = np.where(usable, normals[..., 1] / nz, 0.0)
    return p, q, usable


def integrate(normals: np.ndarray, mask: np.ndarray | None = None, method: str = DEFAULT,
              progress: Callable[[float], None] | None = None) -> Relief:
    """The height map of ``normals`` (H, W, 3) by ``method`` (``METHODS``); ``progress`` gets the fraction done."""
    if method not in METHODS:
        raise RTIError(f"unknown integration method {method!r} (choose from {', '.join(METHODS)})")
    p, q, usable = slopes(normals, mask)
    gx, gy = (p[:, :-1] + p[:, 1:]) / 2, (q[:-1] + q[1:]) / 2  # the slope between two neighbours
    inside_x, inside_y = usable[:, :-1] & usable[:, 1:], usable[:-1] & usable[1:]
    wx, wy = np.where(inside_x, 1.0, OUTSIDE), np.where(inside_y, 1.0, OUTSIDE)
    if method == "fc":
        heights, iterations = frankot_chellappa(p, q), 0
    elif method == "poisson" and usable.all():
        heights, iterations = poisson(divergence(gx, gy)), 0
    else:
        passes = ROBUST_PASSES if method == "robust" else 1
        heights, iterations = np.zeros(usable.shape), 0
        for k in range(passes):
            if k:
                rx, ry = np.diff(heights, axis=1) - gx, np.diff(heights, axis=0) - gy
                inside = np.concatenate([rx[inside_x], ry[inside_y]])
                spread = max(1.4826 * float(np.median(np.abs(inside))), MIN_SPREAD) * ROBUST_SCALE
                wx = np.where(inside_x, 1.0 / (1.0 + (rx / spread) ** 2), OUTSIDE)
                wy = np.where(inside_y, 1.0 / (1.0 + (ry / spread) ** 2), OUTSIDE)
            heights, used = weighted(gx, gy, wx, wy, heights)
            iterations += used
            if progress is not None:
                progress((k + 1) / passes)
    heights -= heights[usable].mean()
    return Relief(heights, usable, method, iterations)


def divergence(gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """Dxᵀgx + Dyᵀgy (H, W) for slopes between horizontal (H, W−1) and vertical (H−1, W) neighbours: the right-hand
    side of the least-squares problem's normal equations (D: forward differences)."""
    out = np.zeros((gy.shape[0] + 1, gx.shape[1] + 1))
    out[:, :-1] -= gx
    out[:, 1:] += gx
    out[:-1] -= gy
    out[1:] += gy
    return out


def laplacian(z: np.ndarray, wx: np.ndarray | float = 1.0, wy: np.ndarray | float = 1.0) -> np.ndarray:
    """Dxᵀ(wx·Dx z) + Dyᵀ(wy·Dy z): the normal equations' matrix applied to ``z``, weighted per difference."""
    return divergence(wx * np.diff(z, axis=1), wy * np.diff(z, axis=0))


def poisson(rhs: np.ndarray) -> np.ndarray:
    """The zero-mean solution of laplacian(z) = rhs (Neumann boundary; ``rhs`` must sum to zero), diagonalised by
    the DCT-II (eigenvalues 4 − 2cos(πk/H) − 2cos(πl/W)): SciPy's DCT where SciPy is installed, else (Blender's
    Python) the FFT of the mirrored field, which is periodic and gives the same solution at 16 times the cost."""
    h, w = rhs.shape
    eigen = (2.0 - 2.0 * np.cos(np.pi * np.arange(h) / h))[:, None] + (2.0 - 2.0 * np.cos(np.pi * np.arange(w) / w))
    eigen[0, 0] = 1.0
    if scipy_fft is not None:
        spectrum = scipy_fft.dctn(rhs, type=2, norm="ortho", workers=-1)
        spectrum /= eigen
        spectrum[0, 0] = 0.0
        return scipy_fft.idctn(spectrum, type=2, norm="ortho", workers=-1)
    return mirrored_poisson(rhs)


def mirrored_poisson(rhs: np.ndarray) -> np.ndarray:
    """``poisson`` by numpy alone: the mirrored field (2H, 2W) is periodic, so its FFT diagonalises the Laplacian."""
    h, w = rhs.shape
    mirrored = np.block([[rhs, rhs[:, ::-1]], [rhs[::-1], rhs[::-1, ::-1]]])
    spectrum = np.fft.rfft2(mirrored)
    del mirrored
    ky = 2.0 - 2.0 * np.cos(np.pi * np.arange(2 * h) / h)
    kx = 2.0 - 2.0 * np.cos(np.pi * np.arange(w + 1) / w)
    eigen = ky[:, None] + kx[None, :]
    eigen[0, 0] = 1.0
    spectrum /= eigen
    spectrum[0, 0] = 0.0
    return np.fft.irfft2(spectrum, s=(2 * h, 2 * w))[:h, :w]


def frankot_chellappa(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Frankot & Chellappa's integrable projection of the slopes (periodic boundary), zero mean."""
    h, w = p.shape
    u = 2.0 * np.pi * np.fft.fftfreq(w)[None, :]
    v = 2.0 * np.pi * np.fft.fftfreq(h)[:, None]
    denominator = u**2 + v**2
    denominator[0, 0] = 1.0
    spectrum = (-1j * u * np.fft.fft2(p) - 1j * v * np.fft.fft2(q)) / denominator
    spectrum[0, 0] = 0.0
    return np.fft.ifft2(spectrum).real


def weighted(gx: np.ndarray, gy: np.ndarray, wx: np.ndarray, wy: np.ndarray,
             start: np.ndarray) -> tuple[np.ndarray, int]:
    """The weighted least-squares heights by conjugate gradients from ``start``, preconditioned by the unweighted
    solve; the heights and the iterations used."""
    rhs = divergence(wx * gx, wy * gy)
    z = start.copy()
    r = rhs - laplacian(z, wx, wy)
    goal = TOLERANCE * max(float(np.linalg.norm(rhs)), 1e-30)
    s = poisson(r)
    d = s.copy()
    rs = float(np.vdot(r, s))
    for iteration in range(1, MAX_ITERATIONS + 1):
        if np.linalg.norm(r) <= goal:
            return z, iteration - 1
        ad = laplacian(d, wx, wy)
        step = rs / float(np.vdot(d, ad))
        z += step * d
        r -= step * ad
        s = poisson(r)
        rs, previous = float(np.vdot(r, s)), rs
        d = s + (rs / previous) * d
    return z, MAX_ITERATIONS
