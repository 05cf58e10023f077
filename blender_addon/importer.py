"""Put an RTI model into a scene: a plane with the image's aspect ratio, the model's textures and node group in an
emission material, and a light handle whose position relights it (no drivers: dragging it relights at once).

The plane is 2 units tall and lies in its object's xy plane, image right along x and image up along y, so the
handle's direction in the plane's frame is the light direction of the RTI convention.
"""

from __future__ import annotations

from typing import TypeGuard, cast

import numpy as np

import bpy

from .classic_nodes import classic_group
from .core import lights, nodeplan
from .core.classic import ClassicRTI
from .core.neural import NeuralRTI
from .material import relight_material
from .neural_nodes import neural_group
from .synth import pixels

HANDLE_DISTANCE = 2.0
"""Distance of the light handle from the plane's centre (the plane is 2 tall)."""


def is_neural(model: ClassicRTI | NeuralRTI) -> TypeGuard[NeuralRTI]:
    """Told apart by ``method``, not by class: scripts may hand in models made by the repository's own ``core``."""
    return model.method == "neural"


def model_textures(model: ClassicRTI | NeuralRTI) -> list[np.ndarray]:
    """The float textures (H, W, 3) a model's node group reads, in its input order."""
    if is_neural(model):
        return [model.codes[..., 3 * k : 3 * k + 3] for k in range(3)]
    classic = cast(ClassicRTI, model)
    if classic.chroma is not None:
        luminance = classic.coeffs[..., 0]
        return [np.moveaxis(luminance[0:3], 0, -1), np.moveaxis(luminance[3:6], 0, -1), classic.chroma]
    return list(classic.coeffs)


def model_group(model: ClassicRTI | NeuralRTI, name: str) -> bpy.types.ShaderNodeTree:
    if is_neural(model):
        return neural_group(name, nodeplan.plan(model.layers))
    classic = cast(ClassicRTI, model)
    return classic_group(name, classic.method, classic.hsh_min_elevation)


def add_model(scene: bpy.types.Scene, model: ClassicRTI | NeuralRTI, name: str,
              handle: bpy.types.Object | None = None) -> tuple[bpy.types.Object, bpy.types.Object]:
    """Add ``model`` to ``scene`` on a new plane lit by ``handle`` (a new one when None); returns (plane, handle)."""
    if handle is None:
        handle = add_handle(scene, f"{name} light")
    material = relight_material(name, model_group(model, f"{name} decoder"),
                                [float_image(f"{name} {k + 1}", t) for k, t in enumerate(model_textures(model))],
                                handle)
    plane = bpy.data.objects.new(name, _plane_mesh(name, model.width / model.height, material))
    scene.collection.objects.link(plane)
    return plane, handle


def add_handle(scene: bpy.types.Scene, name: str, elevation: float = 45.0, azimuth: float = 0.0) -> bpy.types.Object:
    """An Empty to drag: its rotation and scale are locked because the material reads its position through its frame."""
    handle = bpy.data.objects.new(name, None)
    handle.empty_display_type = "SPHERE"
    handle.empty_display_size = 0.15
    handle.lock_rotation = (True, True, True)
    handle.lock_scale = (True, True, True)
    scene.collection.objects.link(handle)
    aim(handle, elevation, azimuth)
    return handle


def aim(handle: bpy.types.Object, elevation: float, azimuth: float) -> None:
    """Place the handle at ``HANDLE_DISTANCE`` in the direction of (elevation, azimuth) degrees, in the world frame
    (where an imported plane lies unless the user moved it)."""
    direction = lights.from_angles([elevation], [azimuth])[0]
    handle.location = tuple(HANDLE_DISTANCE * direction)


def float_image(name: str, rgb: np.ndarray) -> bpy.types.Image:
    """A full-float Non-Color image of (H, W, 3) values, packed into the .blend."""
    image = pixels.new_image(name, rgb, float_buffer=True)
    image.pack()
    return image


def _plane_mesh(name: str, aspect: float, material: bpy.types.Material) -> bpy.types.Mesh:
    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata([(-aspect, -1, 0), (aspect, -1, 0), (aspect, 1, 0), (-aspect, 1, 0)], [], [(0, 1, 2, 3)])
    uv = mesh.uv_layers.new()
    assert uv is not None
    for loop, corner in zip(uv.data, [(0, 0), (1, 0), (1, 1), (0, 1)]):
        loop.uv = corner
    mesh.materials.append(material)
    return mesh
