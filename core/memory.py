"""Whether a job fits in this machine's memory, asked before it starts: a camera-sized capture that cannot fit is
refused with the numbers instead of being killed by the system halfway through.

Commands state what they hold per pixel beyond the photos (``Need``); ``core.capture.mlic.load`` asks once it has
decoded the first photo and knows the size. The per-pixel figures come from the commands' measured peaks at 4 to
50 MP (BENCHMARKS.md, ``large_capture``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .errors import RTIError

BASE = 400 << 20
"""Python, numpy, OpenCV and PyTorch themselves."""
TRAINING_PER_PIXEL = 200
"""Training: the teacher's and the student's codes (float32, the old and the new during the refit) and writing."""
SCORING_PER_PIXEL = 120
"""Scoring a loaded model: a relit image and the metrics' temporaries in float, a neural model's 8-bit twin."""
NORMALS_PER_PIXEL = 64
"""Normals and albedo from the photos, with their tiles' temporaries."""


@dataclass(frozen=True)
class Need:
    """What a command holds beyond its photos: ``per_pixel`` bytes for each pixel of the capture."""

    what: str
    per_pixel: int


def available() -> int | None:
    """Bytes that a new allocation can take: Linux's MemAvailable, the physical memory elsewhere; None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return None


def require(need: Need, photos: int, pixels: int) -> None:
    """Refuse, with the numbers, a job whose photos (``photos`` bytes) and per-pixel needs over ``pixels`` would not
    fit in the memory available now."""
    total = BASE + photos + need.per_pixel * pixels
    have = available()
    if have is not None and total > have:
        raise RTIError(f"{need.what} of {pixels / 1e6:.1f} MP needs about {total / 1e9:.1f} GB of memory (photos "
                       f"{photos / 1e9:.1f} GB) and {have / 1e9:.1f} GB is available: close other programs, use a "
                       "machine with more memory or crop the capture")
