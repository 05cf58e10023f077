"""What a synthetic MLIC is made of: every parameter of one scene, checked, as plain data (no bpy).

The renderer turns a :class:`SceneSpec` into images; ``scene.json`` records it with the Blender version so any
scene can be rendered again.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from core.capture import lights as patterns
from core.capture import lp
from core.errors import RTIError

from . import materials, relief
from .relief import DEPTH

FORMATS = {"png": ".png", "png16": ".png", "jpg": ".jpg", "exr": ".exr"}
"""Image formats of the light images: 8-bit PNG (default), 16-bit PNG, JPEG (``quality``) and 32-bit float EXR."""
OWN = "own"
"""The material name that keeps a photographed object's own materials."""
LIGHT_PATTERNS = ("synthrti", "fibonacci:N", "random:N", "none (test only)", "FILE.lp")
SPHERE_CHOICES = ("none", "chrome", "black", "both")
SPHERE_PLACES = {"chrome": (0.78, 0.78), "black": (-0.78, 0.78)}
"""Where the calibration spheres sit, in the surface's units: the top corners of the frame."""
SPHERE_RADIUS = 0.16
"""Their radius, in the same units: 8 % of the frame's width (25.6 pixels at 320²)."""


@dataclass
class SceneSpec:
    """One scene. ``relief`` is a built-in kind unless ``heightmap`` (an image) or ``blend`` (a .blend file whose
    ``object``, or active object, is photographed) is given. Light patterns: see :func:`light_directions`."""

    size: int = 320
    relief: str = "bumps"
    heightmap: str | None = None
    depth: float = DEPTH
    blend: str | None = None
    object: str | None = None
    material: str = "stripes"
    colors: list[str] = field(default_factory=list)
    seed: int = 0
    train_lights: str = "synthrti"
    test_lights: str = "synthrti"
    near_field: float | None = None
    exposure: float = 0.8
    samples: int = 4
    denoise: bool = False
    format: str = "png"
    quality: int = 95
    spheres: str = "none"

    def check(self) -> None:
        """Refuse what cannot render, with one line that names the problem."""
        if not 1 <= self.size <= 8192:
            raise RTIError(f"--size must be between 1 and 8192 pixels, got {self.size}")
        if self.relief not in relief.KINDS:
            raise RTIError(f"unknown relief {self.relief!r} (choose from {', '.join(relief.KINDS)})")
        if self.heightmap is not None and self.blend is not None:
            raise RTIError("give a height map or a .blend, not both")
        for path in (self.heightmap, self.blend):
            if path is not None and not Path(path).is_file():
                raise RTIError(f"{path}: no such file")
        if self.blend is not None and not self.blend.lower().endswith(".blend"):
            raise RTIError(f"{self.blend}: not a .blend file")
        if self.object is not None and self.blend is None:
            raise RTIError("--object names an object of a --blend file")
        if self.samples < 1 or not 1 <= self.quality <= 100:
            raise RTIError("samples must be at least 1 and quality between 1 and 100")
        if self.format not in FORMATS:
            raise RTIError(f"unknown format {self.format!r} (choose from {', '.join(FORMATS)})")
        if not (self.depth > 0 and self.exposure > 0):
            raise RTIError("depth and exposure must be positive")
        if self.near_field is not None and not self.near_field > 1.5:
            raise RTIError(f"--near-field is a distance in half-widths of the surface and must exceed 1.5, got "
                           f"{self.near_field}")
        if self.spheres not in SPHERE_CHOICES:
            raise RTIError(f"unknown spheres {self.spheres!r} (choose from {', '.join(SPHERE_CHOICES)})")
        if self.material != OWN:
            self.material_set()
        self.lights()

    def material_set(self) -> materials.MaterialSet:
        try:
            return materials.material_set(self.material, [materials.parse_color(c) for c in self.colors] or None)
        except ValueError as exc:
            raise RTIError(str(exc)) from None

    def lights(self) -> dict[str, np.ndarray]:
        """Light directions (N, 3) of the ``train`` and, unless "none", ``test`` parts."""
        parts = {"train": light_directions(self.train_lights, "train", self.seed)}
        if self.test_lights != "none":
            parts["test"] = light_directions(self.test_lights, "test", self.seed + 1)
        return parts

    def light_positions(self, directions: np.ndarray) -> np.ndarray | None:
        """Point-light positions (N, 3) for near-field lighting, in the surface's units (it spans [-1, 1])."""
        return None if self.near_field is None else directions * self.near_field

    def sphere_layout(self) -> list[dict]:
        """Each calibration sphere: its kind, centre and radius in the surface's units (x right, y up; resting on
        the relief) and in pixels (x right, y down, as ``python -m core lights --sphere`` takes them)."""
        kinds = {"none": [], "chrome": ["chrome"], "black": ["black"], "both": ["chrome", "black"]}[self.spheres]
        half = self.size / 2
        return [{"kind": kind, "world": [x, y, self.depth + SPHERE_RADIUS, SPHERE_RADIUS],
                 "pixels": [(x + 1) * half, (1 - y) * half, SPHERE_RADIUS * half]}
                for kind in kinds for x, y in [SPHERE_PLACES[kind]]]

    def to_json(self) -> dict:
        return asdict(self)


def light_directions(pattern: str, part: str, seed: int) -> np.ndarray:
    """Unit directions from "synthrti" (its 49 dome lights for train, its 20 test lights for test), "fibonacci:N",
    "random:N" (from ``seed``) or an .lp file."""
    kind, _, count = pattern.partition(":")
    if kind == "synthrti" and not count:
        return patterns.synthrti_dome() if part == "train" else patterns.synthrti_test()
    if kind in ("fibonacci", "random"):
        if not count.isdigit() or int(count) < 1:
            raise RTIError(f"--{part}-lights {pattern}: give a positive count, e.g. {kind}:49")
        n = int(count)
        return patterns.fibonacci(n, 5.0) if kind == "fibonacci" else patterns.random(n, seed, 5.0)
    if pattern.lower().endswith(".lp"):
        _, directions = lp.read_lp(pattern)
        return directions
    raise RTIError(f"--{part}-lights {pattern!r}: use one of {', '.join(LIGHT_PATTERNS)}")


def sun_rotation(direction: np.ndarray) -> tuple[float, float, float]:
    """XYZ Euler angles that turn a sun lamp (shining along its local -Z) to shine from ``direction`` (unit)."""
    x, y, z = (float(v) for v in direction)
    return (math.acos(max(-1.0, min(1.0, z))), 0.0, math.atan2(y, x) + math.pi / 2)
