"""Surface normals and albedo by photometric stereo, from an MLIC's photos or from a fitted model.

Lambert's law, I = ρ·max(0, n·l): per pixel, least squares over the lights gives g = ρ·n, so n = g/|g| and ρ = |g|.
Photos store sRGB-encoded values, so intensities are decoded to linear light first. A model (PTM, HSH, neural) is
sampled under ``VIRTUAL_LIGHTS`` and solved the same way, as RTIViewer and OpenLIME do for PTM and HSH.

Methods:
- ``l2``: every sample of every pixel, plain least squares (what relight and RTIBuilder do by default). Shadows pull
  the normal away from the lights that cast them, highlights toward the mirror direction.
- ``robust``: per pixel, samples at the top of the stored range (saturated) never count. A first normal comes from
  the rest less their darkest ``DARK_FRACTION`` (attached and cast shadows) and brightest ``BRIGHT_FRACTION``
  (specular highlights) by luminance. Then, ``ITERATIONS`` times, every unsaturated sample is weighed against the
  current Lambertian fit: one the normal sees from behind (n·l below ``GRAZING_COSINE``), or whose residual exceeds
  ``RESIDUAL_K`` robust standard deviations (1.4826 × the median absolute residual) plus ``RESIDUAL_FLOOR``, is left
  out, and the normal is solved again; a sample left out early can come back. Shadows fall below the fit and
  highlights above it, so both are rejected whatever their share. A pixel left with fewer than ``MIN_LIGHTS``
  samples keeps its previous answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from tqdm import tqdm

from .. import relighting
from ..capture import lights as light_patterns
from ..capture.images import LUMA, srgb_to_linear
from ..capture.mlic import MLIC
from ..errors import RTIError
from ..formats.models import Relightable

METHODS = ("l2", "robust")
DARK_FRACTION = 0.3
BRIGHT_FRACTION = 0.1
GRAZING_COSINE = 0.1
ITERATIONS = 3
RESIDUAL_K = 2.5
RESIDUAL_FLOOR = 2e-3
"""Linear-light residual always tolerated: about the rounding of an 8-bit sRGB value at mid-grey."""
MIN_LIGHTS = 6
"""Fewest samples a robust pixel solves with; fewer and it keeps the ``l2`` answer."""
TILE = 32_768
"""Pixels solved at once: the samples of a tile are (TILE, N) float32 arrays."""
VIRTUAL_LIGHTS = light_patterns.rings([30, 50, 70, 90], [12, 8, 6, 1], [0, 22.5, 0, 0])
"""Where a model is sampled: 27 lights in rings from 30° to the zenith (a model is least trustworthy at grazing
light, where captures have the fewest lights)."""


@dataclass
class Surface:
    """Unit normals (H, W, 3) in the lights' frame (x right, y up, z to the camera; zero where unknown) and linear
    albedo (H, W, 3), relative to a light of unit intensity."""

    normals: np.ndarray
    albedo: np.ndarray


def from_mlic(mlic: MLIC, method: str = "l2", quiet: bool = True) -> Surface:
    """Normals and albedo of every pixel of ``mlic`` (outside its mask: zero); a progress bar unless ``quiet``."""
    check_method(method)
    if mlic.count < 3:
        raise RTIError(f"photometric stereo needs at least 3 lights, the MLIC has {mlic.count}")
    if np.linalg.matrix_rank(mlic.lights.astype(np.float64), tol=1e-3) < 3:
        raise RTIError("photometric stereo needs lights in at least three independent directions")
    h, w = mlic.height, mlic.width
    stack = mlic.images.reshape(mlic.count, h * w, 3)
    normals, albedo = np.zeros((h * w, 3), np.float32), np.zeros((h * w, 3), np.float32)
    inside = np.ones(h * w, bool) if mlic.mask is None else mlic.mask.reshape(-1)
    linear_of = srgb_to_linear(np.arange(mlic.max_value + 1) / mlic.max_value).astype(np.float32)  # every value
    for start, stop in counted(((s, min(s + TILE, h * w)) for s in range(0, h * w, TILE)), h * w, quiet):
        rows = np.flatnonzero(inside[start:stop]) + start
        stored = np.moveaxis(stack[:, rows], 0, 1)  # (P, N, 3)
        saturated = (stored >= mlic.max_value).any(axis=2)
        normals[rows], albedo[rows] = solve(linear_of[stored], mlic.lights, method, saturated)
    return Surface(normals.reshape(h, w, 3), albedo.reshape(h, w, 3))


Tile = TypeVar("Tile", bound=tuple)


def counted(tiles: Iterator[Tile], pixels: int, quiet: bool) -> Iterator[Tile]:
    """The tiles, each ``(start, stop, ...)``, counted in a progress bar of pixels (its rate and the time left)
    unless ``quiet``."""
    with tqdm(total=pixels, desc="normals", unit="px", unit_scale=True, disable=quiet or None, leave=False) as bar:
        for tile in tiles:
            yield tile
            bar.update(tile[1] - tile[0])


def from_model(model: Relightable, method: str = "l2", lights: np.ndarray = VIRTUAL_LIGHTS, device: str = "auto",
               quiet: bool = True) -> Surface:
    """Normals and albedo of a fitted model, from its relit images under ``lights`` (display values, sRGB), relit and
    solved a tile of pixels at a time; a progress bar unless ``quiet``."""
    check_method(method)
    pixels = model.height * model.width
    normals, albedo = np.zeros((pixels, 3), np.float32), np.zeros((pixels, 3), np.float32)
    for start, stop, shown in counted(shown_tiles(model, lights, device), pixels, quiet):
        normals[start:stop], albedo[start:stop] = from_shown(shown, lights, method)
    return Surface(normals.reshape(model.height, model.width, 3), albedo.reshape(model.height, model.width, 3))


def shown_tiles(model: Relightable, lights: np.ndarray, device: str = "auto"
                ) -> Iterator[tuple[int, int, np.ndarray]]:
    """``(start, stop, shown)`` for each tile of pixels: their display values (n, N, 3) under ``lights``, clipped to
    [0, 1]."""
    for start, stop, values in relighting.relighter(model, device).by_pixels(lights, TILE):
        yield start, stop, np.clip(values, 0.0, 1.0, out=values)


def from_shown(shown: np.ndarray, lights: np.ndarray, method: str = "l2") -> tuple[np.ndarray, np.ndarray]:
    """Normals and albedo (n, 3) of pixels from their display values (n, N, 3) under ``lights`` (N, 3)."""
    saturated = (shown >= 1.0).any(axis=2) if method == "robust" else None
    return solve(srgb_to_linear(shown).astype(np.float32), lights, method, saturated)


def check_method(method: str) -> None:
    if method not in METHODS:
        raise RTIError(f"unknown normals method {method!r} (choose from {', '.join(METHODS)})")


def solve(linear: np.ndarray, lights: np.ndarray, method: str, saturated: np.ndarray | None = None
          ) -> tuple[np.ndarray, np.ndarray]:
    """Unit normals (P, 3) and albedo (P, 3) of P pixels from their linear RGB samples (P, N, 3) under ``lights``
    (N, 3); ``saturated`` (P, N) marks samples at the top of the stored range (left out by ``robust``)."""
    luma = linear @ LUMA
    lights = lights.astype(np.float32)
    normals = _normals(luma, lights, None)
    weight: np.ndarray | None = None
    if method == "robust":
        unsaturated = np.ones(luma.shape, np.float32) if saturated is None else (~saturated).astype(np.float32)
        weight = _trimmed(luma, unsaturated)
        normals = _normals(luma, lights, weight, fallback=normals)
        for _ in range(ITERATIONS):
            weight = unsaturated * _explained(luma, lights, normals, weight)
            normals = _normals(luma, lights, weight, fallback=normals)
    shading = np.clip(normals @ lights.T, 0.0, None)  # (P, N)
    weighted = shading if weight is None else weight * shading
    albedo = np.einsum("pn,pnc->pc", weighted, linear) / np.maximum((weighted * shading).sum(axis=1), 1e-6)[:, None]
    return normals, albedo.astype(np.float32)


def _trimmed(luma: np.ndarray, usable: np.ndarray) -> np.ndarray:
    """Weights (P, N): of each pixel's usable samples, all but the darkest and brightest fractions by luminance."""
    order = np.argsort(np.where(usable > 0, luma, np.inf), axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(luma.shape[1])[None, :].repeat(len(luma), axis=0), axis=1)
    count = usable.sum(axis=1, keepdims=True)
    low = np.floor(DARK_FRACTION * count)
    high = count - np.ceil(BRIGHT_FRACTION * count)
    return ((ranks >= low) & (ranks < high) & (usable > 0)).astype(np.float32)


def _explained(luma: np.ndarray, lights: np.ndarray, normals: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weights (P, N): the samples a Lambertian fit of the weighted ones explains, within ``RESIDUAL_K`` robust
    standard deviations of its residuals, and that the normal sees from the front."""
    shading = np.clip(normals @ lights.T, 0.0, None)
    front = shading > GRAZING_COSINE
    used = weights * front
    albedo = (used * shading * luma).sum(axis=1) / np.maximum((used * shading**2).sum(axis=1), 1e-6)
    residual = np.abs(luma - albedo[:, None] * shading)
    spread = 1.4826 * np.nanmedian(np.where(used > 0, residual, np.nan), axis=1)
    spread = np.nan_to_num(spread, nan=np.inf)[:, None]
    return (front & (residual <= RESIDUAL_K * spread + RESIDUAL_FLOOR)).astype(np.float32)


def _normals(luma: np.ndarray, lights: np.ndarray, weights: np.ndarray | None, fallback: np.ndarray | None = None
             ) -> np.ndarray:
    """Weighted least squares of g in luma ≈ g·l per pixel, normalised; pixels with fewer than ``MIN_LIGHTS``
    weighted samples, or an ill-posed system, take ``fallback`` (or point at the camera). Without ``weights`` every
    sample counts: then one system serves every pixel."""
    if weights is None:
        a = lights.T @ lights
        well_posed = np.full(len(luma), len(lights) >= 3 and np.linalg.det(a) > 1e-6 * len(lights) ** 3)
        g = luma @ (lights @ np.linalg.inv(a)) if well_posed.all() else np.zeros((len(luma), 3), np.float32)
    else:
        a = np.einsum("pn,ni,nj->pij", weights, lights, lights)
        b = np.einsum("pn,ni->pi", weights * luma, lights)
        well_posed = (weights.sum(axis=1) >= (MIN_LIGHTS if fallback is not None else 3)) & (
            np.linalg.det(a) > 1e-6 * np.maximum(weights.sum(axis=1), 1.0) ** 3)
        g = np.zeros_like(b)
        g[well_posed] = np.linalg.solve(a[well_posed], b[well_posed][..., None])[..., 0]
    length = np.linalg.norm(g, axis=1, keepdims=True)
    normals = np.where(length > 1e-8, g / np.maximum(length, 1e-8), np.array([0.0, 0.0, 1.0], np.float32))
    if fallback is not None:
        normals = np.where(well_posed[:, None], normals, fallback)
    return normals.astype(np.float32)


def angular_error(normals: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Degrees between two normal maps (…, 3), per pixel."""
    cosine = (normals * truth).sum(axis=-1) / np.maximum(
        np.linalg.norm(normals, axis=-1) * np.linalg.norm(truth, axis=-1), 1e-12)
    return np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))
