"""Image decoding through Blender's own loader, for ``core.images`` inside Blender (whose Python has no OpenCV)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import bpy

from .core import images
from .core.errors import RTIError


def decode(path: Path) -> np.ndarray:
    """Pixels (H, W, 4) as stored: uint8 for 8-bit files, uint16 for deeper ones; RGBA order, row 0 at the top.
    Grey files come back as grey RGB with opaque alpha, which ``core.images`` treats as it treats grey."""
    try:
        image = bpy.data.images.load(str(path), check_existing=False)
    except RuntimeError:
        raise RTIError(f"{path}: not a readable image (empty or corrupt file)") from None
    try:
        settings = image.colorspace_settings
        assert settings is not None
        settings.name = "Non-Color"  # type: ignore[assignment]  # no colour conversion of float buffers
        w, h = image.size
        if w == 0 or h == 0:
            raise RTIError(f"{path}: not a readable image (empty or corrupt file)")
        flat = np.empty(w * h * 4, dtype=np.float32)
        getattr(image, "pixels").foreach_get(flat)
        deep = image.is_float or image.depth > 32
        top = 65535.0 if deep else 255.0
        pixels = np.rint(flat.reshape(h, w, 4)[::-1] * top).astype(np.uint16 if deep else np.uint8)
        return np.ascontiguousarray(pixels)
    finally:
        bpy.data.images.remove(image)


def register() -> None:
    images.use_decoder(decode)


def unregister() -> None:
    images.use_decoder(None)
