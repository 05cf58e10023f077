"""Classic RTI: per-pixel linear fits of PTM and HSH bases, the baselines every RTI user knows.

Methods (coefficients per pixel): ``ptm`` RGB-PTM (18), ``lptm`` LRGB-PTM (6 luminance + RGB chroma = 9),
``hsh2`` (12), ``hsh3`` (27); ``hsh4`` (48) exists for reading RTIViewer files. A fit is one pseudo-inverse of the
N×K basis matrix applied to every pixel; the stack is converted to float one tile at a time, so memory stays at the
stored stack plus the coefficients.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from ..capture.images import display
from ..capture.mlic import MLIC
from ..errors import RTIError
from . import hsh, ptm

METHODS = ("ptm", "lptm", "hsh2", "hsh3")
TILE_PIXELS = 1 << 17


def method_terms(method: str) -> int:
    """Number of basis terms of a method (per channel, or of luminance for lptm)."""
    if method in ("ptm", "lptm"):
        return ptm.TERMS
    if method.startswith("hsh") and method[3:].isdigit() and int(method[3:]) in hsh.ORDERS:
        return int(method[3:]) ** 2
    raise RTIError(f"unknown method {method!r} (choose from {', '.join(METHODS)})")


def coefficients_per_pixel(method: str) -> int:
    """Stored numbers per pixel: terms × 3 channels, or 6 luminance terms + 3 chroma for lptm."""
    return method_terms(method) + 3 if method == "lptm" else 3 * method_terms(method)


@dataclass
class ClassicRTI:
    """A fitted PTM or HSH model.

    ``coeffs`` is (K, H, W, 3), or (K, H, W, 1) luminance for ``lptm`` whose colour is ``luminance × chroma`` with
    ``chroma`` (H, W, 3). Values are on the scale of images in [0, 1].
    """

    method: str
    coeffs: np.ndarray
    chroma: np.ndarray | None = None
    lights: np.ndarray | None = None
    hsh_min_elevation: float = hsh.MIN_ELEVATION
    training: dict = field(default_factory=dict)
    """How the fit was made (``seconds``, ``lights``), kept by web folders; empty when unknown."""
    colorprofile: str = "sRGB"
    """"sRGB": the coefficients fit display values (ours, RTIViewer's); "RGB": linear values (relight since 2026)."""

    def __post_init__(self) -> None:
        k = method_terms(self.method)
        channels = 1 if self.method == "lptm" else 3
        if self.coeffs.ndim != 4 or self.coeffs.shape[0] != k or self.coeffs.shape[3] != channels:
            raise ValueError(f"{self.method}: coefficients must be ({k}, H, W, {channels}), got {self.coeffs.shape}")
        if (self.method == "lptm") != (self.chroma is not None):
            raise ValueError("chroma is required for lptm and only for lptm")

    @property
    def height(self) -> int:
        return int(self.coeffs.shape[1])

    @property
    def width(self) -> int:
        return int(self.coeffs.shape[2])

    def basis(self, lights: np.ndarray) -> np.ndarray:
        """Basis functions (N, K) at unit light directions (N, 3)."""
        return method_basis(self.method, lights, self.hsh_min_elevation)

    def chroma_in_unit_range(self) -> tuple[np.ndarray, np.ndarray]:
        """LRGB as (luminance coefficients × peak, chroma / peak): the same colours with chroma in [0, 1].

        File formats store chroma as plain 8-bit colour, so they need this form.
        """
        assert self.chroma is not None, "only lptm models have chroma"
        peak = np.maximum(self.chroma.max(axis=2), 1e-12)
        return self.coeffs * peak[None, :, :, None], self.chroma / peak[..., None]

    def relight(self, light: np.ndarray) -> np.ndarray:
        """The float RGB image (H, W, 3) under one unit light direction, sRGB-encoded (display values); not clipped."""
        weights = self.basis(np.asarray(light, dtype=np.float64).reshape(1, 3))[0].astype(np.float32)
        image = np.tensordot(weights, self.coeffs, axes=1)
        return display(image * self.chroma if self.chroma is not None else image, self.colorprofile)


def method_basis(method: str, lights: np.ndarray, hsh_min_elevation: float = hsh.MIN_ELEVATION) -> np.ndarray:
    """Basis matrix (N, K) of a method at unit light directions (N, 3)."""
    terms = method_terms(method)
    if method in ("ptm", "lptm"):
        return ptm.basis(lights)
    return hsh.basis(lights, int(round(terms**0.5)), hsh_min_elevation)


def fit(mlic: MLIC, method: str, quiet: bool = True) -> ClassicRTI:
    """Least-squares fit of ``method`` to every pixel of an MLIC (images scaled to [0, 1])."""
    started = time.perf_counter()
    basis = method_basis(method, mlic.lights)
    k = basis.shape[1]
    if mlic.count < k:
        raise RTIError(f"{method} needs at least {k} lights, the MLIC has {mlic.count}")
    solve = np.linalg.pinv(basis).astype(np.float32)
    n, h, w = mlic.count, mlic.height, mlic.width
    pixels = mlic.images.reshape(n, h * w, 3)
    scale = np.float32(1.0 / mlic.max_value)
    coeffs = np.empty((k, h * w, 1 if method == "lptm" else 3), dtype=np.float32)
    chroma = np.empty((h * w, 3), dtype=np.float32) if method == "lptm" else None
    starts = range(0, h * w, TILE_PIXELS)
    for start in tqdm(starts, desc=f"fitting {method}", unit="tile", disable=quiet or None, leave=False):
        stop = min(start + TILE_PIXELS, h * w)
        tile = pixels[:, start:stop].astype(np.float32) * scale
        if chroma is None:
            coeffs[:, start:stop] = (solve @ tile.reshape(n, -1)).reshape(k, stop - start, 3)
        else:
            luminance = tile.mean(axis=2)
            coeffs[:, start:stop, 0] = solve @ luminance
            chroma[start:stop] = _chroma(tile, luminance)
    return ClassicRTI(
        method,
        coeffs.reshape(k, h, w, -1),
        None if chroma is None else chroma.reshape(h, w, 3),
        lights=mlic.lights.copy(),
        training={"seconds": time.perf_counter() - started, "device": "cpu", "lights": n},  # unrounded: never 0
    )


def _chroma(tile: np.ndarray, luminance: np.ndarray) -> np.ndarray:
    """Per-pixel RGB factor c minimising Σ_lights |rgb − luminance·c|² (tile (N, P, 3), luminance (N, P))."""
    num = np.einsum("npc,np->pc", tile, luminance)
    den = np.einsum("np,np->p", luminance, luminance)[:, None]
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)
