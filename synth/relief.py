"""Height fields of the built-in reliefs, made from a seed with numpy alone (no bpy).

A relief is a (H, W) array of heights over the square [-1, 1]² seen by the camera (row 0 at the top, y = +1), in the
same units as that square, so slopes and cast shadows do not depend on the resolution. The kinds imitate SynthRTI's
three objects: ``bumps`` a nearly flat surface with fine bumps, ``frieze`` dancing figures standing out of a framed
ground, ``tablet`` a slab inscribed with wedge-shaped signs; besides them ``coin`` (rim, beads, a profile and
lettering), ``basrelief`` raised rounded shapes on a plane and ``flat``, the plane used to check the lights.

A height field cannot overhang, so the frieze's figures are also :func:`solids`: ellipsoids whose centres float above
the ground, undercut below their equator as carved figures are, and casting shadows at low lights.
"""

from __future__ import annotations

import numpy as np

KINDS = ("flat", "bumps", "basrelief", "frieze", "tablet", "coin")
DEPTH = 0.1
"""The depth the built-in reliefs are made at (their highest and lowest points are about this far apart)."""
MARGIN = 2
"""Pixels of surface beyond each edge of the frame: the render's pixel filter reaches past the edge pixels."""


def grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """x (right) and y (up) coordinates of the vertex grid of a ``size``-pixel frame, one quad per pixel, row 0 at
    the top: [-1, 1] and ``MARGIN`` pixels more on each side, (size + 1 + 2·MARGIN)² vertices."""
    reach = 1.0 + 2.0 * MARGIN / size
    t = np.linspace(-reach, reach, size + 1 + 2 * MARGIN)
    x, y = np.meshgrid(t, -t)
    return x, y


def make(kind: str, size: int, seed: int) -> np.ndarray:
    """Heights at the vertices of :func:`grid` for a built-in ``kind``."""
    x, y = grid(size)
    rng = np.random.default_rng(seed)
    if kind == "flat":
        return np.zeros_like(x)
    if kind == "bumps":
        return _bumps(x, y, rng)
    if kind == "basrelief":
        return _basrelief(x, y, rng)
    if kind == "frieze":
        return _frieze_ground(x, y, rng)
    if kind == "tablet":
        return _tablet(x, y, rng)
    if kind == "coin":
        return _coin(x, y, rng)
    raise ValueError(f"unknown relief {kind!r} (choose from {', '.join(KINDS)})")


def solids(kind: str, seed: int) -> np.ndarray:
    """Ellipsoids standing on the height field of ``kind`` (none but the frieze's), one row each: centre x, y, z,
    radii along the ellipsoid's own x, y, z, and its turn about the vertical (radians)."""
    if kind != "frieze":
        return np.zeros((0, 7))
    rng = np.random.default_rng(seed)
    return np.array([part for x in (-0.68, 0.0, 0.68) for part in _dancer(x + rng.uniform(-0.04, 0.04), rng)])


def from_image(gray: np.ndarray, size: int, depth: float = 0.1) -> np.ndarray:
    """Heights at the vertices of :func:`grid` from a grey image (rows top to bottom, values in [0, 1]) stretched over
    [-1, 1]², white high; the margin repeats the image's edge."""
    x, y = grid(size)
    cols = np.clip((x[0] + 1.0) / 2.0, 0.0, 1.0) * (gray.shape[1] - 1)
    rows = np.clip((1.0 - y[:, 0]) / 2.0, 0.0, 1.0) * (gray.shape[0] - 1)
    r0 = np.clip(np.floor(rows).astype(int), 0, max(gray.shape[0] - 2, 0))
    c0 = np.clip(np.floor(cols).astype(int), 0, max(gray.shape[1] - 2, 0))
    r1, c1 = np.minimum(r0 + 1, gray.shape[0] - 1), np.minimum(c0 + 1, gray.shape[1] - 1)
    fr, fc = (rows - r0)[:, None], (cols - c0)[None, :]
    top = gray[r0][:, c0] * (1 - fc) + gray[r0][:, c1] * fc
    bottom = gray[r1][:, c0] * (1 - fc) + gray[r1][:, c1] * fc
    return depth * (top * (1 - fr) + bottom * fr)


def _bumps(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Hundreds of small Gaussian bumps and dents over a gentle swell."""
    height = 0.02 * np.sin(1.3 * x + rng.uniform(0, 6)) * np.cos(1.1 * y + rng.uniform(0, 6))
    for cx, cy, r, a in zip(rng.uniform(-1.1, 1.1, 400), rng.uniform(-1.1, 1.1, 400), rng.uniform(0.015, 0.07, 400),
                            rng.uniform(-0.6, 1.0, 400)):
        height += a * 0.4 * r * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r))
    return height


def _basrelief(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Raised discs, ellipses and rounded bars with soft edges, some stacked, on a flat ground."""
    height = np.zeros_like(x)
    for _ in range(14):
        cx, cy = rng.uniform(-0.8, 0.8, 2)
        a, b = rng.uniform(0.08, 0.35), rng.uniform(0.08, 0.35)
        angle = rng.uniform(0, np.pi)
        along, across = _turned(x, y, cx, cy, angle)
        u, v = along / a, across / b
        d = np.sqrt(u * u + v * v) if rng.uniform() < 0.6 else np.maximum(np.abs(u), np.abs(v))
        edge = 0.04 / min(a, b)
        plateau = _plateau(d, edge)
        dome = np.sqrt(np.clip(1.0 - d * d, 0.0, None))
        height = np.maximum(height, rng.uniform(0.04, 0.09) * plateau * (0.6 + 0.4 * dome))
    return height


def _plateau(distance: np.ndarray, edge: float) -> np.ndarray:
    """1 inside a shape (``distance`` < 1), 0 outside, rising over ``edge`` of that distance: a cut wall."""
    return np.clip((1.0 - distance) / edge, 0.0, 1.0)


def _ellipse(x: np.ndarray, y: np.ndarray, cx: float, cy: float, a: float, b: float, angle: float) -> np.ndarray:
    """Normalised distance from (cx, cy) in an ellipse of half-axes ``a``, ``b`` turned by ``angle``: 1 on its rim."""
    along, across = _turned(x, y, cx, cy, angle)
    u, v = along / a, across / b
    return np.sqrt(u * u + v * v)


def _turned(x: np.ndarray, y: np.ndarray, cx: float, cy: float, angle: float) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates about (cx, cy) along the direction ``angle`` and across it."""
    return ((x - cx) * np.cos(angle) + (y - cy) * np.sin(angle), -(x - cx) * np.sin(angle) + (y - cy) * np.cos(angle))


def _frieze_ground(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A chiselled ground between two raised mouldings with square edges, the figures' floor (see :func:`solids`)."""
    height = np.zeros_like(x)
    for _ in range(12):
        fx, fy, phase = rng.uniform(4, 30), rng.uniform(4, 30), rng.uniform(0, 2 * np.pi)
        height += 0.0015 * np.sin(fx * x + phase) * np.sin(fy * y + 2 * phase)
    for band in (0.86, -0.86):
        outer = np.abs(y - band) < 0.12
        height = np.where(outer, 0.09, height)
        height = np.where(np.abs(y - band) < 0.04, 0.13, height)
    return height


def _dancer(hip_x: float, rng: np.random.Generator) -> list[list[float]]:
    """A figure of ten ellipsoids (torso, head, two-part arms and legs) in a dancing pose, hips at ``hip_x``."""
    parts: list[list[float]] = []

    def limb(x0: float, y0: float, angle: float, length: float, radius: float) -> tuple[float, float]:
        """A limb segment from (x0, y0) pointing along ``angle``; returns its far end."""
        dx, dy = np.cos(angle), np.sin(angle)
        parts.append([x0 + dx * length / 2, y0 + dy * length / 2, 0.35 * radius, length / 2 + radius / 2, radius,
                      radius, angle])
        return x0 + dx * length, y0 + dy * length

    lean = rng.uniform(-0.25, 0.25)
    hip_y = -0.3 + rng.uniform(-0.04, 0.04)
    up = np.pi / 2 + lean
    neck_x, neck_y = hip_x + 0.42 * np.cos(up), hip_y + 0.42 * np.sin(up)
    parts.append([(hip_x + neck_x) / 2, (hip_y + neck_y) / 2, 0.05, 0.11, 0.24, 0.11, lean])
    parts.append([hip_x + 0.52 * np.cos(up), hip_y + 0.52 * np.sin(up), 0.06, 0.085, 0.1, 0.09, lean])
    for side in (-1, 1):
        shoulder = (neck_x + side * 0.08, neck_y - 0.04)
        elbow = limb(*shoulder, up - side * rng.uniform(0.6, 2.2), 0.2, 0.04)
        limb(*elbow, up - side * rng.uniform(-0.3, 1.8), 0.18, 0.033)
        knee = limb(hip_x + side * 0.05, hip_y, -np.pi / 2 + side * rng.uniform(0.1, 0.7), 0.24, 0.05)
        limb(*knee, -np.pi / 2 + side * rng.uniform(-0.4, 0.6), 0.22, 0.04)
    return parts


def _tablet(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A slightly domed slab ruled into lines of signs, each one to four wedges: a triangular head pressed deepest
    and a V-shaped tail that shallows out, with walls steep enough to shade themselves at low lights."""
    height = 0.06 * (1.0 - 0.12 * (x * x + y * y))
    carve = np.zeros_like(x)
    rows = np.linspace(-0.78, 0.78, 6)
    for rule in (rows[:-1] + rows[1:]) / 2:
        carve = np.maximum(carve, 0.02 * np.clip(1.0 - np.abs(y - rule) / 0.012, 0.0, None))
    for row in rows:
        cx = -0.92 + rng.uniform(0.0, 0.05)
        while cx < 0.85:
            for _ in range(rng.integers(1, 5)):
                angle = rng.choice([0.0, -np.pi / 2, -np.pi / 4, np.pi / 4]) + rng.uniform(-0.1, 0.1)
                length = rng.uniform(0.14, 0.22) * (0.6 if angle < -1 else 1.0)
                wx, wy = cx + rng.uniform(0.0, 0.08), row + rng.uniform(-0.06, 0.06) + (0.07 if angle < -1 else 0)
                carve = np.maximum(carve, _wedge(x, y, wx, wy, angle, length, rng.uniform(0.035, 0.05)))
            cx += rng.uniform(0.16, 0.24)
    return height - carve


def _wedge(x: np.ndarray, y: np.ndarray, cx: float, cy: float, angle: float, length: float, depth: float
           ) -> np.ndarray:
    """How deep one wedge is pressed: deepest at its head (cx, cy), a triangle ``length`` / 3 across, tapering along
    ``angle`` to nothing at ``length``."""
    along, across = _turned(x, y, cx, cy, angle)
    across = np.abs(across)
    half = np.where(along < 0.25 * length, length / 6 * (1.0 - np.clip(along, 0, None) / length),
                    0.3 * length / 6 * (1.0 - along / length))
    inside = (along > -0.04 * length) & (along < length)
    profile = np.clip(1.0 - across / np.maximum(half, 1e-9), 0.0, None)
    shallow = np.where(along < 0.25 * length, 1.0, 1.0 - 0.6 * (along - 0.25 * length) / (0.75 * length))
    return np.where(inside, depth * profile * shallow, 0.0)


def _coin(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A struck coin on a flat ground: square-edged flan, raised rim, a ring of beads, a profile head with a wreath,
    and lettering around it as short raised strokes."""
    r = np.hypot(x, y)
    height = 0.04 * _plateau(r / 0.92, 0.01)
    height += 0.035 * _plateau(np.abs(r - 0.86) / 0.05, 0.25)
    for t in np.linspace(0, 2 * np.pi, 60, endpoint=False):
        height += 0.02 * np.sqrt(np.clip(1 - ((x - 0.76 * np.cos(t)) ** 2 + (y - 0.76 * np.sin(t)) ** 2) / 0.016 ** 2,
                                          0, None))
    for t in np.linspace(0.25 * np.pi, 1.75 * np.pi, 26) + 0.5 * np.pi:
        stroke = _ellipse(x, y, 0.63 * np.cos(t), 0.63 * np.sin(t), 0.012, 0.045, t + rng.choice([0.0, 0.5, -0.5]))
        height += 0.025 * _plateau(stroke, 0.3)
    head = _ellipse(x, y, 0.02, 0.12, 0.3, 0.36, 0.2)
    face = _ellipse(x, y, -0.27, 0.08, 0.12, 0.2, -0.1)
    neck = _ellipse(x, y, 0.06, -0.3, 0.15, 0.22, 0.1)
    bust = np.minimum(np.minimum(head, face), neck)
    height += 0.07 * _plateau(bust, 0.08) * (0.6 + 0.4 * np.sqrt(np.clip(1 - head * head, 0, None)))
    for k in range(9):
        t = 0.5 + k * 0.25
        leaf = _ellipse(x, y, 0.05 + 0.26 * np.cos(t), 0.12 + 0.3 * np.sin(t), 0.03, 0.08, t + 0.9)
        height += 0.025 * _plateau(leaf, 0.3)
    return height
