"""What each analysis view of a model shows, as numpy: the reference the add-on's shader nodes are tested against.

A model is sampled once under ``photometric.VIRTUAL_LIGHTS``; from those images come its normals (least squares) and a
PTM of its luminance, whose diffuse-gain coefficients are affine in the gain (``base + gain · slope``), so a shader
needs only two coefficient sets to apply any gain.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..capture.images import LUMA
from ..classic import ptm
from ..errors import RTIError
from ..formats.models import Relightable
from . import enhance, photometric

VIEWS = ("relit", "normals", "specular", "diffuse_gain")


@dataclass
class Views:
    """Per-pixel maps behind the views: unit normals (H, W, 3), albedo (H, W, 3), the diffuse-gain PTM of the
    luminance as ``gain_base + gain · gain_slope`` (6, H, W each) and the chroma that colours it (H, W, 3)."""

    normals: np.ndarray
    albedo: np.ndarray
    gain_base: np.ndarray
    gain_slope: np.ndarray
    chroma: np.ndarray


def prepare(model: Relightable, lights: np.ndarray = photometric.VIRTUAL_LIGHTS, normals: np.ndarray | None = None,
            device: str = "auto") -> Views:
    """The view maps of ``model``, from its images under ``lights``, a tile of pixels at a time; ``normals``
    (H, W, 3), e.g. the model folder's ``normals.png``, replace the ones least squares finds in those images."""
    h, w = model.height, model.width
    if normals is not None and normals.shape != (h, w, 3):
        raise RTIError(f"the normal map is {normals.shape[1]}×{normals.shape[0]} but the model is {w}×{h}")
    fit_ptm = np.linalg.pinv(ptm.basis(lights))
    found, albedo = np.empty((h * w, 3), np.float32), np.empty((h * w, 3), np.float32)
    base, slope = np.empty((ptm.TERMS, h * w), np.float32), np.empty((ptm.TERMS, h * w), np.float32)
    chroma = np.empty((h * w, 3), np.float32)
    for start, stop, shown in photometric.shown_tiles(model, lights, device):
        found[start:stop], albedo[start:stop] = photometric.from_shown(shown, lights, "l2")
        coeffs = fit_ptm @ (shown @ LUMA).T  # the luminance PTM (6, n), least squares over the lights
        base[:, start:stop] = enhance.diffuse_gain(coeffs, 0.0)
        slope[:, start:stop] = enhance.diffuse_gain(coeffs, 1.0) - base[:, start:stop]
        mean = shown.mean(axis=1)
        chroma[start:stop] = mean / np.maximum(mean @ LUMA, 1e-6)[:, None]
    return Views(found.reshape(h, w, 3) if normals is None else normals.astype(np.float32), albedo.reshape(h, w, 3),
                 base.reshape(-1, h, w), slope.reshape(-1, h, w), chroma.reshape(h, w, 3))


def render(model: Relightable, views: Views, view: str, light: np.ndarray, exponent: float = 40.0,
           strength: float = 0.5, gain: float = 2.0) -> np.ndarray:
    """The display colour (H, W, 3), unclipped, of one view under ``light``."""
    if view == "relit":
        return model.relight(light)
    if view == "normals":
        return (views.normals * 0.5 + 0.5).astype(np.float32)
    if view == "specular":
        return enhance.specular_enhancement(model.relight(light), views.normals, light, exponent, strength)
    if view == "diffuse_gain":
        return enhance.relight_ptm(views.gain_base + gain * views.gain_slope, views.chroma, light).astype(np.float32)
    raise RTIError(f"unknown view {view!r} (choose from {', '.join(VIEWS)})")
