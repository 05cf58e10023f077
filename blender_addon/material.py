"""The relighting material: coefficient textures and a light handle's direction into a model's node group, whose
display-referred sRGB colour is decoded to linear light for the emission."""

from __future__ import annotations

from collections.abc import Sequence

import bpy
import numpy as np

from .synth import pixels
from .nodetree import COLUMN, Math, Socket, add_crop, add_node, ends, group, texel_texture, vector_math

SRGB_TO_LINEAR = "RTI sRGB to Linear"
DECODER, LIGHT, TO_LINEAR = "RTI decoder", "RTI light", "RTI to linear"
"""Names of the relight material's nodes that the analysis views (``views``) connect to."""


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
    unit.name = LIGHT
    tree.links.new(local.outputs[0], unit.inputs[0])
    return unit.outputs[0]


def relight_material(name: str, group: bpy.types.ShaderNodeTree, textures: Sequence[bpy.types.Image],
                     handle: bpy.types.Object, crop: tuple[float, float] | None = None) -> bpy.types.Material:
    """An emission material: the model's ``textures`` (nearest texel) and the handle's direction into ``group``, its
    colour decoded from sRGB to linear, so that Blender's Standard view transform, which encodes it back, displays the
    model's image; ``crop`` (``nodetree.add_crop``) shows the top-left part of textures larger than the plane's."""
    material = bpy.data.materials.new(name)
    if bpy.app.version < (5, 0, 0):
        material.use_nodes = True
    tree = material.node_tree
    assert tree is not None
    tree.nodes.clear()
    if crop is not None:
        add_crop(tree, crop, (-COLUMN, 300))
    decoder = add_node(tree, "ShaderNodeGroup", (3 * COLUMN, 0))
    decoder.name = DECODER
    setattr(decoder, "node_tree", group)
    for k, image in enumerate(textures):
        texture = texel_texture(tree, image, (0, -300 * k))
        tree.links.new(texture.outputs["Color"], decoder.inputs[k])
    tree.links.new(light_from_handle(tree, handle, (-4 * COLUMN, -900)), decoder.inputs["Light"])
    linear = add_node(tree, "ShaderNodeGroup", (4 * COLUMN, 0))
    linear.name = TO_LINEAR
    setattr(linear, "node_tree", srgb_to_linear_group())
    tree.links.new(decoder.outputs["Color"], linear.inputs["Color"])
    emission = add_node(tree, "ShaderNodeEmission", (5 * COLUMN, 0))
    tree.links.new(linear.outputs["Color"], emission.inputs["Color"])
    output = add_node(tree, "ShaderNodeOutputMaterial", (6 * COLUMN, 0))
    tree.links.new(emission.outputs[0], output.inputs["Surface"])
    return material


def packed_image(name: str, rgb: np.ndarray, float_buffer: bool) -> bpy.types.Image:
    """A Non-Color image of (H, W, 3) values, packed into the .blend."""
    image = pixels.new_image(name, rgb, float_buffer=float_buffer)
    image.pack()
    return image


def srgb_to_linear_group() -> bpy.types.ShaderNodeTree:
    """The sRGB decoding curve per channel, for all values (``synth.materials.srgb_to_linear``: v/12.92 up to
    0.04045, ((v + 0.055)/1.055)^2.4 above), as one group shared by the file's RTI materials. Models give the
    display-referred values of the photos they learnt from; an emission is linear scene light."""
    existing = bpy.data.node_groups.get(SRGB_TO_LINEAR)
    if isinstance(existing, bpy.types.ShaderNodeTree) and existing.get("rti_srgb_to_linear"):
        return existing
    tree = group(SRGB_TO_LINEAR, [("Color", "NodeSocketColor")], [("Color", "NodeSocketColor")])
    tree["rti_srgb_to_linear"] = True
    start, end = ends(tree)
    split = add_node(tree, "ShaderNodeSeparateColor", (COLUMN, 0))
    tree.links.new(start.outputs["Color"], split.inputs["Color"])
    join = add_node(tree, "ShaderNodeCombineColor", (COLUMN * 8, 0))
    m = Math(tree)
    for channel in ("Red", "Green", "Blue"):
        v = split.outputs[channel]
        low = m("MULTIPLY", v, 1 / 12.92)
        high = m("POWER", m("MULTIPLY_ADD", v, 1 / 1.055, 0.055 / 1.055), 2.4)
        is_low = m("LESS_THAN", v, 0.04045)
        tree.links.new(m("MULTIPLY_ADD", is_low, m("SUBTRACT", low, high), high), join.inputs[channel])
    tree.links.new(join.outputs["Color"], end.inputs["Color"])
    end.location = (COLUMN * 9, 0)
    return tree
