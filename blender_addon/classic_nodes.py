"""PTM and HSH relighting as shader node groups, so captures fitted by other tools relight like neural models.

The group's inputs are the coefficient textures (one RGB texture per basis term; for LRGB-PTM two textures of
luminance terms and the chroma) and ``Light``; the basis functions of ``core.classic.ptm`` and ``core.classic.hsh`` are rebuilt from
Math nodes, and the colour is their coefficient-weighted sum. A few dozen nodes: one tree is fast to build.
"""

from __future__ import annotations

import math

import bpy

from .core.classic import fitting, hsh
from .nodetree import (COLUMN, Math, Operand, Socket, add_node, ends, group, set_vector, srgb_encoded, vector_math,
                       weighted_sum)


def texture_names(method: str) -> list[str]:
    """The group's texture inputs, in order: what the importer makes textures of."""
    if method == "lptm":
        return ["Luminance 0-2", "Luminance 3-5", "Chroma"]
    return [f"Coefficients {k}" for k in range(fitting.method_terms(method))]


def classic_group(name: str, method: str, min_elevation: float = hsh.MIN_ELEVATION, linear: bool = False
                  ) -> bpy.types.ShaderNodeTree:
    """The relighting function of ``method`` (ptm, lptm, hsh2, hsh3) as a group: texture inputs (``texture_names``)
    and ``Light`` (a unit vector in the image frame), output ``Color``: display (sRGB-encoded) values, as every
    model's group gives; a ``linear`` model's colour (relight's colorprofile "RGB") is encoded here."""
    inputs = [(texture, "NodeSocketColor") for texture in texture_names(method)] + [("Light", "NodeSocketVector")]
    tree = group(name, inputs, [("Color", "NodeSocketColor")])
    start, end = ends(tree)
    light = add_node(tree, "ShaderNodeSeparateXYZ", (COLUMN, -200))
    tree.links.new(start.outputs["Light"], light.inputs[0])
    math_node = Math(tree)
    if method in ("ptm", "lptm"):
        terms = _ptm_terms(math_node, light.outputs["X"], light.outputs["Y"])
    else:
        terms = _hsh_terms(math_node, light.outputs, int(method[3:]), min_elevation)
    if method == "lptm":
        colour = _luminance_times_chroma(tree, start, terms)
    else:
        colour = weighted_sum(tree, [start.outputs[k] for k in range(len(terms))], terms)
    tree.links.new(srgb_encoded(tree, colour, (COLUMN * 12, 300)) if linear else colour, end.inputs["Color"])
    end.location = (COLUMN * 14 if linear else COLUMN * 12, 0)
    return tree


def _ptm_terms(m: Math, u: Socket, v: Socket) -> list[Operand]:
    """u², v², uv, u, v, 1 (``core.classic.ptm``)."""
    return [m("MULTIPLY", u, u), m("MULTIPLY", v, v), m("MULTIPLY", u, v), u, v, 1.0]


def _hsh_terms(m: Math, light: bpy.types.bpy_prop_collection, order: int, min_elevation: float) -> list[Operand]:
    """The hemispherical harmonics of ``core.classic.hsh`` up to ``order`` (2 or 3)."""
    theta = m("MINIMUM", m("ARCCOSINE", light["Z"]), math.pi / 2 - min_elevation)
    phi = m("ARCTAN2", light["Y"], light["X"])
    c = m("COSINE", theta)
    c2_c = m("SUBTRACT", m("MULTIPLY", c, c), c)  # c² − c
    s = m("SQRT", m("MULTIPLY", c2_c, -1.0))
    two_c_1 = m("SUBTRACT", m("MULTIPLY", c, 2.0), 1.0)
    cos_phi, sin_phi = m("COSINE", phi), m("SINE", phi)
    pi = math.pi
    terms: list[Operand] = [
        1 / math.sqrt(2 * pi),
        m("MULTIPLY", m("MULTIPLY", cos_phi, s), math.sqrt(6 / pi)),
        m("MULTIPLY", two_c_1, math.sqrt(3 / (2 * pi))),
        m("MULTIPLY", m("MULTIPLY", sin_phi, s), math.sqrt(6 / pi)),
    ]
    if order == 3:
        k = math.sqrt(30 / pi)
        two_phi = m("MULTIPLY", phi, 2.0)
        terms += [
            m("MULTIPLY", m("MULTIPLY", m("COSINE", two_phi), c2_c), k),
            m("MULTIPLY", m("MULTIPLY", m("MULTIPLY", cos_phi, two_c_1), s), k),
            m("MULTIPLY", m("ADD", m("MULTIPLY", c2_c, 6.0), 1.0), math.sqrt(5 / (2 * pi))),
            m("MULTIPLY", m("MULTIPLY", m("MULTIPLY", sin_phi, two_c_1), s), k),
            m("MULTIPLY", m("MULTIPLY", m("SINE", two_phi), c2_c), k),
        ]
    return terms


def _luminance_times_chroma(tree: bpy.types.ShaderNodeTree, start: bpy.types.Node, terms: list[Operand]) -> Socket:
    """LRGB-PTM: luminance = (a0, a1, a2)·(u², v², uv) + (a3, a4, a5)·(u, v, 1), times the chroma colour."""
    luminance: Socket | None = None
    for k in range(2):
        basis = add_node(tree, "ShaderNodeCombineXYZ", (COLUMN * 9, -200 * k))
        for c, term in enumerate(terms[3 * k : 3 * k + 3]):
            if isinstance(term, float):
                setattr(basis.inputs[c], "default_value", term)
            else:
                tree.links.new(term, basis.inputs[c])
        dot = vector_math(tree, "DOT_PRODUCT", (COLUMN * 10, -200 * k))
        tree.links.new(start.outputs[k], dot.inputs[0])
        tree.links.new(basis.outputs[0], dot.inputs[1])
        value = dot.outputs["Value"]
        if luminance is None:
            luminance = value
        else:
            add = add_node(tree, "ShaderNodeMath", (COLUMN * 11, 0))
            tree.links.new(luminance, add.inputs[0])
            tree.links.new(value, add.inputs[1])
            luminance = add.outputs[0]
    assert luminance is not None
    scale = vector_math(tree, "SCALE", (COLUMN * 12, 0))
    tree.links.new(start.outputs["Chroma"], scale.inputs[0])
    tree.links.new(luminance, scale.inputs["Scale"])
    return scale.outputs[0]
