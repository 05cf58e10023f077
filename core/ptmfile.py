"""Legacy ``.ptm`` files (PTM_1.2) of RTIBuilder/RTIViewer: RGB and LRGB.

Header lines ``PTM_1.2``, the format, width, height, 6 float scales, 6 integer biases; then bytes with
coefficient = (byte − bias)·scale, coefficient order (u², v², uv, u, v, 1), rows stored bottom-to-top.
RGB: three blocks (R, G, B) of all pixels × 6 bytes. LRGB: all pixels × 6 luminance bytes, then all pixels × RGB
bytes; colour = L(u, v) × RGB/255.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .atomic import output_file
from .binheader import numbers, read_header
from .classic import ClassicRTI
from .errors import RTIError

FORMATS = {"ptm": "PTM_FORMAT_RGB", "lptm": "PTM_FORMAT_LRGB"}


def write(model: ClassicRTI, path: Path | str, force: bool = False) -> None:
    """Write an RGB-PTM or LRGB-PTM model as a .ptm file."""
    if model.method not in FORMATS:
        raise RTIError(f"a .ptm file holds ptm or lptm models, not {model.method}")
    coeffs, rgb = model.coeffs, b""
    if model.chroma is not None:
        coeffs, chroma = model.chroma_in_unit_range()
        rgb = np.clip(np.rint(chroma * 255), 0, 255).astype(np.uint8)[::-1].tobytes()
    coeffs = coeffs.transpose(3, 1, 2, 0)[:, ::-1]  # (C, H, W, 6), bottom row first
    lo = np.minimum(coeffs.min(axis=(0, 1, 2)), 0.0).astype(np.float64)  # the integer bias needs 0 in range
    hi = np.maximum(coeffs.max(axis=(0, 1, 2)), 0.0).astype(np.float64)
    scale = np.maximum(hi - lo, 1e-12) / 254.0
    bias = np.clip(np.rint(-lo / scale), 0, 255).astype(int)
    quantised = np.clip(np.rint(coeffs / scale + bias), 0, 255).astype(np.uint8)
    header = (
        f"PTM_1.2\n{FORMATS[model.method]}\n{model.width}\n{model.height}\n"
        + " ".join(f"{s:.9g}" for s in scale) + "\n"
        + " ".join(str(b) for b in bias) + "\n"
    )
    with output_file(path, force=force) as tmp:
        tmp.write_bytes(header.encode("ascii") + quantised.tobytes() + rgb)


def read(path: Path | str) -> ClassicRTI:
    """Read an RGB or LRGB .ptm file."""
    path = Path(path)
    tokens, body = read_header(path, 16)
    version, fmt = tokens[:2]
    if not version.startswith("PTM_1."):
        raise RTIError(f"{path}: not a PTM file (first line {version!r})")
    methods = {v: k for k, v in FORMATS.items()}
    if fmt not in methods:
        raise RTIError(f"{path}: PTM format {fmt} is not supported (PTM_FORMAT_RGB and PTM_FORMAT_LRGB are)")
    width, height = numbers(path, tokens[2:4], int)
    scale = np.asarray(numbers(path, tokens[4:10], float))
    bias = np.asarray(numbers(path, tokens[10:16], int))
    method = methods[fmt]
    pixels = width * height
    expected = pixels * (18 if method == "ptm" else 9)
    if len(body) < expected:
        raise RTIError(f"{path}: truncated ({len(body)} bytes of coefficients, {expected} expected)")
    data = np.frombuffer(body, dtype=np.uint8, count=expected)
    channels = 3 if method == "ptm" else 1
    raw = data[: pixels * 6 * channels].reshape(channels, height, width, 6)[:, ::-1]
    coeffs = ((raw.astype(np.float32) - bias) * scale).transpose(3, 1, 2, 0)
    chroma = None
    if method == "lptm":
        chroma = data[pixels * 6 :].reshape(height, width, 3)[::-1].astype(np.float32) / 255.0
    return ClassicRTI(method, np.ascontiguousarray(coeffs, dtype=np.float32), chroma)
