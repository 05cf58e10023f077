"""Reading and writing images in their stored bit depth (8 or 16 bits per channel), RGB channel order.

OpenCV is the reader because it keeps 16-bit PNG and TIFF (Pillow silently drops 16-bit RGB to 8 bits) and is fast.
Blender's Python has no OpenCV: there the add-on hands :func:`use_decoder` one built on Blender's own image loader.
Policy for unusual channel layouts (docs/formats.md, "Input rules"): grayscale images are accepted and replicated to
RGB; an alpha channel is dropped when it is fully opaque and refused otherwise (transparency belongs in ``mask.png``).
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..errors import RTIError

try:
    import cv2
except ImportError:  # Blender's Python
    cv2 = None  # type: ignore[assignment]
try:
    import PIL.Image
except ImportError:  # Blender's Python
    PIL = None  # type: ignore[assignment]

Decoder = Callable[[Path], np.ndarray]
"""Reads a file into (H, W) or (H, W, channels) uint8/uint16 pixels as stored, channels in RGB(A) order."""
_decoder: Decoder | None = None

READABLE = (".jpg", ".jpeg", ".png", ".tif", ".tiff")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16))
FLOAT_SUFFIXES = (".tif", ".tiff", ".exr")
os.environ.setdefault("OPENCV_IO_ENABLE_OPENEXR", "1")  # OpenCV reads it at its first EXR file


LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
"""Rec. 709 luminance weights of linear (or, as an approximation, encoded) RGB."""


def srgb_to_linear(v: np.ndarray) -> np.ndarray:
    """The sRGB decoding curve: encoded values to linear ones; outside [0, 1] the straight part continues below and
    the power curve above, as in the add-on's materials."""
    return np.where(v <= 0.04045, v / 12.92, ((np.maximum(v, 0.04045) + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(v: np.ndarray) -> np.ndarray:
    """The sRGB encoding curve: linear values to encoded ones (what 8-bit images store); outside [0, 1] the straight
    part continues below and the power curve above."""
    return np.where(v <= 0.0031308, v * 12.92, 1.055 * np.maximum(v, 0.0031308) ** (1 / 2.4) - 0.055)


COLOR_PROFILES = ("sRGB", "RGB")
"""What a model's values are (a web folder's ``colorprofile``): display values (sRGB-encoded), or linear RGB
(relight's default since 2026)."""


def display(values: np.ndarray, colorprofile: str) -> np.ndarray:
    """A model's values as display (sRGB-encoded) values: linear ones encoded, sRGB ones as they are."""
    return linear_to_srgb(values).astype(np.float32) if colorprofile == "RGB" else values


def read_image(path: Path | str) -> np.ndarray:
    """An RGB image (H, W, 3) as uint8 or uint16, exactly as stored."""
    raw = _decode(Path(path))
    if raw.ndim == 2:
        raw = raw[:, :, None]
    channels = raw.shape[2]
    if channels == 1:
        return np.repeat(raw, 3, axis=2)
    if channels == 4:
        alpha = raw[:, :, 3]
        if alpha.min() < np.iinfo(raw.dtype).max:
            raise RTIError(f"{path}: image has a transparent alpha channel; remove it and give a mask.png instead")
        raw = raw[:, :, :3]
    elif channels != 3:
        raise RTIError(f"{path}: image has {channels} channels; expected RGB, grayscale or opaque RGBA")
    return np.ascontiguousarray(raw)


def read_mask(path: Path | str) -> np.ndarray:
    """A boolean mask (H, W): pixels whose first channel is non-zero are inside."""
    raw = _decode(Path(path))
    return (raw if raw.ndim == 2 else raw[:, :, 0]) > 0


def use_decoder(decoder: Decoder | None) -> None:
    """Decode images with ``decoder`` instead of OpenCV (None: OpenCV again)."""
    global _decoder
    _decoder = decoder


def workers() -> int:
    """Images to decode or encode at once in threads (OpenCV and numpy release the GIL): the cores, at most 8; one
    while a :func:`use_decoder` decoder is in use (Blender's image loader belongs to its main thread)."""
    return 1 if _decoder is not None else max(1, min(8, os.cpu_count() or 1))


def decode_bytes(data: bytes, suffix: str, name: str) -> np.ndarray:
    """An image file held in memory (a JPEG stream inside a .ptm file), decoded as :func:`read_image`'s files are;
    ``name`` says where it came from in errors."""
    if _decoder is None:
        return _decode_data(np.frombuffer(data, dtype=np.uint8), name)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"image{suffix}"
        path.write_bytes(data)
        try:
            return _decoder(path)
        except RTIError:
            raise RTIError(f"{name}: not a readable image (empty or corrupt)") from None


def _decode(path: Path) -> np.ndarray:
    """Decode any supported file as stored (no colour conversion, no EXIF rotation), channels in RGB(A) order."""
    if path.suffix.lower() not in READABLE:
        raise RTIError(f"{path}: unsupported image type {path.suffix!r} (use JPEG, PNG or TIFF)")
    if _decoder is not None:
        if not path.is_file():
            raise RTIError(f"{path}: image file not found")
        return _decoder(path)
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except FileNotFoundError:
        raise RTIError(f"{path}: image file not found") from None
    except OSError as exc:
        raise RTIError(f"{path}: cannot read image ({exc.strerror})") from None
    return _decode_data(data, str(path))


def _png_chunks_fit(data: bytes) -> bool:
    """False for a PNG whose chunk lengths run past its end: OpenCV spends seconds on each such file before it
    refuses it (found by fuzzing damaged masks). Other files, and well-formed PNGs, pass."""
    if not data.startswith(PNG_SIGNATURE):
        return True
    at = len(PNG_SIGNATURE)
    while at + 8 <= len(data):
        length = int.from_bytes(data[at:at + 4], "big")
        at += 12 + length  # length, type, data, CRC
        if at > len(data):
            return False
        if data[at - length - 8:at - length - 4] == b"IEND":
            return True
    return at == len(data)


def _decode_data(data: np.ndarray, name: str) -> np.ndarray:
    """OpenCV's decoding of an encoded image's bytes, channels in RGB(A) order."""
    if cv2 is None:
        raise RTIError("reading images needs OpenCV (opencv-python-headless), which this Python lacks")
    if not _png_chunks_fit(data.tobytes()):
        raise RTIError(f"{name}: not a readable image (a PNG chunk runs past the end of the file)")
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None:
        raise RTIError(f"{name}: not a readable image (empty or corrupt)")
    if image.dtype not in DTYPES:
        raise RTIError(f"{name}: {image.dtype} pixels are not supported (use 8- or 16-bit images)")
    return image[:, :, [2, 1, 0, 3][: image.shape[2]]] if image.ndim == 3 else image


def write_image(path: Path | str, image: np.ndarray, quality: int = 95, keep_rgb: bool = False) -> None:
    """Write an RGB(A) (H, W, 3|4) or single-channel (H, W) uint8/uint16 image; the suffix picks the format.

    JPEG is written without chroma subsampling, so three independent planes packed as RGB survive; ``keep_rgb``
    also skips JPEG's YCbCr transform (see :func:`encode_rgb_jpeg`).
    """
    path = Path(path)
    try:
        encode = encode_rgb_jpeg if keep_rgb else encode_image
        encoded = encode(image, path.suffix, quality)
    except RTIError as exc:
        raise RTIError(f"{path}: {exc}") from None
    try:
        path.write_bytes(encoded)
    except OSError as exc:
        raise RTIError(f"{path}: cannot write image ({exc.strerror})") from None


def encode_image(image: np.ndarray, suffix: str, quality: int = 95) -> bytes:
    """The bytes of an image file of type ``suffix`` (.png, .jpg or .tif), as :func:`write_image` writes it."""
    if cv2 is None:
        raise RTIError("writing images needs OpenCV (opencv-python-headless), which this Python lacks")
    if image.dtype not in DTYPES:
        raise ValueError(f"write_image: expected uint8 or uint16 pixels, got {image.dtype}")
    suffix = suffix.lower()
    params: list[int] = []
    if suffix in (".jpg", ".jpeg"):
        if image.dtype != np.uint8:
            raise RTIError("JPEG holds only 8-bit images")
        params = [cv2.IMWRITE_JPEG_QUALITY, int(quality), cv2.IMWRITE_JPEG_SAMPLING_FACTOR,
                  cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]
    elif suffix not in (".png", ".tif", ".tiff"):
        raise RTIError(f"unsupported image type {suffix!r} (use .png, .jpg or .tif)")
    bgr = image[:, :, [2, 1, 0, 3][: image.shape[2]]] if image.ndim == 3 else image
    ok, encoded = cv2.imencode(suffix, np.ascontiguousarray(bgr), params)
    if not ok:
        raise RTIError("could not encode image")
    return encoded.tobytes()


def write_float(path: Path | str, values: np.ndarray) -> None:
    """Write a single-channel float image (H, W) as 32-bit float TIFF or OpenEXR, by the suffix (NaN kept)."""
    path = Path(path)
    if cv2 is None:
        raise RTIError("writing images needs OpenCV (opencv-python-headless), which this Python lacks")
    if path.suffix.lower() not in FLOAT_SUFFIXES:
        raise RTIError(f"{path}: float images are written as .tif or .exr")
    ok, encoded = cv2.imencode(path.suffix, np.ascontiguousarray(values, dtype=np.float32))
    if not ok:
        raise RTIError(f"{path}: could not encode the float image")
    path.write_bytes(encoded.tobytes())


def read_float(path: Path | str) -> np.ndarray:
    """A single-channel float image (H, W) float32 from a 32-bit TIFF or OpenEXR file (the first channel)."""
    if cv2 is None:
        raise RTIError("reading float images needs OpenCV (opencv-python-headless), which this Python lacks")
    raw = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if raw is None or raw.dtype != np.float32:
        raise RTIError(f"{path}: not a 32-bit float image")
    return raw if raw.ndim == 2 else raw[:, :, -1 if raw.shape[2] == 1 else 2]


def encode_rgb_jpeg(image: np.ndarray, suffix: str, quality: int) -> bytes:
    """A JPEG of an 8-bit RGB image (H, W, 3) that stores R, G and B as they are, not as YCbCr.

    JPEG's usual YCbCr transform mixes the three channels and rounds in between, so three independent planes packed
    as RGB come back further off than when stored as RGB (an Adobe marker says so; Chromium's canvas and WebGL
    textures, OpenCV and Blender decode it alike; docs/experiments.md, "Code planes as RGB JPEGs").
    """
    if suffix.lower() not in (".jpg", ".jpeg"):
        raise RTIError(f"keeping RGB is a JPEG option, not one for {suffix!r}")
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"encode_rgb_jpeg: expected (H, W, 3) uint8 pixels, got {image.shape} {image.dtype}")
    if PIL is None:
        raise RTIError("writing RGB JPEGs needs Pillow, which this Python lacks")
    buffer = io.BytesIO()
    PIL.Image.fromarray(np.ascontiguousarray(image)).save(buffer, "JPEG", quality=int(quality), subsampling=0,
                                                          keep_rgb=True)
    return buffer.getvalue()
