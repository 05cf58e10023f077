"""relight's PCA models: per-pixel coefficient planes and an RGB basis interpolated over light directions.

relight-cli's default (``type: "rbf"``) and its ``bilinear`` type store, per pixel, P coefficients (principal
components of the pixel's colours under the capture's lights) and, per light direction d of a set of D, a mean colour
and one RGB basis colour per coefficient. A pixel's colour under light l is

    colour = mean(l) + Σ_p coefficient_p · basis_p(l),

with mean(l) and basis_p(l) interpolated from the D directions: by normalised Gaussian radial basis functions of
width ``sigma`` around the capture's lights (``rbf``; weights under 0.001 dropped, the rest renormalised), or
bilinearly over a ``resolution``² grid of the light hemisphere folded onto a square (``bilinear``). The per-light
part is a (P + 1) × 3 table computed once per light; the per-pixel part is a dot product, as fast as HSH.

Colours are on the scale of images in [0, 1], in the folder's colour profile: ``"sRGB"`` (display values) or
``"RGB"`` (linear light, relight's default since 2026), which :meth:`InterpolatedRTI.relight` encodes to sRGB.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..capture.images import display

METHODS = ("rbf", "bilinear")
GRID = 128
"""Side of the grid of light directions an RBF model's per-light table is tabulated on for a shader (128²: within a
quarter of an 8-bit level of the exact interpolation on relight's sigma of 0.125)."""
SIGNIFICANT = 0.001
"""RBF weights at or below this (after normalising) are dropped, as relight and OpenLIME do."""


@dataclass
class InterpolatedRTI:
    """``planes`` (P, H, W) float32 coefficients; ``basis`` (P + 1, D, 3) float32: the mean colour, then each
    coefficient's RGB basis colour, at D light directions (``lights`` (D, 3) for rbf; a ``resolution``² grid for
    bilinear, index x + y · resolution)."""

    method: str
    planes: np.ndarray
    basis: np.ndarray
    lights: np.ndarray | None = None
    sigma: float = 0.125
    resolution: int = 0
    colorprofile: str = "sRGB"
    training: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown interpolated method {self.method!r}")
        if self.planes.ndim != 3 or self.basis.ndim != 3 or self.basis.shape[0] != len(self.planes) + 1:
            raise ValueError(f"planes (P, H, W) need a basis (P + 1, D, 3), got {self.planes.shape}, "
                             f"{self.basis.shape}")
        directions = len(self.lights) if self.method == "rbf" and self.lights is not None else self.resolution**2
        if self.basis.shape[1:] != (directions, 3):
            raise ValueError(f"{self.method}: basis must be (P + 1, {directions}, 3), got {self.basis.shape}")

    @property
    def height(self) -> int:
        return int(self.planes.shape[1])

    @property
    def width(self) -> int:
        return int(self.planes.shape[2])

    def interpolation(self, lights: np.ndarray) -> np.ndarray:
        """Weights (L, D) of the D basis directions for unit light directions (L, 3)."""
        lights = np.asarray(lights, dtype=np.float64).reshape(-1, 3)
        if self.method == "rbf":
            assert self.lights is not None
            squared = ((lights[:, None, :] - self.lights[None, :, :]) ** 2).sum(axis=2)
            weights = np.exp(-squared / self.sigma**2)
            weights /= weights.sum(axis=1, keepdims=True)
            weights[weights <= SIGNIFICANT] = 0.0
            return weights / weights.sum(axis=1, keepdims=True)
        return bilinear_weights(lights, self.resolution)

    def light_weights(self, lights: np.ndarray) -> np.ndarray:
        """The per-light table (L, P + 1, 3): the mean colour, then each coefficient's basis colour."""
        return np.einsum("ld,pdc->lpc", self.interpolation(lights), self.basis).astype(np.float32)

    def light_table(self) -> np.ndarray:
        """The per-light table on a square grid of light directions (P + 1, G, G, 3), row j and column i at the
        folded light coordinates (u, v) = (i, j) / (G − 1) (:func:`fold`): bilinear models' own grid, an RBF model's
        table at ``GRID``² directions. Sampled bilinearly at a light's (u, v), it gives the light's table (exactly
        for bilinear models): what a shader looks up instead of interpolating every basis light per pixel."""
        if self.method == "bilinear":
            return self.basis.reshape(len(self.basis), self.resolution, self.resolution, 3)
        steps = np.linspace(0.0, 1.0, GRID)
        u, v = np.meshgrid(steps, steps)
        table = self.light_weights(unfold(u.ravel(), v.ravel()))  # (G², P + 1, 3)
        return np.ascontiguousarray(table.reshape(GRID, GRID, -1, 3).transpose(2, 0, 1, 3))

    def relight(self, light: np.ndarray) -> np.ndarray:
        """The RGB image (H, W, 3) under one unit light direction, sRGB-encoded (display values); not clipped."""
        table = self.light_weights(light)[0]
        image = table[0] + np.tensordot(self.planes, table[1:], axes=(0, 0))
        return display(image, self.colorprofile)


def fold(lights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """relight's square of light directions: (u, v) in [0, 1]² of unit directions (L, 3), the hemisphere projected
    onto |x| + |y| + |z| = 1 and turned 45°."""
    s = np.abs(lights).sum(axis=1)
    return ((lights[:, 0] + lights[:, 1]) / s + 1.0) / 2.0, ((lights[:, 1] - lights[:, 0]) / s + 1.0) / 2.0


def unfold(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The unit directions (L, 3) at folded coordinates (u, v): the inverse of :func:`fold` (every point of the
    square is a direction of the upper hemisphere)."""
    x, y = 2.0 * u - 1.0, 2.0 * v - 1.0
    lx, ly = (x - y) / 2.0, (x + y) / 2.0
    directions = np.stack([lx, ly, 1.0 - np.abs(lx) - np.abs(ly)], axis=-1)
    return directions / np.linalg.norm(directions, axis=-1, keepdims=True)


def bilinear_weights(lights: np.ndarray, resolution: int) -> np.ndarray:
    """Weights (L, resolution²) of relight's bilinear grid over the folded square (:func:`fold`): the four grid nodes
    around each light."""
    u, v = fold(lights)
    u, v = u * (resolution - 1), v * (resolution - 1)
    x0 = np.clip(np.floor(u), 0, resolution - 2).astype(int)
    y0 = np.clip(np.floor(v), 0, resolution - 2).astype(int)
    dx, dy = u - x0, v - y0
    weights = np.zeros((len(lights), resolution * resolution))
    rows = np.arange(len(lights))
    for ox, oy, w in ((0, 0, (1 - dx) * (1 - dy)), (1, 0, dx * (1 - dy)), (0, 1, (1 - dx) * dy), (1, 1, dx * dy)):
        np.add.at(weights, (rows, (x0 + ox) + (y0 + oy) * resolution), w)
    return weights
