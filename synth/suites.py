"""Benchmark suites: which scenes ``python -m synth --suite NAME`` renders, and where each goes (no bpy).

``synthrti`` imitates SynthRTI's 51 scenes and its layout, ``{Single,Multi}/Object{1,2,3}/material{k}/{Dome,Test}``:
three objects (:data:`OBJECTS`), each under the eight single presets and the nine multi-material sets of
:mod:`synth.materials`, in their order (``material1`` is the first). ``quick`` is a 12-scene suite for quick
comparisons: three reliefs at their default depth × four material sets, in ``<relief>/<material>/{train,test}``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from core.errors import RTIError

from . import materials
from .spec import SceneSpec

OBJECTS = (("bumps", 0.06), ("frieze", 0.045), ("tablet", 0.25))
"""SynthRTI's objects as (relief, depth): a nearly flat bumpy surface, a frieze of dancing figures, an inscribed
tablet; their depths make our suite as hard for HSH and PTM as SynthRTI (BENCHMARKS.md, "Synthetic suite")."""
QUICK_RELIEFS = ("bumps", "basrelief", "tablet")
QUICK_MATERIALS = ("matte", "glossy", "stripes", "split")
NAMES = ("quick", "synthrti")


@dataclass(frozen=True)
class Scene:
    """One scene of a suite: its folder (relative to the suite's), its spec, the names of its parts' folders and
    what ``index.json`` says about it."""

    path: str
    spec: SceneSpec
    layout: str
    about: dict

    def to_json(self) -> dict:
        return {"path": self.path, "relief": self.spec.relief, "material": self.spec.material,
                "depth": self.spec.depth, **self.about}


def scenes(name: str, base: SceneSpec) -> list[Scene]:
    """Every scene of suite ``name``; ``base`` gives what the suite leaves open (size, seed, samples, format...)."""
    if name == "quick":
        return [Scene(f"{r}/{m}", replace(base, relief=r, material=m), "ours", {})
                for r in QUICK_RELIEFS for m in QUICK_MATERIALS]
    if name == "synthrti":
        groups = (("Single", materials.SINGLE), ("Multi", materials.MULTI))
        return [Scene(f"{group}/Object{o}/material{k}", replace(base, relief=relief, depth=depth, material=m),
                      "synthrti", {"group": group, "object": o})
                for group, presets in groups for o, (relief, depth) in enumerate(OBJECTS, 1)
                for k, m in enumerate(presets, 1)]
    raise RTIError(f"unknown suite {name!r} (choose from {', '.join(NAMES)})")
