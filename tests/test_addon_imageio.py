"""Blender's image loader, as the add-on's decoder for core.capture.images, reads files exactly as OpenCV does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.capture import images

pytest.importorskip("bpy")
from blender_addon import imageio  # noqa: E402  (needs bpy)
from blender_addon.core.capture import images as addon_images  # noqa: E402


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


def test_jpeg_ptm_planes_decode_in_blender_as_with_opencv(tmp_path: Path) -> None:
    """The JPEG streams inside a .ptm (relight's LRGB) decoded by Blender's loader, where the add-on has no OpenCV."""
    from core.formats import models

    from .test_formats import jpeg_stream

    rng = np.random.default_rng(4)
    planes = rng.integers(0, 256, (9, 11, 16), dtype=np.uint8)
    streams = [jpeg_stream(p) for p in planes]
    header = "PTM_1.2\nPTM_FORMAT_JPEG_LRGB\n16\n11\n1 1 1 1 1 1\n0 0 0 0 0 0\n90\n" + "0 0 0 0 0 0 0 0 0\n" * 3
    header += "0 1 2 3 4 5 6 7 8\n" + "-1 " * 8 + "-1\n" + " ".join(str(len(s)) for s in streams) + "\n"
    (tmp_path / "m.ptm").write_bytes((header + "0 0 0 0 0 0 0 0 0\n").encode() + b"".join(streams))
    expected = models.load(tmp_path / "m.ptm")
    addon_images.use_decoder(imageio.decode)
    try:
        got = models.load(tmp_path / "m.ptm")
    finally:
        addon_images.use_decoder(None)
    assert expected.chroma is not None and got.chroma is not None
    np.testing.assert_allclose(got.coeffs, expected.coeffs, atol=1 / 255 + 1e-6)  # libjpeg builds may differ by 1
    np.testing.assert_allclose(got.chroma, expected.chroma, atol=1 / 255 + 1e-6)
