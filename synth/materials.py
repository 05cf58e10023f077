"""Material presets (Principled BSDF settings) and multi-material layouts, as plain data (no bpy).

A *material set* is what a scene is painted with: one or more Principled materials and a layout that says which of
them covers each point of the surface. Single presets imitate SynthRTI's single materials (greys from matte to very
shiny, dark ones, a tinted translucent one); multi sets its stripes and its diffuse-versus-metal split.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

from core.capture.images import srgb_to_linear

Color = tuple[float, float, float]


@dataclass(frozen=True)
class Principled:
    """The Principled BSDF inputs a preset sets; colours are linear RGB."""

    color: Color = (0.5, 0.5, 0.5)
    roughness: float = 0.5
    metallic: float = 0.0
    specular: float = 0.5
    subsurface: float = 0.0
    subsurface_radius: Color = (0.1, 0.05, 0.02)

    def to_json(self) -> dict:
        return asdict(self)


GREY: Color = (0.5, 0.5, 0.5)
DARK: Color = (0.04, 0.04, 0.04)

SINGLE = {
    "matte": Principled(GREY, roughness=1.0, specular=0.0),
    "semi-glossy": Principled(GREY, roughness=0.45, specular=0.5),
    "glossy": Principled(GREY, roughness=0.2, specular=0.6),
    "dark-matte": Principled(DARK, roughness=1.0, specular=0.0),
    "dark-glossy": Principled(DARK, roughness=0.15, specular=0.7),
    "shiny": Principled(GREY, roughness=0.07, specular=0.8),
    "satin": Principled(GREY, roughness=0.7, specular=0.3),
    "translucent": Principled((0.6, 0.42, 0.3), roughness=0.4, specular=0.4, subsurface=0.6),
}
"""Single-material presets by name, after SynthRTI's eight single materials: a matte mid-grey; semi-glossy and
glossy greys; a dark matte and a dark glossy; a very shiny grey whose highlights saturate; a satin mid-grey; a tinted,
slightly translucent one (subsurface scattering)."""

PALETTE: list[Color] = [(0.75, 0.55, 0.08), (0.08, 0.2, 0.6), (0.06, 0.45, 0.4), (0.6, 0.1, 0.4),
                        (0.55, 0.42, 0.27), (0.4, 0.4, 0.4)]
"""Stripe colours in the manner of SynthRTI's multi-material scenes: yellow, blue, teal, magenta, tan, grey."""
DARK_PALETTE: list[Color] = [(0.09, 0.05, 0.01), (0.01, 0.03, 0.09), (0.01, 0.06, 0.05), (0.07, 0.01, 0.04)]

GOLD = Principled((1.0, 0.77, 0.34), roughness=0.25, metallic=1.0)
SILVER = Principled((0.96, 0.95, 0.92), roughness=0.1, metallic=1.0)
COPPER = Principled((0.96, 0.64, 0.54), roughness=0.35, metallic=1.0)
BRASS = Principled((0.91, 0.78, 0.42), roughness=0.5, metallic=1.0)


@dataclass(frozen=True)
class MaterialSet:
    """Materials and the layout that places them: ``single``, ``stripes``, ``tiles`` or ``split``."""

    layout: str
    materials: tuple[Principled, ...]

    def to_json(self) -> dict:
        return {"layout": self.layout, "materials": [m.to_json() for m in self.materials]}


LAYOUTS = ("single", "stripes", "tiles", "split")


def _dielectrics(colors: list[Color], roughness: list[float], specular: float = 0.5) -> list[Principled]:
    return [Principled(c, roughness=r, specular=specular) for c, r in zip(colors, roughness)]


def _interleave(colors: list[Color], metals: list[Principled]) -> tuple[Principled, ...]:
    """Coloured semi-glossy bands alternating with metal ones."""
    return tuple(m for pair in zip(_dielectrics(colors, [0.45] * len(colors)), metals) for m in pair)


MULTI = {
    "stripes": lambda colors: MaterialSet("stripes", tuple(_dielectrics(colors, [0.45] * len(colors)))),
    "stripes-mixed": lambda colors: MaterialSet("stripes", tuple(_dielectrics(colors, [1.0, 0.15] * len(colors)))),
    "stripes-metal": lambda colors: MaterialSet("stripes", _interleave(colors[:3], [GOLD, SILVER, COPPER])),
    "stripes-dark": lambda colors: MaterialSet("stripes", tuple(_dielectrics(colors, [0.3, 1.0] * len(colors)))),
    "tiles": lambda colors: MaterialSet("tiles", tuple(_dielectrics(colors, [0.9, 0.3, 0.1, 0.6] * len(colors)))),
    "metals": lambda colors: MaterialSet("stripes", (GOLD, SILVER, COPPER, BRASS)),
    "split": lambda colors: MaterialSet("split", (Principled(colors[0], roughness=1.0, specular=0.0),
                                                  replace(GOLD, color=colors[1]))),
    "split-silver": lambda colors: MaterialSet("split", (Principled(colors[0], roughness=1.0, specular=0.0),
                                                         replace(SILVER, color=colors[1]))),
    "split-glossy": lambda colors: MaterialSet("split", (Principled(colors[0], roughness=0.2, specular=0.6),
                                                         replace(COPPER, color=colors[1]))),
}
"""Multi-material sets by name, built from a list of colours (the set's palette unless the user gives some): coloured
dielectric stripes (semi-glossy; alternating matte and glossy; alternating with gold, silver and copper; dark
colours), a grid of tiles of four roughnesses, bands of four metals, and left/right splits of a diffuse half and a
metal half (matte and gold, matte and polished silver, glossy and rough copper)."""

_PALETTES = {"stripes-dark": DARK_PALETTE, "split": [(0.55, 0.5, 0.45), GOLD.color],
             "split-silver": [(0.4, 0.4, 0.4), SILVER.color], "split-glossy": [(0.08, 0.2, 0.6), COPPER.color]}

PRESETS = (*SINGLE, *MULTI)


def material_set(name: str, colors: list[Color] | None = None) -> MaterialSet:
    """The named preset; ``colors`` replace a single preset's colour or a multi set's palette."""
    if name in SINGLE:
        base = SINGLE[name]
        return MaterialSet("single", (replace(base, color=colors[0]) if colors else base,))
    if name in MULTI:
        palette = list(colors) if colors else _PALETTES.get(name, PALETTE)
        if len(palette) < 2:
            raise ValueError(f"material {name!r} needs at least two colours")
        return MULTI[name](palette)
    raise ValueError(f"unknown material {name!r} (choose from {', '.join(PRESETS)})")


def layout_index(layout: str, x: np.ndarray, y: np.ndarray, count: int, bands: int = 6) -> np.ndarray:
    """Which of ``count`` materials covers each point (x right, y up, both in [-1, 1]).

    ``stripes``: ``bands`` horizontal bands cycling through the materials, top to bottom; ``tiles``: a 4×4 grid
    cycling through them; ``split``: the left half the first material, the right half the second.
    """
    row = np.clip(((1.0 - y) / 2.0 * bands).astype(int), 0, bands - 1)
    if layout == "single":
        return np.zeros(x.shape, dtype=int)
    if layout == "stripes":
        return row % count
    if layout == "tiles":
        i = np.clip(((x + 1.0) / 2.0 * 4).astype(int), 0, 3)
        j = np.clip(((1.0 - y) / 2.0 * 4).astype(int), 0, 3)
        return (i + j * 5) % count
    if layout == "split":
        return (x > 0.0).astype(int)
    raise ValueError(f"unknown layout {layout!r} (choose from {', '.join(LAYOUTS)})")


def parse_color(text: str) -> Color:
    """A colour from ``#rrggbb`` (sRGB, as colour pickers show it) to linear RGB."""
    value = text.strip().lstrip("#")
    if len(value) != 6 or any(c not in "0123456789abcdefABCDEF" for c in value):
        raise ValueError(f"colour {text!r} is not #rrggbb")
    linear = srgb_to_linear(np.array([int(value[i : i + 2], 16) / 255.0 for i in (0, 2, 4)]))
    return (float(linear[0]), float(linear[1]), float(linear[2]))
