"""Blender's image loader, as the add-on's decoder for core.images, reads files exactly as OpenCV does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core import images

pytest.importorskip("bpy")
from blender_addon import imageio  # noqa: E402  (needs bpy)
from blender_addon.core import images as addon_images  # noqa: E402


@pytest.mark.parametrize(("name", "dtype", "channels"), [
    ("rgb.png", np.uint8, 3), ("deep.png", np.uint16, 3), ("grey.png", np.uint8, 1), ("photo.jpg", np.uint8, 3),
])
def test_blender_decoder_reads_what_opencv_reads(tmp_path: Path, name: str, dtype: type, channels: int) -> None:
    rng = np.random.default_rng(2)
    top = np.iinfo(dtype).max
    pixels = rng.integers(0, top + 1, (9, 13, channels)).astype(dtype)
    images.write_image(tmp_path / name, pixels[..., 0] if channels == 1 else pixels, quality=90)
    expected = images.read_image(tmp_path / name)
    addon_images.use_decoder(imageio.decode)
    try:
        got = addon_images.read_image(tmp_path / name)
    finally:
        addon_images.use_decoder(None)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)
