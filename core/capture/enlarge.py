"""A large test capture from a small one: every photo upscaled to a camera's size, with fine relief and texture added
at the new resolution, so that the large capture is not a smooth magnified image.

The small capture (a synth render, or any MLIC) gives the large-scale shape, cast shadows, highlights and materials.
The added relief is band-limited noise (grain of 3 to 24 pixels, and strokes stretched along one direction) whose
Lambertian shading multiplies each photo in linear light: it changes every pixel's brightness with the light
direction, most under grazing light, as tool marks and grain do in real captures, so every pixel carries detail a
model has to encode. A texture multiplies the colour alike under every light. A few photos are made at a time (one
per worker): memory stays at a few full-size float images per worker however many lights there are.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from ..atomic import output_dir
from ..errors import RTIError
from . import images, lp, splits
from . import mlic as mlic_io
from .images import linear_to_srgb, srgb_to_linear
from .mlic import MLIC

GRAIN = ((3.0, 3.0, 0.4), (8.0, 8.0, 0.3), (24.0, 24.0, 0.3), (40.0, 2.0, 0.15))
"""The relief's octaves: Gaussian blur widths (across, down) in pixels of white noise, and their weights; the last is
stretched into strokes."""
MIN_COSINE = 0.05
"""Flat ground's shading is divided out; under lights closer to the horizon than this it is taken as this."""
MAX_GAIN = 3.0
"""The most the relief brightens a pixel (its slopes facing a grazing light)."""
TEXTURE = 0.15
"""The texture's standard deviation: the albedo varies by about this fraction from pixel to pixel."""


def parse_size(text: str) -> tuple[int, int]:
    """``WxH`` (or one number: a square) as (width, height) in pixels."""
    parts = text.lower().split("x")
    try:
        width, height = (int(parts[0]), int(parts[-1])) if len(parts) <= 2 else (0, 0)
    except ValueError:
        width, height = 0, 0
    if width < 16 or height < 16:
        raise RTIError(f"--size {text!r}: give WIDTHxHEIGHT in pixels, each at least 16 (e.g. 8192x6144)")
    return width, height


def relief(width: int, height: int, slope: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Unit normals (H, W, 3) of the fine relief, its slopes' RMS ``slope``, and the texture (H, W) that multiplies
    the albedo (mean 1)."""
    rng = np.random.default_rng(seed)
    height_map = np.zeros((height, width), np.float32)
    for across, down, weight in GRAIN:
        octave = cv2.GaussianBlur(rng.standard_normal((height, width), dtype=np.float32), (0, 0), across,
                                  sigmaY=down)
        height_map += weight * octave / max(float(octave.std()), 1e-12)
    d_row = cv2.Sobel(height_map, cv2.CV_32F, 0, 1, ksize=1, scale=0.5)
    d_col = cv2.Sobel(height_map, cv2.CV_32F, 1, 0, ksize=1, scale=0.5)
    scale = slope / max(float(np.sqrt(np.mean(d_row**2 + d_col**2))), 1e-12)
    normals = np.stack([-d_col * scale, d_row * scale, np.ones_like(height_map)], axis=-1)  # rows go down, y up
    normals /= np.linalg.norm(normals, axis=-1, keepdims=True)
    texture = cv2.GaussianBlur(rng.standard_normal((height, width), dtype=np.float32), (0, 0), 2.0)
    texture = np.clip(1.0 + TEXTURE * texture / max(float(texture.std()), 1e-12), 0.5, 1.5)
    return normals, texture


def enlarged(image: np.ndarray, light: np.ndarray, max_value: int, size: tuple[int, int], normals: np.ndarray,
             texture: np.ndarray) -> np.ndarray:
    """One photo at ``size`` (width, height), 8-bit: upscaled (bicubic) in linear light, then shaded by the relief and
    multiplied by the texture."""
    linear = srgb_to_linear(image.astype(np.float32) / np.float32(max_value)).astype(np.float32)
    gain = np.clip(normals @ light.astype(np.float32), 0.0, None) / max(float(light[2]), MIN_COSINE)
    big = np.clip(cv2.resize(linear, size, interpolation=cv2.INTER_CUBIC), 0.0, None)
    big = big * (np.minimum(gain, MAX_GAIN) * texture)[..., None]
    return np.rint(linear_to_srgb(np.clip(big, 0.0, 1.0)) * 255.0).astype(np.uint8)


def enlarge(source: Path | str, out: Path | str, size: tuple[int, int], slope: float = 0.05, seed: int = 0,
            ext: str = ".jpg", quality: int = 95, force: bool = False, quiet: bool = True) -> list[Path]:
    """Write the enlarged capture of ``source`` (an MLIC, or a split folder: both parts, with the same relief) to
    ``out``; the .lp files written."""
    source = Path(source)
    parts = {name: splits.part_folder(source, name) for name in ("train", "test")}
    folders = {name: folder for name, folder in parts.items() if folder is not None} or {"": source}
    normals, texture = relief(*size, slope, seed)
    written = []
    with output_dir(out, force=force) as tmp:
        for name, folder in folders.items():
            mlic = mlic_io.load(folder)
            target = tmp / name
            target.mkdir(parents=True, exist_ok=True)
            names = [str(Path(n).with_suffix(ext)) for n in mlic.names]

            def make(index: int) -> None:
                image = enlarged(mlic.images[index], mlic.lights[index], mlic.max_value, size, normals, texture)
                images.write_image(target / names[index], image, quality=quality)

            with ThreadPoolExecutor(images.workers()) as pool:
                for _ in tqdm(pool.map(make, range(mlic.count)), total=mlic.count, unit="img",
                              desc=f"enlarging {name or 'photos'}", disable=quiet or None, leave=False):
                    pass
            if mlic.mask is not None:
                mask = cv2.resize(mlic.mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
                images.write_image(target / mlic_io.MASK_NAME, mask * 255)
            lp.write_lp(target / mlic_io.LP_NAME, names, mlic.lights)
            written.append(Path(out) / name / mlic_io.LP_NAME)
    return written
