"""The ``.lp`` light file of RTIBuilder, relight and NeuralRTI: a count, then ``filename lx ly lz`` rows.

Reading is forgiving where real files are sloppy (tabs, CRLF, relative paths, a header count smaller than the rows,
directions that are not quite unit length, a grazing light a hair below the horizon: these are fixed with a warning)
and strict where the data would be wrong (missing rows, NaN, zero or clearly below-horizon directions, duplicate
names: these raise :class:`RTIError`).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np

from ..atomic import output_file
from ..errors import RTIError

log = logging.getLogger(__name__)

LP_NAME = "dirs.lp"
"""The light file's name in the MLIC folders we write."""
UNIT_TOLERANCE = 1e-3
HORIZON_TOLERANCE = 0.05
"""A direction whose lz/|l| is at least minus this (about 2.9° below the horizon) is a grazing light measured a hair
too low, as real dome files have (one lists lz = −0.0012): it is set to the horizon with a warning. Lower is an
error."""


def read_lp(path: Path | str) -> tuple[list[str], np.ndarray]:
    """Image names (as written, relative to the file's folder) and unit light directions (N, 3) of an .lp file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError as exc:
        raise RTIError(f"{path}: cannot read light file ({exc.strerror})") from None
    rows = [(n, line.split()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not rows:
        raise RTIError(f"{path}: empty light file")
    header_line, header = rows[0]
    if len(header) != 1 or not header[0].isdigit():
        raise RTIError(f"{path}:{header_line}: first line must be the number of lights, got {' '.join(header)!r}")
    count = int(header[0])
    if count == 0:
        raise RTIError(f"{path}: light file lists no lights")
    body = rows[1:]
    if len(body) < count:
        raise RTIError(f"{path}: header says {count} lights but the file lists {len(body)}")
    if len(body) > count:
        log.warning("%s: header says %d lights but the file lists %d; reading the first %d", path, count, len(body), count)
        body = body[:count]

    names: list[str] = []
    lights = np.empty((count, 3))
    for i, (line_no, fields) in enumerate(body):
        where = f"{path}:{line_no}"
        if len(fields) < 4:
            raise RTIError(f"{where}: expected 'filename lx ly lz', got {' '.join(fields)!r}")
        try:
            direction = [float(v) for v in fields[-3:]]
        except ValueError:
            raise RTIError(f"{where}: light direction is not three numbers: {' '.join(fields[-3:])!r}") from None
        names.append(" ".join(fields[:-3]))
        lights[i] = check_direction(direction, where)

    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            raise RTIError(f"{path}: image {name!r} is listed twice (rows {seen[name] + 1} and {i + 1})")
        seen[name] = i

    norms = np.array([math.hypot(*direction) for direction in lights])  # no overflow for huge components
    off = np.abs(norms - 1.0) > UNIT_TOLERANCE
    if off.any():
        log.warning(
            "%s: %d directions are not unit length (|l| from %.3f to %.3f); normalised",
            path, int(off.sum()), norms.min(), norms.max(),
        )
    return names, lights / norms[:, None]


def check_direction(direction: list[float], where: str) -> list[float]:
    """Reject directions that cannot be a light above the surface."""
    if not all(math.isfinite(v) for v in direction):
        raise RTIError(f"{where}: light direction is not finite: {direction}")
    if math.hypot(*direction) < 1e-6:
        raise RTIError(f"{where}: light direction is zero")
    if direction[2] < -HORIZON_TOLERANCE * math.hypot(*direction):
        raise RTIError(f"{where}: light direction points below the surface (lz = {direction[2]:g} < 0)")
    if direction[2] < 0.0:
        degrees = math.degrees(math.asin(-direction[2] / math.hypot(*direction)))
        log.warning("%s: light direction is %.2f° below the horizon (lz = %g); set to the horizon", where, degrees,
                    direction[2])
        return [direction[0], direction[1], 0.0]
    return direction


def write_lp(path: Path | str, names: list[str], lights: np.ndarray, force: bool = True) -> None:
    """Write an .lp file (atomically): the count, then one ``name lx ly lz`` row per light."""
    if len(names) != len(lights):
        raise ValueError("write_lp: one name per light is needed")
    lines = [str(len(names))] + [f"{n} {x:.9f} {y:.9f} {z:.9f}" for n, (x, y, z) in zip(names, lights, strict=True)]
    with output_file(path, force=force) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
