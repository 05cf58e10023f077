"""Lighting an RTI plane with Blender's own lights: a Sun lamp as the light handle, and a PBR material (the model's
albedo and normals in a Principled BSDF) that the scene's lights shade, to compare with the model's relighting.

The Sun sits where the handle was and always faces the plane's origin (a Track To constraint), so its direction is
the light direction the relight materials use; the handle Empty follows the Sun (a Copy Location constraint) and stays
unrotated, which the materials' reading of its position needs. Moving the Sun relights the model and the PBR material
alike. Its strength is π: a Principled diffuse surface then reflects albedo · cos θ, the Lambertian shading
photometric stereo fitted.
"""

from __future__ import annotations

import math
from typing import Any, cast

import bpy

from .core.errors import RTIError
from .nodetree import COLUMN, CROP, add_crop, add_node, texel_texture, vector_math
from .views import ensure_views

RELIGHT = "rti_relight"
"""A PBR material's custom property: the name of the relight material it was made from."""
SUN_CONSTRAINT = "RTI sun"
"""The handle's Copy Location constraint that follows the Sun."""


def sun(plane: bpy.types.Object) -> bpy.types.Object | None:
    """The Sun lamp that moves the plane's light, if it has one."""
    handle = getattr(plane, "rti_handle", None)
    constraint = None if handle is None else handle.constraints.get(SUN_CONSTRAINT)
    return None if constraint is None else getattr(constraint, "target", None)


def mover(plane: bpy.types.Object) -> bpy.types.Object:
    """The object to move to relight the plane: its Sun, else its handle."""
    return sun(plane) or getattr(plane, "rti_handle")


def add_sun(plane: bpy.types.Object, scene: bpy.types.Scene) -> bpy.types.Object:
    """Give the plane a Sun lamp as its light handle (once)."""
    existing = sun(plane)
    if existing is not None:
        return existing
    handle = getattr(plane, "rti_handle", None)
    if handle is None:
        raise RTIError(f"'{plane.name}' is not an RTI plane (it has no light handle)")
    data = cast(bpy.types.SunLight, bpy.data.lights.new(f"{plane.name} sun", "SUN"))
    data.energy = math.pi
    data.angle = 0.0
    lamp = bpy.data.objects.new(f"{plane.name} sun", data)
    scene.collection.objects.link(lamp)
    lamp.location = handle.matrix_world.translation
    aim_at = lamp.constraints.new("TRACK_TO")
    setattr(aim_at, "target", plane)
    setattr(aim_at, "track_axis", "TRACK_NEGATIVE_Z")
    setattr(aim_at, "up_axis", "UP_Y")
    follow = handle.constraints.new("COPY_LOCATION")
    follow.name = SUN_CONSTRAINT
    setattr(follow, "target", lamp)
    return lamp


def add_pbr(plane: bpy.types.Object, material: bpy.types.Material) -> bpy.types.Material:
    """A Principled BSDF material from the albedo and normals of ``material`` (a relight material with views), added
    to the plane as one more slot (``pbr_material``)."""
    pbr = pbr_material(material)
    cast(bpy.types.Mesh, plane.data).materials.append(pbr)
    return pbr


def pbr_material(material: bpy.types.Material) -> bpy.types.Material:
    """A Principled BSDF material from the albedo and normals of ``material`` (a relight material, whose views are
    built first if they are not); no specular layer, so that it shades as the Lambertian surface the maps
    describe. Its normals are in the object's frame: on a relief mesh too they are the surface's normals."""
    ensure_views(material)
    properties: Any = material  # custom properties: the stubs type ``get`` as returning None
    albedo = bpy.data.images.get(str(properties.get("rti_albedo", "")))
    normals = bpy.data.images.get(str(properties.get("rti_normals", "")))
    if albedo is None or normals is None:
        raise RTIError(f"'{material.name}' has no albedo and normals (re-import the model)")
    pbr = bpy.data.materials.new(f"{material.name} PBR")
    pbr[RELIGHT] = material.name
    if bpy.app.version < (5, 0, 0):
        pbr.use_nodes = True
    tree = pbr.node_tree
    assert tree is not None
    tree.nodes.clear()
    crop = material.node_tree.nodes.get(CROP) if material.node_tree is not None else None
    if crop is not None:  # the model's maps are a few pixels larger than the plane's capture
        scale = getattr(crop.inputs["Scale"], "default_value")
        add_crop(tree, (scale[0], scale[1]), (-COLUMN, 300))
    textures = [texel_texture(tree, image, (0, -300 * k)) for k, image in enumerate((albedo, normals))]
    to_world = add_node(tree, "ShaderNodeVectorTransform", (COLUMN, -300))
    for key, value in (("vector_type", "NORMAL"), ("convert_from", "OBJECT"), ("convert_to", "WORLD")):
        setattr(to_world, key, value)
    tree.links.new(textures[1].outputs["Color"], to_world.inputs[0])
    unit = vector_math(tree, "NORMALIZE", (2 * COLUMN, -300))
    tree.links.new(to_world.outputs[0], unit.inputs[0])
    bsdf = add_node(tree, "ShaderNodeBsdfPrincipled", (3 * COLUMN, 0))
    tree.links.new(textures[0].outputs["Color"], bsdf.inputs["Base Color"])
    tree.links.new(unit.outputs[0], bsdf.inputs["Normal"])
    specular = "Specular IOR Level" if "Specular IOR Level" in bsdf.inputs else "Specular"
    setattr(bsdf.inputs[specular], "default_value", 0.0)
    output = add_node(tree, "ShaderNodeOutputMaterial", (4 * COLUMN, 0))
    tree.links.new(bsdf.outputs[0], output.inputs["Surface"])
    return pbr
