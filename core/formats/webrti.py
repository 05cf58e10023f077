"""relight/OpenLIME web folders for PTM and HSH: ``info.json`` plus 8-bit coefficient planes.

Conventions (those of OpenLIME's RTI shader, which displays relight's output):
- ``plane_J.jpg`` (0-based) packs three coefficient planes in R, G, B; ``materials[0]`` holds one ``scale`` and one
  ``bias`` per coefficient plane and a texel t = byte/255 means (t − bias)·scale.
- ``colorspace: "rgb"``: plane J holds basis term J for R, G and B.
- ``colorspace: "lrgb"`` (LRGB-PTM): planes 1-2 hold the six luminance terms and plane 0 the RGB chroma, which
  relight's renderer reads as plain colour (texel/255) while OpenLIME applies its scale and bias: we read it as
  relight does (that matches relight's own RGB-PTM of the same capture) and write it with scale 1 and bias 0, where
  both agree.
- ``colorprofile``: "RGB" means the coefficients fit linear values (relight's default since 2026), "sRGB" or none
  display values; we write it.
- PTM terms are ordered (1, x, y, x², xy, y²) here, unlike the .ptm file; HSH terms in their usual order, with the
  viewer's θ clamp of 0.15 rad unless the folder records its own (``hsh_min_elevation``, written by us).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..atomic import output_dir
from ..capture import lights as light_utils
from ..classic import hsh
from ..classic.fitting import ClassicRTI
from ..errors import RTIError
from . import deepzoom, infojson

WEB_PTM_ORDER = [5, 3, 4, 0, 2, 1]
"""Our PTM coefficient index (u², v², uv, u, v, 1) for each web term (1, x, y, x², xy, y²)."""


def _planes(model: ClassicRTI) -> list[np.ndarray]:
    """The model's coefficient planes (H, W) in web order: views of its arrays, not copies (a camera-sized HSH3's
    coefficients are gigabytes)."""
    order = WEB_PTM_ORDER if model.method in ("ptm", "lptm") else list(range(model.coeffs.shape[0]))
    if model.chroma is not None:
        luminance, chroma = model.chroma_in_unit_range()
        return [chroma[..., c] for c in range(3)] + [luminance[k, ..., 0] for k in order]
    return [model.coeffs[k, ..., c] for k in order for c in range(3)]


def write(model: ClassicRTI, folder: Path | str, fmt: str = "jpg", quality: int = 95, force: bool = False,
          layout: str = "image", quiet: bool = True) -> None:
    """Write a model as a relight/OpenLIME folder; ``fmt`` is "jpg" (compact) or "png" (lossless planes), ``layout``
    "image" (one file a plane) or "deepzoom" (tiled); ``quiet=False`` shows progress over the plane images."""
    if model.method not in ("ptm", "lptm", "hsh2", "hsh3"):
        raise RTIError(f"{model.method} cannot be written as an OpenLIME folder (ptm, lptm, hsh2 and hsh3 can)")
    if fmt not in ("jpg", "png"):
        raise RTIError(f"plane format must be jpg or png, got {fmt!r}")
    planes = _planes(model)
    lo = np.array([plane.min() for plane in planes], dtype=np.float64)
    hi = np.array([plane.max() for plane in planes], dtype=np.float64)
    if model.method == "lptm":
        lo[:3], hi[:3] = 0.0, 1.0
    scale = np.maximum(hi - lo, 1e-12)
    bias = -lo / scale
    info = {
        "width": model.width,
        "height": model.height,
        "format": fmt,
        "type": "ptm" if model.method in ("ptm", "lptm") else "hsh",
        "colorspace": "lrgb" if model.method == "lptm" else "rgb",
        "nplanes": len(planes),
        "quality": quality,
        "materials": [{"scale": scale.tolist(), "bias": bias.tolist()}],
        "colorprofile": model.colorprofile,
    }
    if model.lights is not None:
        info["lights"] = np.round(model.lights, 6).ravel().tolist()
    if model.method.startswith("hsh"):
        info["hsh_min_elevation"] = model.hsh_min_elevation
    if model.training:
        info["training"] = model.training
    with output_dir(folder, force=force) as tmp:
        for j in tqdm(range(len(planes) // 3), desc="writing planes", unit="image", disable=quiet or None,
                      leave=False):
            texels = np.empty((model.height, model.width, 3), dtype=np.uint8)
            for c in range(3):
                k = 3 * j + c
                texels[..., c] = np.clip(np.rint((planes[k] - np.float32(lo[k])) * np.float32(255.0 / scale[k])), 0,
                                         255)
            deepzoom.write_plane(tmp, f"plane_{j}", texels, fmt, quality, layout=layout)
        (tmp / "info.json").write_text(json.dumps(info, indent=1))


def read(folder: Path | str) -> ClassicRTI:
    """Read a relight/OpenLIME ptm or hsh folder (ours or relight's)."""
    folder = Path(folder)
    info = infojson.read(folder)
    path = folder / "info.json"
    method = _method(info.get("type"), info.get("colorspace"), info.get("nplanes"), folder)
    nplanes: int = info["nplanes"]
    width, height = infojson.size(info, path)
    materials = info.get("materials")
    if not isinstance(materials, list) or not materials or not isinstance(materials[0], dict):
        raise RTIError(f"{path}: materials must be a list holding one object with scale and bias")
    scale = infojson.numbers(materials[0].get("scale"), path, "materials scale", nplanes)
    bias = infojson.numbers(materials[0].get("bias"), path, "materials bias", nplanes)
    fmt = info.get("format", "jpg")
    if fmt not in ("jpg", "png"):
        raise RTIError(f"{path}: format must be jpg or png, got {fmt!r}")
    # each plane is dequantised straight into the coefficients: one float copy of the model, whatever its size
    terms = nplanes - 3 if method == "lptm" else nplanes // 3
    coeffs = np.empty((terms, height, width, 1 if method == "lptm" else 3), dtype=np.float32)
    chroma = np.empty((height, width, 3), dtype=np.float32) if method == "lptm" else None
    order = WEB_PTM_ORDER if method in ("ptm", "lptm") else list(range(terms))
    for j in range(nplanes // 3):
        file = folder / f"plane_{j}.{fmt}"
        plane = deepzoom.read_plane(folder, f"plane_{j}", fmt)
        if plane.shape[:2] != (height, width) or plane.dtype != np.uint8:
            raise RTIError(f"{file}: expected an 8-bit {width}x{height} plane")
        for c in range(3):
            k = 3 * j + c
            texels = plane[..., c] * np.float32(1 / 255)
            if chroma is not None and j == 0:
                chroma[..., c] = texels  # relight's renderer reads LRGB chroma as plain colour
            elif chroma is not None:
                coeffs[order[k - 3], ..., 0] = (texels - np.float32(bias[k])) * np.float32(scale[k])
            else:
                coeffs[order[j], ..., c] = (texels - np.float32(bias[k])) * np.float32(scale[k])
    lights = light_utils.from_flat(info.get("lights"), str(path))
    min_elevation = infojson.number(info.get("hsh_min_elevation", hsh.OPENLIME_MIN_ELEVATION), path,
                                    "hsh_min_elevation")
    training = infojson.mapping(info.get("training"), path, "training")
    return ClassicRTI(method, coeffs, chroma, lights, min_elevation, training, infojson.colorprofile(info, path))


def _method(kind: object, colorspace: object, nplanes: object, folder: Path) -> str:
    """Our method name for a (type, colorspace, nplanes) triple, or a clear refusal."""
    table = {("ptm", "rgb", 18): "ptm", ("ptm", "lrgb", 9): "lptm", ("hsh", "rgb", 12): "hsh2",
             ("hsh", "rgb", 27): "hsh3"}
    method = table.get((str(kind), str(colorspace), nplanes)) if type(nplanes) is int else None
    if method is None:
        raise RTIError(
            f"{folder / 'info.json'}: type {kind!r} with colorspace {colorspace!r} and {nplanes} planes is not "
            "supported (ptm rgb/18, ptm lrgb/9, hsh rgb/12 or 27)"
        )
    return method
