"""What each analysis view of a model shows, as numpy: the reference the add-on's shader nodes are tested against.

A model is sampled once under ``photometric.VIRTUAL_LIGHTS``; from those images come its normals (least squares) and a
PTM of its luminance, whose diffuse-gain coefficients are affine in the gain (``base + gain · slope``), so a shader
needs only two coefficient sets to apply any gain.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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


class ViewMaps:
    """The view maps of ``model``, made a tile of pixels at a time (:meth:`step` until it returns True, then
    :meth:`views`), so that a job can show progress and stop between tiles; ``normals`` (H, W, 3), e.g. the model
    folder's ``normals.png``, replace the ones least squares finds in the model's images under ``lights``."""

    def __init__(self, model: Relightable, lights: np.ndarray = photometric.VIRTUAL_LIGHTS,
                 normals: np.ndarray | None = None, device: str = "auto"):
        h, w = model.height, model.width
        if normals is not None and normals.shape != (h, w, 3):
            raise RTIError(f"the normal map is {normals.shape[1]}×{normals.shape[0]} but the model is {w}×{h}")
        self.shape, self.lights, self.given = (h, w), lights, normals
        self.fit_ptm = np.linalg.pinv(ptm.basis(lights)).astype(np.float32)
        self.normals, self.albedo = np.empty((h * w, 3), np.float32), np.empty((h * w, 3), np.float32)
        self.base, self.slope = np.empty((ptm.TERMS, h * w), np.float32), np.empty((ptm.TERMS, h * w), np.float32)
        self.chroma = np.empty((h * w, 3), np.float32)
        self.tiles = photometric.shown_tiles(model, lights, device)
        self.done = 0

    @property
    def progress(self) -> float:
        return self.done / (self.shape[0] * self.shape[1])

    def step(self) -> bool:
        """Relight and solve the next tile; True once every tile is done."""
        tile = next(self.tiles, None)
        if tile is None:
            return True
        start, stop, shown = tile
        self.normals[start:stop], self.albedo[start:stop] = photometric.from_shown(shown, self.lights, "l2")
        coeffs = self.fit_ptm @ (shown @ LUMA).T  # the luminance PTM (6, n), least squares over the lights
        self.base[:, start:stop], self.slope[:, start:stop] = enhance.diffuse_gain_line(coeffs)
        mean = np.einsum("nlc->nc", shown) / np.float32(len(self.lights))  # 5× numpy's mean over the middle axis
        self.chroma[start:stop] = mean / np.maximum(mean @ LUMA, 1e-6)[:, None]
        self.done = stop
        return False

    def views(self) -> Views:
        h, w = self.shape
        normals = self.normals.reshape(h, w, 3) if self.given is None else self.given.astype(np.float32)
        return Views(normals, self.albedo.reshape(h, w, 3), self.base.reshape(-1, h, w),
                     self.slope.reshape(-1, h, w), self.chroma.reshape(h, w, 3))


def prepare(model: Relightable, lights: np.ndarray = photometric.VIRTUAL_LIGHTS, normals: np.ndarray | None = None,
            device: str = "auto") -> Views:
    """The view maps of ``model`` (:class:`ViewMaps` to the end)."""
    maps = ViewMaps(model, lights, normals, device)
    while not maps.step():
        pass
    return maps.views()


def save(views: Views, path: Path | str) -> None:
    """Write the maps to an ``.npz`` file (what ``python -m core views`` hands the add-on)."""
    with open(path, "wb") as file:
        np.savez(file, **{k: getattr(views, k) for k in Views.__dataclass_fields__})


def load(path: Path | str) -> Views:
    """Maps written by :func:`save`; anything else is an RTIError."""
    try:
        with np.load(path, allow_pickle=False) as saved:
            return Views(**{k: saved[k] for k in Views.__dataclass_fields__})
    except (OSError, KeyError, ValueError) as exc:
        raise RTIError(f"{path}: not view maps ({exc})") from None


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
