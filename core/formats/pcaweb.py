"""relight's ``rbf`` and ``bilinear`` web folders (relight-cli's default output): read into an ``InterpolatedRTI``.

The contract, as relight writes and renders it and OpenLIME displays it:
- ``nplanes`` coefficient planes (``colorspace: "mycc"``: ``yccplanes`` [Y, Co, Cg] planes instead), three to a
  ``plane_J.jpg``; a texel t = byte/255 means (t − bias)·scale with ``materials[0]``'s ``scale`` and ``bias``.
- ``basis`` (or, from relight before 2024, the file ``materials.bin``): (nplanes + 1) × D × 3 bytes, plane-major,
  then direction, then channel: the mean colour (byte/255), then each coefficient's basis colour ((byte −
  127)/``range`` of its plane). D is the number of ``lights`` (rbf, with ``sigma``) or ``resolution``² (bilinear).
- ``mrgb``: colours are RGB. ``mycc``: they are relight's YCoCg (Y, Co = R − B, Cg = G − (R + B)/2); the first
  3·Co planes take turns (Y, Co, Cg), the rest add to Y alone. The conversion to RGB is linear, so it is folded into
  the basis here and the model stays RGB.
- ``colorprofile``: "RGB" (linear), "sRGB", or absent (sRGB, before relight 2026); other profiles are refused.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..capture import lights as light_utils
from ..classic.interpolated import InterpolatedRTI
from ..errors import RTIError
from . import deepzoom, infojson

YCOCG_TO_RGB = np.array([[1.0, 0.5, -0.5], [1.0, 0.0, 0.5], [1.0, -0.5, -0.5]])
"""relight's YCoCg (Y, Co, Cg) to RGB: R = Y + Co/2 − Cg/2, G = Y + Cg/2, B = Y − Co/2 − Cg/2."""


def read(folder: Path | str) -> InterpolatedRTI:
    """Read a relight rbf or bilinear folder (mrgb or mycc)."""
    folder = Path(folder)
    info = infojson.read(folder)
    path = folder / "info.json"
    method, space = info.get("type"), info.get("colorspace")
    if method not in ("rbf", "bilinear") or space not in ("mrgb", "mycc"):
        raise RTIError(f"{path}: type {method!r} with colorspace {space!r} is not supported (rbf or bilinear, with "
                       "mrgb or mycc)")
    width, height = infojson.size(info, path)
    if space == "mycc":
        ycc = infojson.numbers(info.get("yccplanes"), path, "yccplanes", 3)
        if not (ycc == np.round(ycc)).all() or ycc.min() < 0 or ycc[1] != ycc[2] or ycc[0] < ycc[1]:
            raise RTIError(f"{path}: yccplanes must be three whole numbers [Y, C, C] with Y ≥ C, got {ycc.tolist()}")
        nplanes, interleaved = int(ycc.sum()), 3 * int(ycc[1])
    else:
        nplanes, interleaved = _count(info.get("nplanes"), path), 0
    if nplanes < 1:
        raise RTIError(f"{path}: a model needs at least one coefficient plane")
    materials = info.get("materials")
    if not isinstance(materials, list) or not materials or not isinstance(materials[0], dict):
        raise RTIError(f"{path}: materials must be a list holding one object with range, scale and bias")
    scale, bias, spread = (infojson.numbers(materials[0].get(key), path, f"materials {key}", nplanes)
                           for key in ("scale", "bias", "range"))
    if (spread == 0).any():
        raise RTIError(f"{path}: materials range must not hold zeros")
    lights, sigma, resolution = None, 0.0, 0
    if method == "rbf":
        lights = light_utils.from_flat(info.get("lights"), str(path))
        if lights is None:
            raise RTIError(f"{path}: an rbf folder needs its lights")
        sigma = infojson.number(info.get("sigma"), path, "sigma")
        if sigma <= 0:
            raise RTIError(f"{path}: sigma must be positive, got {sigma}")
        directions = len(lights)
    else:
        resolution = _count(info.get("resolution"), path, "resolution")
        if resolution < 2:
            raise RTIError(f"{path}: resolution must be at least 2, got {resolution}")
        directions = resolution * resolution
    raw = _basis(info, folder, (nplanes + 1) * directions * 3)
    basis = raw.reshape(nplanes + 1, directions, 3)
    basis = np.concatenate([basis[:1] / 255.0, (basis[1:] - 127.0) / spread[:, None, None]])
    if space == "mycc":
        for p in range(nplanes):  # each plane adds to one YCoCg channel
            keep = p % 3 if p < interleaved else 0
            basis[p + 1, :, [k for k in range(3) if k != keep]] = 0.0
        basis = basis @ YCOCG_TO_RGB.T
    planes = np.empty((nplanes, height, width), dtype=np.float32)
    fmt = info.get("format", "jpg")
    if fmt not in ("jpg", "png"):
        raise RTIError(f"{path}: format must be jpg or png, got {fmt!r}")
    for j in range(-(-nplanes // 3)):
        image = deepzoom.read_plane(folder, f"plane_{j}", fmt)
        if image.shape[:2] != (height, width) or image.dtype != np.uint8 or image.ndim != 3:
            raise RTIError(f"{folder / f'plane_{j}.{fmt}'}: expected an 8-bit RGB {width}x{height} plane")
        for c in range(min(3, nplanes - 3 * j)):
            k = 3 * j + c
            planes[k] = (image[..., c] * np.float32(1 / 255) - np.float32(bias[k])) * np.float32(scale[k])
    training = infojson.mapping(info.get("training"), path, "training")
    return InterpolatedRTI(str(method), planes, basis.astype(np.float32), lights, sigma, resolution,
                           infojson.colorprofile(info, path), training)


def _basis(info: dict, folder: Path, size: int) -> np.ndarray:
    """The basis bytes: info.json's ``basis``, or ``materials.bin`` beside it (relight before 2024)."""
    path = folder / "info.json"
    if "basis" in info or not (folder / "materials.bin").is_file():
        return infojson.numbers(info.get("basis"), path, "basis", size)
    stored = np.fromfile(folder / "materials.bin", dtype=np.uint8)
    if len(stored) < size:
        raise RTIError(f"{folder / 'materials.bin'}: expected {size} basis bytes, found {len(stored)}")
    return stored[:size].astype(np.float64)


def _count(value: object, path: Path, key: str = "nplanes") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1024:
        raise RTIError(f"{path}: {key} must be a whole number from 0 to 1024, got {value!r}")
    return value
