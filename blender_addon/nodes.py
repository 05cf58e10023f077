"""Shader node groups that relight RTI models, and the material that wires them to textures and a light handle.

Pure function of the model: no operators, no UI. A neural decoder becomes one group per layer output triple (each a
chain of Vector Math ``MULTIPLY_ADD`` nodes, plus ELU), wired inside one decoder group: many small groups build in
well under a second where one flat tree of the same nodes takes minutes (node and link costs grow with the tree), and
Blender inlines groups when it compiles the shader, so rendering is unchanged. The arithmetic comes prepared from
``core.nodeplan``.
"""

from __future__ import annotations

from collections.abc import Sequence

import bpy
import numpy as np

from .core import nodeplan

Socket = bpy.types.NodeSocket
COLUMN = 220
"""Horizontal spacing of node columns, for a readable tree."""


def neural_group(name: str, dense: list[nodeplan.Dense]) -> bpy.types.ShaderNodeTree:
    """The decoder as a group: inputs ``Plane 1..3`` (the code textures' colours) and ``Light`` (a unit vector in the
    image frame), output ``Color``. Values travel between the layer groups as 3-vectors (a plane's colour, the light,
    a triple of units), so the decoder's own tree stays small: links into a big tree are what cost build time."""
    tree = _group(name, [("Plane 1", "NodeSocketColor"), ("Plane 2", "NodeSocketColor"),
                         ("Plane 3", "NodeSocketColor"), ("Light", "NodeSocketVector")], [("Color", "NodeSocketColor")])
    start, end = _ends(tree)
    vectors = list(start.outputs)[:4]
    for index, layer in enumerate(dense):
        triples = []
        for t, (weights, bias) in enumerate(layer.triples):
            node = _node(tree, "ShaderNodeGroup", ((index + 1) * COLUMN, -160 * t))
            label = f"{name} · layer {index + 1} · {3 * t}-{3 * t + 2}"
            setattr(node, "node_tree", _triple(label, weights, bias, layer.elu))
            for k, socket in enumerate(vectors):
                tree.links.new(socket, node.inputs[k])
            triples.append(node.outputs[0])
        vectors = triples
    tree.links.new(vectors[0], end.inputs["Color"])
    end.location = ((len(dense) + 1) * COLUMN, 0)
    return tree


def _triple(name: str, weights: np.ndarray, bias: np.ndarray, elu: bool) -> bpy.types.ShaderNodeTree:
    """Three output units of a layer: ``Σ x_i · weights[i] + bias`` as a multiply-add chain, then ELU + 1. The inputs
    x arrive as 3-vectors (x0-x2, x3-x5, …; a missing last component weighs nothing)."""
    count = -(-len(weights) // 3)
    rows = np.zeros((3 * count, 3))
    rows[: len(weights)] = weights
    tree = _group(name, [(f"x{3 * k}-{3 * k + 2}", "NodeSocketVector") for k in range(count)],
                  [("Value", "NodeSocketVector")])
    start, end = _ends(tree)
    total: Socket | None = None
    for k in range(count):
        if not rows[3 * k : 3 * k + 3].any():
            continue
        split = _node(tree, "ShaderNodeSeparateXYZ", (COLUMN, -160 * k))
        tree.links.new(start.outputs[k], split.inputs[0])
        for c in range(3):
            if not rows[3 * k + c].any():
                continue
            node = _math(tree, "MULTIPLY_ADD", (COLUMN * (len(tree.nodes) - count), 0))
            tree.links.new(split.outputs[c], node.inputs[0])
            _value(node.inputs[1], rows[3 * k + c])
            if total is None:
                _value(node.inputs[2], bias)
            else:
                tree.links.new(total, node.inputs[2])
            total = node.outputs[0]
    if total is None:  # every weight zero: the units are their biases
        constant = _math(tree, "ADD", (COLUMN, 0))
        _value(constant.inputs[0], bias)
        total = constant.outputs[0]
    if elu:
        total = _elu_plus_one(tree, total)
    tree.links.new(total, end.inputs[0])
    end.location = (COLUMN * len(tree.nodes), 0)
    return tree


def _elu_plus_one(tree: bpy.types.ShaderNodeTree, value: Socket) -> Socket:
    """max(x, 0) + exp(min(x, 0)) per component: ELU + 1 (``nodeplan`` folds the +1 into the next layer)."""
    x = COLUMN * len(tree.nodes)
    low, high = _math(tree, "MINIMUM", (x, -150)), _math(tree, "MAXIMUM", (x, 150))
    for node in (low, high):
        tree.links.new(value, node.inputs[0])
        _value(node.inputs[1], (0.0, 0.0, 0.0))
    split = _node(tree, "ShaderNodeSeparateXYZ", (x + COLUMN, -150))
    tree.links.new(low.outputs[0], split.inputs[0])
    join = _node(tree, "ShaderNodeCombineXYZ", (x + 3 * COLUMN, -150))
    for k in range(3):
        exp = _node(tree, "ShaderNodeMath", (x + 2 * COLUMN, -150 - 160 * k))
        setattr(exp, "operation", "EXPONENT")
        tree.links.new(split.outputs[k], exp.inputs[0])
        tree.links.new(exp.outputs[0], join.inputs[k])
    total = _math(tree, "ADD", (x + 4 * COLUMN, 0))
    tree.links.new(high.outputs[0], total.inputs[0])
    tree.links.new(join.outputs[0], total.inputs[1])
    return total.outputs[0]


def light_from_handle(tree: bpy.types.ShaderNodeTree, handle: bpy.types.Object, location: tuple[float, float]) -> Socket:
    """The unit direction from the shaded object's origin to ``handle``, in the shaded object's frame (x right, y up,
    z toward the viewer on an unrotated plane): the handle's world position is the shading point's position minus
    its coordinates in the handle's frame (exact while the handle is neither rotated nor scaled, which the importer
    locks), then moved into the object's frame. No drivers: dragging the handle relights at once."""
    x, y = location
    coordinates = _node(tree, "ShaderNodeTexCoord", (x, y))
    setattr(coordinates, "object", handle)
    geometry = _node(tree, "ShaderNodeNewGeometry", (x, y - 250))
    world = _math(tree, "SUBTRACT", (x + COLUMN, y))
    tree.links.new(geometry.outputs["Position"], world.inputs[0])
    tree.links.new(coordinates.outputs["Object"], world.inputs[1])
    local = _node(tree, "ShaderNodeVectorTransform", (x + 2 * COLUMN, y))
    for key, value in (("vector_type", "POINT"), ("convert_from", "WORLD"), ("convert_to", "OBJECT")):
        setattr(local, key, value)
    tree.links.new(world.outputs[0], local.inputs[0])
    unit = _math(tree, "NORMALIZE", (x + 3 * COLUMN, y))
    tree.links.new(local.outputs[0], unit.inputs[0])
    return unit.outputs[0]


def relight_material(name: str, group: bpy.types.ShaderNodeTree, planes: Sequence[bpy.types.Image],
                     handle: bpy.types.Object) -> bpy.types.Material:
    """An emission material: the code textures (nearest texel, Non-Color) and the handle's direction into ``group``."""
    material = bpy.data.materials.new(name)
    if bpy.app.version < (5, 0, 0):
        material.use_nodes = True
    tree = material.node_tree
    assert tree is not None
    tree.nodes.clear()
    decoder = _node(tree, "ShaderNodeGroup", (3 * COLUMN, 0))
    setattr(decoder, "node_tree", group)
    for k, image in enumerate(planes):
        texture = _node(tree, "ShaderNodeTexImage", (0, -300 * k))
        setattr(texture, "image", image)
        setattr(texture, "interpolation", "Closest")
        setattr(texture, "extension", "EXTEND")
        tree.links.new(texture.outputs["Color"], decoder.inputs[k])
    tree.links.new(light_from_handle(tree, handle, (-4 * COLUMN, -900)), decoder.inputs["Light"])
    emission = _node(tree, "ShaderNodeEmission", (4 * COLUMN, 0))
    tree.links.new(decoder.outputs["Color"], emission.inputs["Color"])
    output = _node(tree, "ShaderNodeOutputMaterial", (5 * COLUMN, 0))
    tree.links.new(emission.outputs[0], output.inputs["Surface"])
    return material


def _group(name: str, inputs: list[tuple[str, str]], outputs: list[tuple[str, str]]) -> bpy.types.ShaderNodeTree:
    tree = bpy.data.node_groups.new(name, "ShaderNodeTree")  # type: ignore[arg-type]  # the stubs' enum is empty
    assert isinstance(tree, bpy.types.ShaderNodeTree)
    interface = tree.interface
    assert interface is not None
    for socket_name, kind in inputs:
        interface.new_socket(socket_name, in_out="INPUT", socket_type=kind)
    for socket_name, kind in outputs:
        interface.new_socket(socket_name, in_out="OUTPUT", socket_type=kind)
    return tree


def _ends(tree: bpy.types.ShaderNodeTree) -> tuple[bpy.types.Node, bpy.types.Node]:
    start = _node(tree, "NodeGroupInput", (0, 0))
    return start, _node(tree, "NodeGroupOutput", (COLUMN, 0))


def _node(tree: bpy.types.NodeTree, kind: str, location: tuple[float, float]) -> bpy.types.Node:
    node = tree.nodes.new(kind)
    node.location = location
    return node


def _math(tree: bpy.types.NodeTree, operation: str, location: tuple[float, float]) -> bpy.types.Node:
    node = _node(tree, "ShaderNodeVectorMath", location)
    setattr(node, "operation", operation)
    return node


def _value(socket: Socket, value: Sequence[float] | np.ndarray) -> None:
    """Set an unlinked vector input's value (the stubs type sockets without ``default_value``)."""
    setattr(socket, "default_value", tuple(float(v) for v in value))
