"""relight's RBF and bilinear models as a shader node group, relit per pixel as fast as HSH.

The per-light part, a (P + 1) × 3 table (the mean colour and each coefficient plane's basis colour), is tabulated by
``core`` once, at import, on a square of light directions (``InterpolatedRTI.light_table``: relight's fold of the
hemisphere); the group folds each shading point's light direction onto that square and reads the table from P + 1
small float textures with linear filtering (exact for bilinear models, within a quarter of a level for RBF ones).
The per-pixel part is the dot product of the coefficient planes with the table. Nothing runs in Python when the
light moves, so dragging the handle relights at once and every shading point has its own direction, as with the
other models.
"""

from __future__ import annotations

import bpy

from .core.classic.interpolated import InterpolatedRTI
from .material import packed_image
from .nodetree import COLUMN, Math, Operand, Socket, add_node, ends, group, srgb_encoded, weighted_sum


def texture_names(planes: int) -> list[str]:
    """The group's texture inputs: the coefficient planes, three to a texture."""
    return [f"Coefficients {3 * k}-{min(3 * k + 2, planes - 1)}" for k in range(-(-planes // 3))]


def interpolated_group(name: str, model: InterpolatedRTI) -> bpy.types.ShaderNodeTree:
    """The model's relighting as a group: inputs ``texture_names`` and ``Light`` (a unit vector in the image frame),
    output ``Color`` (display values; linear models are encoded to sRGB). The table textures live in the group."""
    planes = len(model.planes)
    inputs = [(texture, "NodeSocketColor") for texture in texture_names(planes)] + [("Light", "NodeSocketVector")]
    tree = group(name, inputs, [("Color", "NodeSocketColor")])
    start, end = ends(tree)
    table = model.light_table()  # (P + 1, G, G, 3), row j = v, column i = u
    where = _table_coordinates(tree, start.outputs["Light"], table.shape[1])
    colours: list[Socket] = []
    for k, grid in enumerate(table):
        texture = add_node(tree, "ShaderNodeTexImage", (COLUMN * 8, -280 * k))
        setattr(texture, "image", packed_image(f"{name} table {k}", grid[::-1], float_buffer=True))
        setattr(texture, "interpolation", "Linear")
        setattr(texture, "extension", "EXTEND")
        tree.links.new(where, texture.inputs["Vector"])
        colours.append(texture.outputs["Color"])
    values: list[Operand] = [1.0]  # the mean colour, then each plane's value
    for j in range(-(-planes // 3)):
        split = add_node(tree, "ShaderNodeSeparateColor", (COLUMN * 8, 300 + 200 * j))
        tree.links.new(start.outputs[j], split.inputs["Color"])
        values += [split.outputs[c] for c in ("Red", "Green", "Blue")][: planes - 3 * j]
    colour = weighted_sum(tree, colours, values, (COLUMN * 10, 0))
    linear = model.colorprofile == "RGB"
    tree.links.new(srgb_encoded(tree, colour, (COLUMN * 11, 300)) if linear else colour, end.inputs["Color"])
    end.location = (COLUMN * 13, 0)
    return tree


def _table_coordinates(tree: bpy.types.ShaderNodeTree, light: Socket, side: int) -> Socket:
    """The texture coordinates of a light's place on the table's grid: relight's fold (u, v) = ((x + y)/s + 1)/2,
    ((y − x)/s + 1)/2 with s = |x| + |y| + |z|, grid node i at u = i/(side − 1), texel centres at (i + ½)/side."""
    xyz = add_node(tree, "ShaderNodeSeparateXYZ", (COLUMN, -200))
    tree.links.new(light, xyz.inputs[0])
    m = Math(tree)
    x, y, z = xyz.outputs["X"], xyz.outputs["Y"], xyz.outputs["Z"]
    s = m("ADD", m("ADD", m("ABSOLUTE", x), m("ABSOLUTE", y)), m("ABSOLUTE", z))
    scale = (side - 1) / side / 2.0
    u = m("MULTIPLY_ADD", m("DIVIDE", m("ADD", x, y), s), scale, scale + 0.5 / side)
    v = m("MULTIPLY_ADD", m("DIVIDE", m("SUBTRACT", y, x), s), scale, scale + 0.5 / side)
    where = add_node(tree, "ShaderNodeCombineXYZ", (COLUMN * 7, -200))
    tree.links.new(u, where.inputs["X"])
    tree.links.new(v, where.inputs["Y"])
    return where.outputs["Vector"]
