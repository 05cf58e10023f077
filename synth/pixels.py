"""Blender images to and from numpy arrays, without colour conversion (Non-Color), row 0 at the top."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import bpy
import numpy as np

from core.errors import RTIError


def read(path: Path | str) -> np.ndarray:
    """Any image Blender reads (PNG, JPEG, EXR…) as float (H, W, channels): 8-bit files as value/255, 16-bit as
    value/65535, float files as stored."""
    return load(path)[0]


def load(path: Path | str) -> tuple[np.ndarray, bool]:
    """:func:`read`'s values, and whether Blender holds the file in a float buffer (deeper than 8 bits)."""
    try:
        image = bpy.data.images.load(str(path), check_existing=False)
    except RuntimeError:
        raise RTIError(f"{path}: not an image Blender can read") from None
    try:
        w, h = image.size
        if w == 0 or h == 0:
            raise RTIError(f"{path}: not an image Blender can read")
        _non_color(image)
        pixels: Any = image.pixels
        flat = np.empty(w * h * image.channels, dtype=np.float32)
        pixels.foreach_get(flat)
        return flat.reshape(h, w, image.channels)[::-1], bool(image.is_float or image.depth > 32)
    finally:
        bpy.data.images.remove(image)


def new_image(name: str, rgb: np.ndarray, float_buffer: bool, alpha: bool = True) -> bpy.types.Image:
    """A Non-Color image holding (H, W, 3) values (and an opaque alpha channel when ``alpha``)."""
    h, w = rgb.shape[:2]
    image = bpy.data.images.new(name, w, h, alpha=alpha, float_buffer=float_buffer)
    _non_color(image)
    rgba = np.ones((h, w, 4), dtype=np.float32)
    rgba[..., :3] = rgb[::-1]
    pixels: Any = image.pixels
    pixels.foreach_set(rgba.ravel())
    return image


def write_png(path: Path, rgb: np.ndarray, bits: int) -> None:
    """Write values in [0, 1] (H, W, 3) as an 8- or 16-bit PNG."""
    _save(path, rgb, bits == 16, "PNG")


def write_exr(path: Path, values: np.ndarray) -> None:
    """Write values (H, W) as a 32-bit float OpenEXR file (grey: the same value in R, G and B)."""
    _save(path, np.repeat(values[..., None], 3, axis=2), True, "OPEN_EXR")


def _save(path: Path, rgb: np.ndarray, float_buffer: bool, file_format: Literal["PNG", "OPEN_EXR"]) -> None:
    image = new_image("RTI output", rgb, float_buffer=float_buffer, alpha=False)
    try:
        image.filepath_raw = str(path)
        image.file_format = file_format
        image.save()
    finally:
        bpy.data.images.remove(image)


def _non_color(image: bpy.types.Image) -> None:
    settings = image.colorspace_settings
    assert settings is not None
    settings.name = "Non-Color"  # type: ignore[assignment]  # the stubs' colour enums are empty
