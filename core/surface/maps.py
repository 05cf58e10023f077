"""Normal and albedo maps on disk, in the conventions synth writes and OpenLIME's BRDF layer reads.

``normals.png``: 16-bit RGB, n = v/65535·2 − 1 in the lights' frame (x right, y up, z to the camera); a pixel with
no normal stores (0, 0, 0) as mid-grey, which OpenLIME's BRDF layer treats as empty (|2v − 1| < 0.5).
``albedo.png``: 8-bit RGB, the linear albedo clipped to [0, 1] and sRGB-encoded (OpenLIME: colour space "srgb").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..capture import images
from ..errors import RTIError

NORMALS_NAME = "normals.png"
ALBEDO_NAME = "albedo.png"


def write_normals(path: Path | str, normals: np.ndarray) -> None:
    """Write unit normals (H, W, 3), zero where unknown, as a 16-bit PNG."""
    images.write_image(path, np.rint((np.clip(normals, -1.0, 1.0) * 0.5 + 0.5) * 65535).astype(np.uint16))


def read_normals(path: Path | str) -> np.ndarray:
    """Normals (H, W, 3) float32 from a normal map (8- or 16-bit); unit length, or zero where the map is empty."""
    stored = images.read_image(path)
    n = stored.astype(np.float32) / np.iinfo(stored.dtype).max * 2.0 - 1.0
    length = np.linalg.norm(n, axis=-1, keepdims=True)
    if not (length > 0.5).any():
        raise RTIError(f"{path}: not a normal map (no pixel holds a normal)")
    return np.where(length > 0.5, n / np.maximum(length, 1e-6), 0.0).astype(np.float32)


def folder_normals(model: Path | str) -> np.ndarray | None:
    """A model folder's own ``normals.png`` (``python -m core normals`` writes it there), or None when it has none:
    its views use them instead of the model's."""
    path = Path(model) / NORMALS_NAME
    return read_normals(path) if path.is_file() else None


def write_albedo(path: Path | str, albedo: np.ndarray) -> None:
    """Write a linear albedo (H, W, 3) as an sRGB-encoded 8-bit PNG."""
    images.write_image(path, np.rint(images.linear_to_srgb(np.clip(albedo, 0.0, 1.0)) * 255).astype(np.uint8))
