"""``rti.add_relief``: the active RTI plane's shown model as a 3D surface that Blender's own lights, shadows and cameras
work on.

The model's normals (its analysis views' normal map) are integrated into heights (``core.surface.relief``, numpy
only; robust up to ``ROBUST_PIXELS``), stored as a float image, and drive a Displace modifier on a grid mesh the size of the plane: one vertex per
pixel up to ``MAX_VERTICES``, one every few pixels beyond. The mesh wears the model's PBR material (albedo and
normals), so detail finer than the grid still shades. The modifier's Strength is the relief's slider: 1 is the true
depth (a pixel's height equals its width), larger values exaggerate it. The plane is hidden, not removed.
"""

from __future__ import annotations

import math
from typing import Any, cast

import bpy
import numpy as np

from . import importer, lighting
from .core.errors import RTIError
from .core.surface import relief
from .material import packed_image
from .operators import PlaneOperator, Status, rti_plane
from .synth.scene import grid_mesh
from .views import ensure_views

MAX_VERTICES = 1_000_000
ROBUST_PIXELS = 2_000_000
"""Models up to this size are integrated by the robust method (the command line's default), larger ones by plain
least squares: Blender's Python has no SciPy, and its FFT makes a robust solve of 2 MP take about half a minute."""
"""Grids larger than this take one vertex every few pixels (Blender's viewport stays responsive)."""
RELIEF = "rti_relief"
"""A relief object's custom property: the name of the plane it was made from."""
MODIFIER = "RTI relief"
"""The relief's Displace modifier, whose Strength the sidebar shows."""


def add_relief(plane: bpy.types.Object, scene: bpy.types.Scene) -> bpy.types.Object:
    """A new relief object from the plane's shown model, beside the hidden plane; RTIError (and nothing changed, with
    ``importer.rolled_back_on_error``) when the model has no normals."""
    shown: Any = cast(bpy.types.Mesh, plane.data).materials[importer.shown(plane)]
    if shown is None:
        raise RTIError(f"'{plane.name}' shows no model")
    material: bpy.types.Material = bpy.data.materials.get(str(shown.get(lighting.RELIGHT, shown.name))) or shown
    ensure_views(material)  # the normal map is one of the views' maps
    properties: Any = material
    normal_image = bpy.data.images.get(str(properties.get("rti_normals", "")))
    if normal_image is None:
        raise RTIError(f"'{material.name}' has no normals (re-import the model)")
    pbr = lighting.pbr_material(material)
    normals = _pixels(normal_image)
    width, height = (int(v) for v in plane.get(importer.PIXELS, normals.shape[1::-1]))
    normals = normals[:height, :width]  # a model a few pixels larger than the plane's capture shows its top left
    method = "robust" if normals.shape[0] * normals.shape[1] <= ROBUST_PIXELS else "poisson"
    found = relief.integrate(normals, method=method)
    heights, usable = found.heights, found.usable
    plane_units = 2.0 / height  # the plane is 2 tall
    values = np.where(usable, heights - heights[usable].min(), 0.0) * plane_units
    image = packed_image(f"{plane.name} heights", np.repeat(values[..., None], 3, axis=2).astype(np.float32), True)
    mesh = _grid(f"{plane.name} relief", width, height, importer.plane_aspect(plane))
    mesh.materials.append(pbr)
    obj = bpy.data.objects.new(f"{plane.name} relief", mesh)
    obj.matrix_world = plane.matrix_world.copy()
    obj[RELIEF] = plane.name
    texture = bpy.data.textures.new(f"{plane.name} heights", "IMAGE")
    setattr(texture, "image", image)
    setattr(texture, "extension", "EXTEND")
    displace: Any = obj.modifiers.new(MODIFIER, "DISPLACE")
    displace.texture, displace.texture_coords, displace.direction = texture, "UV", "Z"
    displace.mid_level, displace.strength = 0.0, 1.0
    for collection in plane.users_collection:
        collection.objects.link(obj)
    if not obj.users_collection:
        cast(bpy.types.Collection, scene.collection).objects.link(obj)
    plane.hide_set(True)
    plane.hide_render = True
    return obj


def _pixels(image: bpy.types.Image) -> np.ndarray:
    """An image's RGB values (H, W, 3), row 0 at the top."""
    w, h = image.size
    flat = np.empty(w * h * image.channels, dtype=np.float32)
    pixels: Any = image.pixels
    pixels.foreach_get(flat)
    return flat.reshape(h, w, image.channels)[::-1, :, :3]


def _grid(name: str, width: int, height: int, aspect: float) -> bpy.types.Mesh:
    """A grid over the plane ([-aspect, aspect] × [-1, 1]) with vertices at pixel centres every ``step`` pixels (the
    last row and column included) and UVs at the same pixel centres."""
    step = max(1, math.ceil(math.sqrt(width * height / MAX_VERTICES)))
    cols = np.unique(np.append(np.arange(0, width, step), width - 1))
    rows = np.unique(np.append(np.arange(0, height, step), height - 1))
    u, v = (cols + 0.5) / width, 1.0 - (rows + 0.5) / height
    uu, vv = np.meshgrid(u, v)
    mesh = grid_mesh(name, np.stack([(uu * 2 - 1) * aspect, vv * 2 - 1, np.zeros_like(uu)], axis=-1))
    uv = mesh.uv_layers.new()
    assert uv is not None
    corners = np.empty(len(mesh.loops), dtype=np.int32)
    mesh.loops.foreach_get("vertex_index", corners)
    uv.data.foreach_set("uv", np.stack([uu.ravel(), vv.ravel()], axis=1)[corners].astype(np.float32).ravel())
    return mesh


class RTI_OT_add_relief(PlaneOperator):
    """Turn the active RTI plane's shown model into a 3D relief (its normals integrated into heights) that the scene's
    lights, shadows and cameras work on; the plane is hidden"""

    bl_idname = "rti.add_relief"
    bl_label = "Add Relief"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context: bpy.types.Context) -> Status:
        plane, scene = rti_plane(context), context.scene
        assert plane is not None and scene is not None
        try:
            with importer.rolled_back_on_error():
                obj = add_relief(plane, scene)
        except RTIError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        for selected in context.selected_objects:
            selected.select_set(False)
        obj.select_set(True)
        cast(bpy.types.ViewLayer, context.view_layer).objects.active = obj
        self.report({"INFO"}, f"added '{obj.name}': light it with the scene's lamps; its Displace modifier's "
                              "Strength exaggerates the relief")
        return {"FINISHED"}


classes = (RTI_OT_add_relief,)
