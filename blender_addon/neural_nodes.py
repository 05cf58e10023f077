"""The neural decoder as shader node groups.

One group per layer output triple (a chain of Mapping nodes, two per input triple, plus ELU), wired inside one decoder
group: many small groups build in well under a second where one flat tree of the same nodes takes minutes (node and
link costs grow with the tree), and Blender inlines groups when it compiles the shader, so rendering is unchanged.
The arithmetic comes prepared from ``core.neural.nodeplan``.
"""

from __future__ import annotations

from collections.abc import Sequence

import bpy
import numpy as np

from .core.neural import nodeplan
from .nodetree import COLUMN, Socket, add_node, ends, group, set_vector, vector_math

CHAINED = bpy.app.version < (5, 0, 0)
"""Whether each block waits for the running sum (see :func:`_wait_for`): Cycles' SVM compiler before Blender 5.0
otherwise compiles every block's first Mapping node ahead and runs out of stack on decoders wider than 27 units."""

WAIT_WEIGHT = 1e-30
"""The running sum's weight in a chained block's first Mapping: a real link, nothing next to float32 values."""


def neural_group(name: str, dense: list[nodeplan.Dense]) -> bpy.types.ShaderNodeTree:
    """The decoder as a group: inputs ``Plane 1..3`` (the code textures' colours) and ``Light`` (a unit vector in the
    image frame), output ``Color``. Values travel between the layer groups as 3-vectors (a plane's colour, the light,
    a triple of units), so the decoder's own tree stays small: links into a big tree are what cost build time."""
    tree = group(name, [("Plane 1", "NodeSocketColor"), ("Plane 2", "NodeSocketColor"),
                         ("Plane 3", "NodeSocketColor"), ("Light", "NodeSocketVector")], [("Color", "NodeSocketColor")])
    start, end = ends(tree)
    vectors = list(start.outputs)[:4]
    for index, layer in enumerate(dense):
        triples = []
        for t, (weights, bias) in enumerate(layer.triples):
            node = add_node(tree, "ShaderNodeGroup", ((index + 1) * COLUMN, -160 * t))
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
    """Three output units of a layer, ``Σ x_i · weights[i] + bias``, then ELU + 1. The inputs x arrive as 3-vectors
    (x0-x2, x3-x5, …; a missing last component weighs nothing); each one's 3×3 block of weights is two Mapping nodes
    whose location input carries the running sum (and, where ``CHAINED``, a vanishing share of it enters the first).

    Every socket stays a vector: a float linked into a vector socket makes Cycles add a conversion node numbered
    after all of its group's nodes, and Cycles' SVM compiler, which compiles ready nodes in number order, would then
    hold every input of every group at once and run out of stack on the 50-unit teacher."""
    count = -(-len(weights) // 3)
    rows = np.zeros((3 * count, 3))
    rows[: len(weights)] = weights
    tree = group(name, [(f"x{3 * k}-{3 * k + 2}", "NodeSocketVector") for k in range(count)],
                  [("Value", "NodeSocketVector")])
    start, end = ends(tree)
    total: Socket | None = None
    for k in range(count):
        block = rows[3 * k : 3 * k + 3]
        if not block.any():
            continue
        pair = nodeplan.mapping(block.T)
        first = _mapping(tree, pair.first, (1.0, 1.0, 1.0), (COLUMN * (2 * k + 1), 0))
        tree.links.new(start.outputs[k], first.inputs["Vector"])
        if CHAINED and total is not None:
            _wait_for(tree, total, first)
        second = _mapping(tree, pair.second, pair.scale, (COLUMN * (2 * k + 2), 0))
        tree.links.new(first.outputs[0], second.inputs["Vector"])
        if total is None:
            set_vector(second.inputs["Location"], bias)
        else:
            tree.links.new(total, second.inputs["Location"])
        total = second.outputs[0]
    if total is None:  # every weight zero: the units are their biases
        constant = vector_math(tree, "ADD", (COLUMN, 0))
        set_vector(constant.inputs[0], bias)
        total = constant.outputs[0]
    if elu:
        total = _elu_plus_one(tree, total)
    tree.links.new(total, end.inputs[0])
    end.location = (COLUMN * len(tree.nodes), 0)
    return tree


def _mapping(tree: bpy.types.ShaderNodeTree, rotation: np.ndarray, scale: Sequence[float] | np.ndarray,
             location: tuple[float, float]) -> bpy.types.Node:
    """A Point Mapping node: rotate(scale · vector) + its Location input."""
    node = add_node(tree, "ShaderNodeMapping", location)
    setattr(node, "vector_type", "POINT")
    set_vector(node.inputs["Rotation"], rotation)
    set_vector(node.inputs["Scale"], scale)
    return node


def _wait_for(tree: bpy.types.ShaderNodeTree, total: Socket, first: bpy.types.Node) -> None:
    """Link ``total · WAIT_WEIGHT`` into ``first``'s Location, so that the block's Mapping pair is compiled only after
    the blocks before it: Cycles then holds one partial sum per group instead of every block's rotated input."""
    weight = vector_math(tree, "SCALE", (first.location.x, first.location.y + 200))
    setattr(weight.inputs["Scale"], "default_value", WAIT_WEIGHT)
    tree.links.new(total, weight.inputs[0])
    tree.links.new(weight.outputs[0], first.inputs["Location"])


def _elu_plus_one(tree: bpy.types.ShaderNodeTree, value: Socket) -> Socket:
    """max(x, 0) + exp(min(x, 0)) per component: ELU + 1 (``nodeplan`` folds the +1 into the next layer)."""
    x = COLUMN * len(tree.nodes)
    low, high = vector_math(tree, "MINIMUM", (x, -150)), vector_math(tree, "MAXIMUM", (x, 150))
    for node in (low, high):
        tree.links.new(value, node.inputs[0])
        set_vector(node.inputs[1], (0.0, 0.0, 0.0))
    split = add_node(tree, "ShaderNodeSeparateXYZ", (x + COLUMN, -150))
    tree.links.new(low.outputs[0], split.inputs[0])
    join = add_node(tree, "ShaderNodeCombineXYZ", (x + 3 * COLUMN, -150))
    for k in range(3):
        exp = add_node(tree, "ShaderNodeMath", (x + 2 * COLUMN, -150 - 160 * k))
        setattr(exp, "operation", "EXPONENT")
        tree.links.new(split.outputs[k], exp.inputs[0])
        tree.links.new(exp.outputs[0], join.inputs[k])
    total = vector_math(tree, "ADD", (x + 4 * COLUMN, 0))
    tree.links.new(high.outputs[0], total.inputs[0])
    tree.links.new(join.outputs[0], total.inputs[1])
    return total.outputs[0]
