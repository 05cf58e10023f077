"""``.rti`` files with HSH coefficients (RTIBuilder's "universal" format, viewed by RTIViewer).

Optional ``#`` comment lines, then the type (3 = HSH), ``W H C``, ``terms basis_type element_size``; then float32
scales and biases (one per term) and, per pixel from the top row, per channel R, G, B, ``terms`` bytes with
coefficient = byte/255·scale + bias.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..atomic import output_file
from ..classic.fitting import ClassicRTI
from ..errors import RTIError
from .binheader import numbers, read_header
from .infojson import MAX_SIDE

HSH_TYPE = 3
BASIS_TYPE = 2


def write(model: ClassicRTI, path: Path | str, force: bool = False) -> None:
    """Write an HSH model (order 2, 3 or 4) as an .rti file."""
    if not model.method.startswith("hsh"):
        raise RTIError(f"an .rti file holds hsh models, not {model.method}")
    terms = model.coeffs.shape[0]
    coeffs = model.coeffs.transpose(1, 2, 3, 0)  # (H, W, 3, terms)
    lo = coeffs.min(axis=(0, 1, 2)).astype(np.float32)
    scale = np.maximum(coeffs.max(axis=(0, 1, 2)) - lo, 1e-12).astype(np.float32)
    quantised = np.clip(np.rint((coeffs - lo) / scale * 255), 0, 255).astype(np.uint8)
    header = f"#HSH1.2\n{HSH_TYPE}\n{model.width} {model.height} 3\n{terms} {BASIS_TYPE} 1\n"
    with output_file(path, force=force) as tmp:
        tmp.write_bytes(
            header.encode("ascii") + scale.astype("<f4").tobytes() + lo.astype("<f4").tobytes() + quantised.tobytes()
        )


def read(path: Path | str) -> ClassicRTI:
    """Read an HSH .rti file."""
    path = Path(path)
    tokens, body = read_header(path, 7)
    kind, width, height, channels, terms, _basis, element = numbers(path, tokens, int)
    if kind != HSH_TYPE:
        raise RTIError(f"{path}: RTI type {kind} is not supported (only 3 = HSH)")
    if channels != 3 or element != 1 or terms not in (4, 9, 16):
        raise RTIError(f"{path}: unsupported layout ({channels} channels, {terms} terms, {element}-byte elements)")
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
        raise RTIError(f"{path}: invalid size {width}×{height} (each side 1 to {MAX_SIDE})")
    expected = 8 * terms + width * height * 3 * terms
    if len(body) < expected:
        raise RTIError(f"{path}: truncated ({len(body)} bytes, {expected} expected)")
    scale = np.frombuffer(body, dtype="<f4", count=terms)
    bias = np.frombuffer(body, dtype="<f4", count=terms, offset=4 * terms)
    raw = np.frombuffer(body, dtype=np.uint8, count=width * height * 3 * terms, offset=8 * terms)
    coeffs = raw.reshape(height, width, 3, terms).astype(np.float32) / 255 * scale + bias
    return ClassicRTI(f"hsh{int(round(terms**0.5))}", np.ascontiguousarray(coeffs.transpose(3, 0, 1, 2)))
