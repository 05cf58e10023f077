"""Legacy ``.ptm`` files (PTM_1.2) as RTIViewer reads them: RGB and LRGB, raw or JPEG-compressed.

Header lines ``PTM_1.2``, the format, width, height, 6 float scales, 6 biases. A stored byte means the coefficient
(byte − bias)·scale in RTIViewer's units: the polynomial a0·u² + a1·v² + a2·uv + a3·u + a4·v + a5 gives 0-255, which
the viewer clamps and divides by 255 (our models give 0-1, so coefficients are scaled by 255 on the way).
Rows are stored bottom to top.

- RGB: three blocks (R, G, B), each all pixels × 6 bytes.
- LRGB: all pixels × 6 luminance bytes, then all pixels × R, G, B bytes; colour = L/255 × RGB/255. Written with the
  width padded to a multiple of 8 (the last column repeated), which RTIViewer needs for LRGB.
- JPEG_RGB / JPEG_LRGB (read only; relight writes LRGB this way): after the scales and biases, lines of the JPEG
  quality and, per plane, transform, motion x, motion y, decoding order, reference plane, compressed size and
  side-information size; then per plane one greyscale JPEG stream and its side information. Planes are the 6
  coefficients of R, G, B (RGB) or the 6 luminance coefficients then R, G, B (LRGB). A plane with a reference plane
  stores its difference from it plus 128 (modulo 256), the reference inverted (255 − byte) when its transform is 1;
  side information patches single bytes (a 4-byte big-endian offset, then the byte).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..atomic import output_file
from ..capture import images
from ..classic.fitting import ClassicRTI
from ..errors import RTIError
from .binheader import numbers, read_header, split_header
from .infojson import MAX_SIDE

FORMATS = {"ptm": "PTM_FORMAT_RGB", "lptm": "PTM_FORMAT_LRGB"}
JPEG_FORMATS = {"ptm": "PTM_FORMAT_JPEG_RGB", "lptm": "PTM_FORMAT_JPEG_LRGB"}
FULL_SCALE = 255.0
"""What RTIViewer displays as white: a PTM evaluates to 0-255."""
LRGB_WIDTH_STEP = 8
PLANE_INVERSION = 1
"""The JPEG transform that inverts a plane's reference before adding it; others (motion compensation) are refused."""


def write(model: ClassicRTI, path: Path | str, force: bool = False) -> None:
    """Write an RGB-PTM or LRGB-PTM model as a .ptm file for RTIViewer."""
    if model.method not in FORMATS:
        raise RTIError(f"a .ptm file holds ptm or lptm models, not {model.method}")
    if model.chroma is not None:
        luminance, chroma = model.chroma_in_unit_range()
        pad = ((0, 0), (0, -model.width % LRGB_WIDTH_STEP))
        coeffs = np.stack([np.pad(plane, pad, mode="edge") for plane in luminance[..., 0]])[None]
        colour = np.pad(chroma, (*pad, (0, 0)), mode="edge")
        rgb = np.clip(np.rint(colour * 255), 0, 255).astype(np.uint8)[::-1].tobytes()
    else:
        coeffs, rgb = model.coeffs.transpose(3, 0, 1, 2), b""
    coeffs = coeffs.transpose(0, 2, 3, 1)[:, ::-1] * FULL_SCALE  # (channels, H, W, 6), bottom row first
    lo = np.minimum(coeffs.min(axis=(0, 1, 2)), 0.0).astype(np.float64)  # the integer bias needs 0 in range
    hi = np.maximum(coeffs.max(axis=(0, 1, 2)), 0.0).astype(np.float64)
    scale = np.maximum(hi - lo, 1e-12) / 254.0
    bias = np.clip(np.rint(-lo / scale), 0, 255).astype(int)
    quantised = np.clip(np.rint(coeffs / scale + bias), 0, 255).astype(np.uint8)
    header = (
        f"PTM_1.2\n{FORMATS[model.method]}\n{coeffs.shape[2]}\n{coeffs.shape[1]}\n"
        + " ".join(f"{s:.9g}" for s in scale) + "\n"
        + " ".join(str(b) for b in bias) + "\n"
    )
    with output_file(path, force=force) as tmp:
        tmp.write_bytes(header.encode("ascii") + quantised.tobytes() + rgb)


def read(path: Path | str) -> ClassicRTI:
    """Read a .ptm file: RGB or LRGB, raw or JPEG-compressed."""
    path = Path(path)
    tokens, body = read_header(path, 16)
    version, fmt = tokens[:2]
    if not version.startswith("PTM_1."):
        raise RTIError(f"{path}: not a PTM file (first line {version!r})")
    methods = {name: method for table in (FORMATS, JPEG_FORMATS) for method, name in table.items()}
    if fmt not in methods:
        raise RTIError(f"{path}: PTM format {fmt} is not supported (RGB and LRGB are, raw or JPEG)")
    method = methods[fmt]
    width, height = numbers(path, tokens[2:4], int)
    scale = np.asarray(numbers(path, tokens[4:10], float))
    bias = np.asarray(numbers(path, tokens[10:16], float))
    sides_ok = 1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE
    if not sides_ok or not (np.isfinite(scale).all() and np.isfinite(bias).all()):
        raise RTIError(f"{path}: invalid header (size {width}×{height}, scales and biases must be finite numbers)")
    count = 18 if method == "ptm" else 9
    if fmt in JPEG_FORMATS.values():
        planes = _jpeg_planes(path, body, count, width, height)
    else:
        planes = _raw_planes(path, body, method, width, height)
    planes = planes[:, ::-1]  # top row first
    coefficients = planes[: count - 3 * (method == "lptm")].reshape(-1, 6, height, width).astype(np.float32)
    coeffs = ((coefficients - bias[:, None, None]) * (scale[:, None, None] / FULL_SCALE)).transpose(1, 2, 3, 0)
    chroma = planes[6:].transpose(1, 2, 0).astype(np.float32) / 255.0 if method == "lptm" else None
    return ClassicRTI(method, np.ascontiguousarray(coeffs, dtype=np.float32), chroma)


def _raw_planes(path: Path, body: bytes, method: str, width: int, height: int) -> np.ndarray:
    """The stored byte planes (P, H, W), bottom row first, of an uncompressed file: RGB-PTM's 6 coefficients of R,
    G and B, or LRGB-PTM's 6 luminance coefficients then R, G, B."""
    pixels = width * height
    expected = pixels * (18 if method == "ptm" else 9)
    if len(body) < expected:
        raise RTIError(f"{path}: truncated ({len(body)} bytes of coefficients, {expected} expected)")
    data = np.frombuffer(body, dtype=np.uint8, count=expected)
    if method == "ptm":
        return data.reshape(3, height, width, 6).transpose(0, 3, 1, 2).reshape(18, height, width)
    luminance = data[: pixels * 6].reshape(height, width, 6)
    rgb = data[pixels * 6 :].reshape(height, width, 3)
    return np.concatenate([luminance, rgb], axis=2).transpose(2, 0, 1)


def _jpeg_planes(path: Path, body: bytes, count: int, width: int, height: int) -> np.ndarray:
    """The byte planes (P, H, W), bottom row first, of a JPEG-compressed file (see the module's description)."""
    tokens, body = split_header(path, body, 1 + 7 * count)
    fields = np.asarray(numbers(path, tokens[1:], int)).reshape(7, count)
    transform, motion_x, motion_y, order, reference, sizes, side_sizes = fields
    if (transform & ~PLANE_INVERSION).any() or motion_x.any() or motion_y.any():
        raise RTIError(f"{path}: motion-compensated JPEG planes are not supported")
    if sorted(order) != list(range(count)) or (reference < -1).any() or (reference >= count).any():
        raise RTIError(f"{path}: invalid JPEG plane order or reference planes")
    if (sizes < 0).any() or (side_sizes < 0).any() or int(sizes.sum() + side_sizes.sum()) > len(body):
        raise RTIError(f"{path}: truncated ({len(body)} bytes of JPEG data, {int(sizes.sum() + side_sizes.sum())} "
                       "announced)")
    starts = np.concatenate([[0], np.cumsum(sizes + side_sizes)])
    planes = np.zeros((count, height, width), dtype=np.uint8)
    for plane in np.argsort(order):
        start, stop = int(starts[plane]), int(starts[plane] + sizes[plane])
        decoded = images.decode_bytes(body[start:stop], ".jpg", f"{path}: JPEG plane {plane}")
        if decoded.ndim == 3:
            decoded = decoded[..., 0]
        if decoded.shape != (height, width) or decoded.dtype != np.uint8:
            raise RTIError(f"{path}: JPEG plane {plane} is {decoded.shape[1]}×{decoded.shape[0]}, "
                           f"the file {width}×{height}")
        values = decoded.astype(np.int16)
        source = reference[plane]
        if source >= 0:
            if order[source] > order[plane]:
                raise RTIError(f"{path}: JPEG plane {plane} refers to plane {source}, which is decoded after it")
            base = planes[source].astype(np.int16)
            values = values - 128 + (255 - base if transform[plane] & PLANE_INVERSION else base)
        planes[plane] = (values % 256).astype(np.uint8)
        _patch(path, planes[plane], body[stop : stop + int(side_sizes[plane])])
    return planes


def _patch(path: Path, plane: np.ndarray, side_information: bytes) -> None:
    """Apply a plane's side information: 5-byte records of a big-endian offset into the plane and its byte."""
    if len(side_information) % 5:
        raise RTIError(f"{path}: side information is not a whole number of 5-byte records")
    records = np.frombuffer(side_information, dtype=np.uint8).reshape(-1, 5)
    offsets = records[:, :4].astype(np.int64) @ (256 ** np.arange(3, -1, -1))
    if (offsets >= plane.size).any():
        raise RTIError(f"{path}: side information points outside its plane")
    plane.reshape(-1)[offsets] = records[:, 4]
