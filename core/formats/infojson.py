"""Typed fields of a web folder's ``info.json`` (relight/OpenLIME, classic and neural): each reads one key and
gives a one-line ``RTIError`` naming the file and key when the value is missing or not what the format says."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..capture.images import COLOR_PROFILES
from ..errors import RTIError

MAX_SIDE = 1 << 16
"""Largest image side accepted (OpenLIME's own limit on a texture side is far below)."""


def size(info: dict, path: Path) -> tuple[int, int]:
    """(width, height), whole numbers from 1 to ``MAX_SIDE``."""
    sides = []
    for key in ("width", "height"):
        side = info.get(key)
        if isinstance(side, bool) or not isinstance(side, int) or not 1 <= side <= MAX_SIDE:
            raise RTIError(f"{path}: {key} must be a whole number from 1 to {MAX_SIDE}, got {side!r}")
        sides.append(side)
    return sides[0], sides[1]


def numbers(value: object, path: Path, key: str, length: int | None = None) -> np.ndarray:
    """A flat list of finite numbers (of ``length`` when given) as float64."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        array = np.empty((0, 0))
    if array.ndim != 1 or isinstance(value, (str, bytes, dict)) or not np.isfinite(array).all():
        raise RTIError(f"{path}: {key} must be a list of finite numbers")
    if length is not None and len(array) != length:
        raise RTIError(f"{path}: {key} must hold {length} numbers, has {len(array)}")
    return array


def number(value: object, path: Path, key: str) -> float:
    """One finite number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not _finite(value):
        raise RTIError(f"{path}: {key} must be a finite number, got {value!r}")
    return float(value)


def mapping(value: object, path: Path, key: str) -> dict:
    """A JSON object; absent (None) is empty."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RTIError(f"{path}: {key} must be an object")
    return dict(value)


def colorprofile(info: dict, path: Path) -> str:
    """The folder's colour profile: "sRGB" (also when absent, as before relight 2026) or "RGB" (linear); others,
    such as "P3", are refused."""
    profile = info.get("colorprofile", "sRGB")
    if profile not in COLOR_PROFILES:
        raise RTIError(f"{path}: colorprofile {profile!r} is not supported (\"RGB\", linear, or \"sRGB\"); "
                       "export the folder again with sRGB or linear RGB output")
    return str(profile)


def _finite(value: object) -> bool:
    try:
        return isinstance(value, (int, float)) and bool(np.isfinite(float(value)))
    except OverflowError:  # an int beyond float's range
        return False


def read(folder: Path) -> dict:
    """The parsed ``info.json`` of a web folder."""
    path = folder / "info.json"
    try:
        info = json.loads(path.read_text())
    except FileNotFoundError:
        raise RTIError(f"{folder}: no info.json (not a relight/OpenLIME folder)") from None
    except (OSError, ValueError) as exc:
        raise RTIError(f"{path}: unreadable JSON ({exc})") from None
    if not isinstance(info, dict):
        raise RTIError(f"{path}: expected a JSON object")
    return info
