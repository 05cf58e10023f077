"""Image decoding through Blender's own loader, for ``core.capture.images`` inside Blender (whose Python has no OpenCV)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .core.capture import images
from .synth import pixels


def decode(path: Path) -> np.ndarray:
    """Pixels (H, W, 4) as stored: uint8 for 8-bit files, uint16 for deeper ones; RGBA order, row 0 at the top.
    Grey files come back as grey RGB with opaque alpha, which ``core.capture.images`` treats as it treats grey."""
    values, deep = pixels.load(path)
    return np.rint(values * (65535.0 if deep else 255.0)).astype(np.uint16 if deep else np.uint8)


classes: tuple[type, ...] = ()


def register() -> None:
    images.use_decoder(decode)


def unregister() -> None:
    images.use_decoder(None)
