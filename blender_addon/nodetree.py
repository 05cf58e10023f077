"""Small helpers for building shader node trees from code (the stubs lack most socket and node attributes)."""

from __future__ import annotations

from collections.abc import Sequence

import bpy
import numpy as np

Socket = bpy.types.NodeSocket
Operand = Socket | float
COLUMN = 220
"""Horizontal spacing of node columns, for a readable tree."""


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
    """An Image Texture node reading ``image`` texel by texel (nearest texel, edges extended)."""
    node = add_node(tree, "ShaderNodeTexImage", location)
    setattr(node, "image", image)
    setattr(node, "interpolation", "Closest")
    setattr(node, "extension", "EXTEND")
    return node


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
