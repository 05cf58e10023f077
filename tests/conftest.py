"""Shared fixtures: tiny MLIC folders written on the fly, and the optional ../shared data sets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core import images

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def shared_dataset(name: str) -> Path:
    """A data set from ../shared/datasets, or a skip when this checkout has none."""
    path = SHARED / name
    if not path.is_dir():
        pytest.skip(f"{path} is not available")
    return path


def write_mlic(folder: Path, stack: np.ndarray, lights: np.ndarray, ext: str = ".png", lp_text: str | None = None) -> Path:
    """Write images image_000.ext... and dirs.lp (or ``lp_text`` verbatim) into ``folder``; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"image_{i:03d}{ext}" for i in range(len(stack))]
    for name, image in zip(names, stack):
        images.write_image(folder / name, image, quality=100)
    if lp_text is None:
        lp_text = f"{len(names)}\n" + "".join(f"{n} {x} {y} {z}\n" for n, (x, y, z) in zip(names, lights))
    (folder / "dirs.lp").write_text(lp_text)
    return folder


@pytest.fixture
def tiny_stack() -> tuple[np.ndarray, np.ndarray]:
    """Six random 8-bit 12x10 RGB images and six unit light directions."""
    rng = np.random.default_rng(1)
    lights = np.array([[0, 0, 1], [0.5, 0, 0.866], [0, 0.5, 0.866], [-0.5, 0, 0.866], [0, -0.6, 0.8], [0.6, 0.6, 0.52]])
    lights = lights / np.linalg.norm(lights, axis=1, keepdims=True)
    return rng.integers(0, 256, (6, 10, 12, 3), dtype=np.uint8), lights
