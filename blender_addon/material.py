"""The relighting material: coefficient textures and a light handle's direction into a model's node group."""

from __future__ import annotations

from collections.abc import Sequence

import bpy

from .nodetree import COLUMN, Socket, add_node, vector_math


def light_from_handle(tree: bpy.types.ShaderNodeTree, handle: bpy.types.Object,
                      location: tuple[float, float]) -> Socket:
    """The unit direction from the shaded object's origin to ``handle``, in the shaded object's frame (x right, y up,
    z toward the viewer on an unrotated plane): the handle's world position is the shading point's position minus
    its coordinates in the handle's frame (exact while the handle is neither rotated nor scaled, which the importer
    locks), then moved into the object's frame. No drivers: dragging the handle relights at once."""
    x, y = location
    coordinates = add_node(tree, "ShaderNodeTexCoord", (x, y))
    setattr(coordinates, "object", handle)
    geometry = add_node(tree, "ShaderNodeNewGeometry", (x, y - 250))
    world = vector_math(tree, "SUBTRACT", (x + COLUMN, y))
    tree.links.new(geometry.outputs["Position"], world.inputs[0])
    tree.links.new(coordinates.outputs["Object"], world.inputs[1])
    local = add_node(tree, "ShaderNodeVectorTransform", (x + 2 * COLUMN, y))
    for key, value in (("vector_type", "POINT"), ("convert_from", "WORLD"), ("convert_to", "OBJECT")):
        setattr(local, key, value)
    tree.links.new(world.outputs[0], local.inputs[0])
    unit = vector_math(tree, "NORMALIZE", (x + 3 * COLUMN, y))
    tree.links.new(local.outputs[0], unit.inputs[0])
    return unit.outputs[0]


def relight_material(name: str, group: bpy.types.ShaderNodeTree, textures: Sequence[bpy.types.Image],
                     handle: bpy.types.Object) -> bpy.types.Material:
    """An emission material: the model's ``textures`` (nearest texel) and the handle's direction into ``group``."""
    material = bpy.data.materials.new(name)
    if bpy.app.version < (5, 0, 0):
        material.use_nodes = True
    tree = material.node_tree
    assert tree is not None
    tree.nodes.clear()
    decoder = add_node(tree, "ShaderNodeGroup", (3 * COLUMN, 0))
    setattr(decoder, "node_tree", group)
    for k, image in enumerate(textures):
        texture = add_node(tree, "ShaderNodeTexImage", (0, -300 * k))
        setattr(texture, "image", image)
        setattr(texture, "interpolation", "Closest")
        setattr(texture, "extension", "EXTEND")
        tree.links.new(texture.outputs["Color"], decoder.inputs[k])
    tree.links.new(light_from_handle(tree, handle, (-4 * COLUMN, -900)), decoder.inputs["Light"])
    emission = add_node(tree, "ShaderNodeEmission", (4 * COLUMN, 0))
    tree.links.new(decoder.outputs["Color"], emission.inputs["Color"])
    output = add_node(tree, "ShaderNodeOutputMaterial", (5 * COLUMN, 0))
    tree.links.new(emission.outputs[0], output.inputs["Surface"])
    return material
