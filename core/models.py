"""Open and save any relightable model by its path: a web folder, a ``.ptm`` file or an ``.rti`` file."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from . import ptmfile, rtifile, webrti
from .classic import ClassicRTI
from .errors import RTIError


class Relightable(Protocol):
    """Anything that renders an RGB float image (H, W, 3) for a unit light direction."""

    @property
    def width(self) -> int: ...

    @property
    def height(self) -> int: ...

    def relight(self, light: np.ndarray) -> np.ndarray: ...


def load(path: Path | str) -> ClassicRTI:
    """Load a model: a relight/OpenLIME folder (or its info.json), a .ptm or an .rti file."""
    path = Path(path)
    if path.name == "info.json":
        path = path.parent
    if path.is_dir():
        return webrti.read(path)
    if not path.exists():
        raise RTIError(f"{path}: no such model file or folder")
    suffix = path.suffix.lower()
    if suffix == ".ptm":
        return ptmfile.read(path)
    if suffix == ".rti":
        return rtifile.read(path)
    raise RTIError(f"{path}: not a model (expected a folder with info.json, a .ptm or an .rti file)")


def save(model: ClassicRTI, path: Path | str, force: bool = False, fmt: str = "jpg", quality: int = 95) -> None:
    """Save a model; the path picks the format: ``*.ptm``, ``*.rti``, otherwise a web folder."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".ptm":
        ptmfile.write(model, path, force=force)
    elif suffix == ".rti":
        rtifile.write(model, path, force=force)
    else:
        webrti.write(model, path, fmt=fmt, quality=quality, force=force)
