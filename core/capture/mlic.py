"""The multi-light image collection (MLIC): N photos of one surface from a fixed camera, one light each.

Images stay in their stored dtype (uint8 or uint16) for the whole stack; code that needs floats converts one tile at a
time. An MLIC on disk is a folder with one ``.lp`` file, the images it names and optionally ``mask.png``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .. import memory
from ..atomic import output_dir
from ..errors import RTIError
from . import images, lp

MASK_NAME = "mask.png"
LP_NAME = lp.LP_NAME


@dataclass
class MLIC:
    """Images (N, H, W, 3) uint8/uint16, unit light directions (N, 3), image names, optional mask (H, W) bool."""

    images: np.ndarray
    lights: np.ndarray
    names: list[str]
    mask: np.ndarray | None = None
    source: Path | None = None

    def __post_init__(self) -> None:
        n = len(self.images)
        if self.images.ndim != 4 or self.images.shape[3] != 3 or self.images.dtype not in images.DTYPES:
            raise ValueError(f"MLIC images must be (N, H, W, 3) uint8/uint16, got {self.images.shape} {self.images.dtype}")
        if self.lights.shape != (n, 3) or len(self.names) != n:
            raise ValueError(f"MLIC has {n} images but {len(self.lights)} lights and {len(self.names)} names")
        if self.mask is not None and self.mask.shape != self.images.shape[1:3]:
            raise ValueError(f"MLIC mask is {self.mask.shape}, images are {self.images.shape[1:3]}")

    @property
    def count(self) -> int:
        return len(self.images)

    @property
    def height(self) -> int:
        return int(self.images.shape[1])

    @property
    def width(self) -> int:
        return int(self.images.shape[2])

    @property
    def bit_depth(self) -> int:
        return 8 * self.images.dtype.itemsize

    @property
    def max_value(self) -> int:
        """The stored value of full white (255 or 65535)."""
        return int(np.iinfo(self.images.dtype).max)

    def subset(self, indices: np.ndarray | list[int]) -> MLIC:
        """The MLIC restricted to some lights (a copy of their images)."""
        idx = np.asarray(indices)
        return MLIC(self.images[idx], self.lights[idx], [self.names[i] for i in idx], self.mask, self.source)


def find_lp(path: Path) -> Path:
    """The .lp file of an MLIC given as the file itself or as its folder (which must hold exactly one)."""
    if path.is_file():
        return path
    if not path.is_dir():
        raise RTIError(f"{path}: no such file or folder")
    found = sorted(path.glob("*.lp"))
    if not found:
        raise RTIError(f"{path}: no .lp light file in this folder")
    if len(found) > 1:
        raise RTIError(f"{path}: several .lp files ({', '.join(p.name for p in found)}); give the one to use")
    return found[0]


def load(path: Path | str, quiet: bool = True, need: memory.Need | None = None) -> MLIC:
    """Read an MLIC from its folder or its .lp file, checking that every image agrees in size and depth; with
    ``need``, refuse up front a job that would not fit in memory (``core.memory``)."""
    lp_path = find_lp(Path(path))
    names, lights = lp.read_lp(lp_path)
    folder = lp_path.parent
    stack = read_stack([folder / name for name in names], quiet, need)
    mask = None
    if (folder / MASK_NAME).exists():
        mask = images.read_mask(folder / MASK_NAME)
        if mask.shape != stack.shape[1:3]:
            raise RTIError(
                f"{folder / MASK_NAME}: mask is {mask.shape[1]}x{mask.shape[0]}, "
                f"images are {stack.shape[2]}x{stack.shape[1]}"
            )
    return MLIC(stack, lights, names, mask, lp_path)


def read_stack(files: list[Path], quiet: bool = True, need: memory.Need | None = None) -> np.ndarray:
    """The images (N, H, W, 3) in their stored dtype; one that differs from the first in size or depth is an error
    naming it. Several are decoded at once (``images.workers``), each straight into its place in the stack; ``need``
    is checked once the first gives the size."""
    first = images.read_image(files[0])
    if need is not None:
        memory.require(need, len(files) * first.nbytes, first.shape[0] * first.shape[1])
    stack = np.empty((len(files), *first.shape), dtype=first.dtype)
    stack[0] = first
    del first

    def read(i: int) -> None:
        image = images.read_image(files[i])
        if image.shape != stack.shape[1:]:
            h, w = stack.shape[1:3]
            raise RTIError(f"{files[i]}: image is {image.shape[1]}x{image.shape[0]}, the first image is {w}x{h}")
        if image.dtype != stack.dtype:
            raise RTIError(
                f"{files[i]}: image has {8 * image.dtype.itemsize}-bit channels, the first image "
                f"{8 * stack.dtype.itemsize}-bit"
            )
        stack[i] = image

    with ThreadPoolExecutor(images.workers()) as pool:
        for _ in tqdm(pool.map(read, range(1, len(files))), total=len(files) - 1, desc="reading images", unit="img",
                      disable=quiet or None, leave=False):
            pass
    return stack


def save(mlic: MLIC, folder: Path | str, ext: str | None = None, quality: int = 95, force: bool = False) -> Path:
    """Write images, ``dirs.lp`` and ``mask.png`` into ``folder`` (atomically); returns the .lp path.

    ``ext`` (".png", ".jpg", ".tif") overrides the names' own suffixes; 16-bit stacks need PNG or TIFF.
    """
    names = [str(Path(n).with_suffix(ext)) if ext else n for n in mlic.names]
    return _write(mlic, folder, names, lambda i, dest: images.write_image(dest, mlic.images[i], quality=quality), force)


def copy(mlic: MLIC, folder: Path | str, force: bool = False) -> Path:
    """Copy the MLIC's image files byte for byte from where it was read (no re-encoding), with a new ``dirs.lp``."""
    if mlic.source is None:
        raise ValueError("copy: the MLIC was not read from files; use save()")
    origin = mlic.source.parent
    return _write(mlic, folder, mlic.names, lambda i, dest: shutil.copyfile(origin / mlic.names[i], dest), force)


def _write(mlic: MLIC, folder: Path | str, names: list[str], put_image: Callable[[int, Path], object],
           force: bool) -> Path:
    """Create ``folder`` atomically with image i put at ``names[i]`` by ``put_image``, then the mask and ``dirs.lp``."""
    with output_dir(folder, force=force) as tmp:
        for i, name in enumerate(names):
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            put_image(i, tmp / name)
        if mlic.mask is not None:
            images.write_image(tmp / MASK_NAME, mlic.mask.astype(np.uint8) * 255)
        lp.write_lp(tmp / LP_NAME, names, mlic.lights)
    return Path(folder) / LP_NAME
