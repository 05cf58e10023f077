"""Held-out lights: quality is measured on light directions the model never saw.

Two layouts: a split folder holding a training part (``train/`` or SynthRTI's ``Dome/``) and a test part (``test/`` or
``Test/``), or a single MLIC split leave-k-out (every k-th light held out) for real captures with no test lights.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import memory
from ..atomic import output_dir
from ..errors import RTIError
from . import mlic as mlic_io
from .mlic import MLIC

PART_NAMES = {"train": ("train", "dome"), "test": ("test",)}


def part_folder(path: Path, part: str) -> Path | None:
    """The ``part`` ("train" or "test") subfolder of a split folder, or None when ``path`` is not one."""
    if not path.is_dir() or any(path.glob("*.lp")):
        return None
    for child in sorted(path.iterdir()):
        if child.is_dir() and child.name.lower() in PART_NAMES[part]:
            return child
    return None


def load_part(path: Path | str, part: str, quiet: bool = True, need: memory.Need | None = None) -> MLIC:
    """Load an MLIC, or the ``part`` of a split folder when ``path`` is one (``need``: see ``mlic.load``)."""
    path = Path(path)
    return mlic_io.load(part_folder(path, part) or path, quiet=quiet, need=need)


def leave_k_out(mlic: MLIC, every: int = 8, offset: int = 0) -> tuple[MLIC, MLIC]:
    """(train, test): lights ``offset, offset + every, ...`` are held out for testing."""
    if every < 2:
        raise RTIError(f"--every must be at least 2, got {every}")
    if not 0 <= offset < every:
        raise RTIError(f"--offset must be in [0, {every - 1}], got {offset}")
    held = np.zeros(mlic.count, dtype=bool)
    held[offset::every] = True
    return mlic.subset(np.flatnonzero(~held)), mlic.subset(np.flatnonzero(held))


def write_split(train: MLIC, test: MLIC, out: Path | str, force: bool = False) -> None:
    """Write ``out/train`` and ``out/test`` as two MLIC folders, copying image files that exist on disk as they are."""
    with output_dir(out, force=force) as tmp:
        for name, part in (("train", train), ("test", test)):
            if part.source is None:
                mlic_io.save(part, tmp / name)
            else:
                mlic_io.copy(part, tmp / name)
