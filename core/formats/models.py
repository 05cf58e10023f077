"""Open and save any relightable model by its path: a web folder, a ``.ptm`` file or an ``.rti`` file."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from ..classic.fitting import ClassicRTI
from ..classic.interpolated import InterpolatedRTI
from ..errors import RTIError
from ..neural.model import NeuralRTI
from . import infojson, neuralweb, pcaweb, ptmfile, rtifile, webrti


class Relightable(Protocol):
    """Anything that renders an RGB float image (H, W, 3) for a unit light direction."""

    @property
    def width(self) -> int: ...

    @property
    def height(self) -> int: ...

    def relight(self, light: np.ndarray) -> np.ndarray: ...


Model = ClassicRTI | NeuralRTI | InterpolatedRTI
"""Every model this package reads: PTM/HSH, neural, and relight's RBF and bilinear."""

SIZE_SLACK = 8
"""A model fewer pixels than this wider, narrower, taller or shorter than its capture is the capture's, shown and
scored on the common area from the top left: a .ptm padded to a multiple of 8 pixels for RTIViewer, relight's
cropping. Larger differences are other captures."""


def same_capture(model: Relightable, width: int, height: int) -> bool:
    """Whether ``model`` is of a ``width`` × ``height`` capture: that size, or within ``SIZE_SLACK`` of it."""
    return abs(model.width - width) < SIZE_SLACK and abs(model.height - height) < SIZE_SLACK


def load(path: Path | str, codes: str = "lossless") -> Model:
    """Load a model: a relight/OpenLIME folder (or its info.json), a .ptm or an .rti file.

    For neural folders ``codes`` picks the lossless codes ("lossless") or the 8-bit planes ("planes").
    """
    path = Path(path)
    if path.name == "info.json":
        path = path.parent
    if path.is_dir():
        info = infojson.read(path)
        if info.get("type") == "neural":
            return neuralweb.read(path, info, codes)
        if info.get("type") in ("rbf", "bilinear"):
            return pcaweb.read(path)
        return webrti.read(path)
    if not path.exists():
        raise RTIError(f"{path}: no such model file or folder")
    suffix = path.suffix.lower()
    if suffix == ".ptm":
        return ptmfile.read(path)
    if suffix == ".rti":
        return rtifile.read(path)
    raise RTIError(f"{path}: not a model (expected a folder with info.json, a .ptm or an .rti file)")


def save(model: Model, path: Path | str, force: bool = False, fmt: str = "jpg",
         quality: int | None = None, layout: str = "image", quiet: bool = True) -> None:
    """Save a model; the path picks the format: ``*.ptm``, ``*.rti``, otherwise a web folder, whose planes are one
    image each or, with ``layout="deepzoom"``, deep-zoom tiles (``quiet=False``: a progress bar over the planes).

    JPEG quality defaults to 95 for PTM/HSH planes and 100 for neural codes, which JPEG damages more.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if layout != "image" and suffix in (".ptm", ".rti"):
        raise RTIError(f"{path}: --layout {layout} is for model folders; {suffix} files hold one image")
    if isinstance(model, NeuralRTI):
        if suffix in (".ptm", ".rti"):
            raise RTIError(f"{path}: a neural model can only be written as a model folder, not {suffix}")
        if fmt != "jpg":
            raise RTIError("neural folders have JPEG planes (OpenLIME reads only plane_N.jpg); codes.npy is lossless")
        neuralweb.write(model, path, quality=quality or neuralweb.QUALITY, force=force, layout=layout, quiet=quiet)
    elif isinstance(model, InterpolatedRTI):
        raise RTIError(f"relight's {model.method} models cannot be written (open them in relight or OpenLIME as they "
                       "are, or fit PTM/HSH to the photos)")
    elif suffix in (".ptm", ".rti") and model.colorprofile != "sRGB":
        raise RTIError(f"{path}: {suffix} files hold display (sRGB) values and this model is linear (colorprofile "
                       f"{model.colorprofile}); write a model folder instead")
    elif suffix == ".ptm":
        ptmfile.write(model, path, force=force)
    elif suffix == ".rti":
        rtifile.write(model, path, force=force)
    else:
        webrti.write(model, path, fmt=fmt, quality=quality or 95, force=force, layout=layout, quiet=quiet)
