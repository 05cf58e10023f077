"""Small helpers for building shader node trees from code (the stubs lack most socket and node attributes)."""

from __future__ import annotations

from collections.abc import Sequence

import bpy
import numpy as np

Socket = bpy.types.NodeSocket
Operand = Socket | float
COLUMN = 220
"""Horizontal spacing of node columns, for a readable tree."""
CROP = "RTI crop"
"""The Mapping node, when a material has one, through which its textures read the plane's UVs."""


def group(name: str, inputs: list[tuple[str, str]], outputs: list[tuple[str, str]]) -> bpy.types.ShaderNodeTree:
    tree = bpy.data.node_groups.new(name, "ShaderNodeTree")  # type: ignore[arg-type]  # the stubs' enum is empty
    assert isinstance(tree, bpy.types.ShaderNodeTree)
    interface = tree.interface
    assert interface is not None
    for socket_name, kind in inputs:
        interface.new_socket(socket_name, in_out="INPUT", socket_type=kind)
    for socket_name, kind in outputs:
        interface.new_socket(socket_name, in_out="OUTPUT", socket_type=kind)
    return tree


def ends(tree: bpy.types.ShaderNodeTree) -> tuple[bpy.types.Node, bpy.types.Node]:
    start = add_node(tree, "NodeGroupInput", (0, 0))
    return start, add_node(tree, "NodeGroupOutput", (COLUMN, 0))


def add_node(tree: bpy.types.NodeTree, kind: str, location: tuple[float, float]) -> bpy.types.Node:
    made = tree.nodes.new(kind)
    made.location = location
    return made


def texel_texture(tree: bpy.types.NodeTree, image: bpy.types.Image, location: tuple[float, float]) -> bpy.types.Node:
    """An Image Texture node reading ``image`` texel by texel (nearest texel, edges extended), through the tree's
    ``CROP`` mapping when it has one."""
    node = add_node(tree, "ShaderNodeTexImage", location)
    setattr(node, "image", image)
    setattr(node, "interpolation", "Closest")
    setattr(node, "extension", "EXTEND")
    crop = tree.nodes.get(CROP)
    if crop is not None:
        tree.links.new(crop.outputs[0], node.inputs["Vector"])
    return node


def add_crop(tree: bpy.types.NodeTree, scale: tuple[float, float], location: tuple[float, float]) -> None:
    """The ``CROP`` mapping: the plane's UVs to those of textures ``scale`` = (plane / texture) times its size in
    pixels, their top-left corners together (a model a few pixels wider or taller than the plane's capture)."""
    x, y = location
    coordinates = add_node(tree, "ShaderNodeTexCoord", (x - COLUMN, y))
    mapping = add_node(tree, "ShaderNodeMapping", (x, y))
    mapping.name = CROP
    set_vector(mapping.inputs["Scale"], (scale[0], scale[1], 1.0))
    set_vector(mapping.inputs["Location"], (0.0, 1.0 - scale[1], 0.0))
    tree.links.new(coordinates.outputs["UV"], mapping.inputs["Vector"])


def vector_math(tree: bpy.types.NodeTree, operation: str, location: tuple[float, float]) -> bpy.types.Node:
    made = add_node(tree, "ShaderNodeVectorMath", location)
    setattr(made, "operation", operation)
    return made


def set_vector(socket: Socket, value: Sequence[float] | np.ndarray) -> None:
    """Set an unlinked vector input's value (the stubs type sockets without ``default_value``)."""
    setattr(socket, "default_value", tuple(float(v) for v in value))


class Math:
    """Adds scalar Math nodes to a tree, laid out in columns: ``self("MULTIPLY", a, b)`` with sockets or constants
    as operands."""

    def __init__(self, tree: bpy.types.ShaderNodeTree):
        self.tree = tree

    def __call__(self, operation: str, *operands: Operand) -> Socket:
        count = len(self.tree.nodes)
        node = add_node(self.tree, "ShaderNodeMath", (COLUMN * (2 + count // 12), -120 * (count % 12)))
        setattr(node, "operation", operation)
        for socket, operand in zip(node.inputs, operands):
            if isinstance(operand, float):
                setattr(socket, "default_value", operand)
            else:
                self.tree.links.new(operand, socket)
        return node.outputs[0]


def weighted_sum(tree: bpy.types.ShaderNodeTree, colours: list[Socket], terms: list[Operand],
                 location: tuple[float, float] = (COLUMN * 10, 0)) -> Socket:
    """Σ colour_k · term_k as a chain of ``MULTIPLY_ADD`` (a scalar socket broadcasts to a vector)."""
    x, y = location
    total: Socket | None = None
    for k, (colour, term) in enumerate(zip(colours, terms)):
        node = vector_math(tree, "MULTIPLY_ADD", (x, y - 160 * k))
        tree.links.new(colour, node.inputs[0])
        if isinstance(term, float):
            set_vector(node.inputs[1], (term, term, term))
        else:
            tree.links.new(term, node.inputs[1])
        if total is None:
            set_vector(node.inputs[2], (0.0, 0.0, 0.0))
        else:
            tree.links.new(total, node.inputs[2])
        total = node.outputs[0]
    assert total is not None
    return total


def srgb_encoded(tree: bpy.types.ShaderNodeTree, colour: Socket, location: tuple[float, float]) -> Socket:
    """``core.capture.images.linear_to_srgb`` per channel: 12.92·v up to 0.0031308, 1.055·v^(1/2.4) − 0.055 above
    (the colour of a model in linear light, relight's colorprofile "RGB", as display values)."""
    x, y = location
    split = add_node(tree, "ShaderNodeSeparateColor", (x, y))
    tree.links.new(colour, split.inputs["Color"])
    join = add_node(tree, "ShaderNodeCombineColor", (x + COLUMN, y))
    m = Math(tree)
    for channel in ("Red", "Green", "Blue"):
        v = split.outputs[channel]
        high = m("SUBTRACT", m("MULTIPLY", m("POWER", m("MAXIMUM", v, 0.0031308), 1 / 2.4), 1.055), 0.055)
        is_low = m("LESS_THAN", v, 0.0031308)
        tree.links.new(m("MULTIPLY_ADD", is_low, m("SUBTRACT", m("MULTIPLY", v, 12.92), high), high),
                       join.inputs[channel])
    return join.outputs["Color"]
