"""Put RTI models into a scene: a plane with the image's aspect ratio, each model's textures and node group in an
emission material, and a light handle whose position relights it (no drivers: dragging it relights at once). The
scene is set to show the model's image as it is: Blender's Standard view transform, and a camera rendering the plane
pixel for pixel when it has none.

The plane is 2 units tall and lies in its object's xy plane, image right along x and image up along y, so the
handle's direction in the plane's frame is the light direction of the RTI convention. A plane can hold several models
of the same capture (student, teacher, PTM, HSH…), one material slot each, lit by one handle; :func:`show` picks the
one displayed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeGuard, cast

import bpy
import numpy as np
from mathutils import Matrix, Vector

from .classic_nodes import classic_group
from .core.capture import lights
from .core.classic.fitting import ClassicRTI
from .core.classic.interpolated import InterpolatedRTI
from .core.errors import RTIError
from .core.formats import models
from .core.formats.models import same_capture
from .core.neural import nodeplan
from .core.neural.model import NeuralRTI
from .lighting import mover
from .material import packed_image, relight_material
from .interpolated_nodes import interpolated_group
from .neural_nodes import neural_group
from .views import add_views, sync

HANDLE_DISTANCE = 2.0
"""Distance of the light handle from the plane's centre (the plane is 2 tall)."""

ASPECT_TOLERANCE = 0.01
"""Models shown on one plane must have the same aspect ratio within this fraction (or be a few pixels off the
plane's capture: ``cropped``)."""
PIXELS = "rti_pixels"
"""The plane's custom property: (width, height) of the capture it shows, its first model's."""

Model = ClassicRTI | NeuralRTI | InterpolatedRTI


def is_neural(model: Model) -> TypeGuard[NeuralRTI]:
    """Told apart by ``method``, not by class: scripts may hand in models made by the repository's own ``core``."""
    return model.method == "neural"


def add_model(scene: bpy.types.Scene, model: Model, name: str, source: Path | None = None
              ) -> tuple[bpy.types.Object, bpy.types.Object]:
    """Add ``model`` to ``scene`` on a new plane with a new light handle and, when the scene has no camera, one that
    renders the plane pixel for pixel; returns (plane, handle). On an error nothing is left behind. ``source``, the
    model's file or folder, lets the analysis views be built when first shown rather than now."""
    with rolled_back_on_error():
        handle = add_handle(scene, f"{name} light")
        plane = bpy.data.objects.new(name, _plane_mesh(name, model.width / model.height))
        scene.collection.objects.link(plane)
        setattr(plane, "rti_handle", handle)
        plane[PIXELS] = (model.width, model.height)
        add_to_plane(plane, model, name, source)
        if scene.camera is None:
            frame_camera(scene, plane, (model.width, model.height))
    return plane, handle


def add_training(scene: bpy.types.Scene, out: Path) -> tuple[bpy.types.Object, str]:
    """The models of a training's output folder (``train.json`` beside them) on one plane and light, showing the one
    its training recommends (``core.quality.recommend``: best at the held-out lights; the others a click away);
    returns the plane and a sentence saying which model is shown and why. On an error nothing is left behind."""
    try:
        summary = json.loads((out / "train.json").read_text())
        recommended = summary.get("recommended") or {}
        best, why = str(recommended.get("model", "student")), str(recommended.get("why", ""))
    except (OSError, ValueError, AttributeError) as exc:
        raise RTIError(f"{out / 'train.json'}: not a training's summary ({exc})") from None
    roles = [role for role in ("student", "teacher", "hsh3") if (out / role / "info.json").is_file()]
    if not roles:
        raise RTIError(f"{out}: no student, teacher or hsh3 model folder beside train.json")
    with rolled_back_on_error():
        plane, _ = add_model(scene, models.load(out / roles[0]), f"{out.name} {roles[0]}", out / roles[0])
        for role in roles[1:]:
            add_to_plane(plane, models.load(out / role), f"{out.name} {role}", out / role)
        shown = best if best in roles else roles[0]
        show(plane, roles.index(shown))
    reason = f" ({why})" if why and shown == best else ""
    others = ", ".join(role for role in roles if role != shown)
    return plane, f"showing the {shown}{reason}" + (f"; {others} a click away" if others else "")


def use_standard_view(scene: bpy.types.Scene) -> str | None:
    """Colour management that displays the models' images as they are: the Standard view transform (the plain sRGB
    encoding that undoes the materials' decoding), no look, exposure 0, gamma 1. AgX, Blender's default, and Filmic
    tone-map and shift colours. Returns the view transform it replaced, or None when nothing changed."""
    view = scene.view_settings
    wanted = {"view_transform": "Standard", "look": "None", "exposure": 0.0, "gamma": 1.0}
    before = getattr(view, "view_transform")
    changed = any(getattr(view, key) != value for key, value in wanted.items())
    for key, value in wanted.items():
        setattr(view, key, value)
    return before if changed else None


def frame_camera(scene: bpy.types.Scene, plane: bpy.types.Object,
                 pixels: tuple[int, int] | None = None) -> bpy.types.Object:
    """An orthographic camera looking straight down at the plane and framing it, as the scene's camera. With
    ``pixels``, the model's (width, height), a render is the model's image pixel for pixel: that resolution and the
    narrowest pixel filters; otherwise the render keeps its width and takes the plane's aspect ratio."""
    data = bpy.data.cameras.new("RTI camera")
    data.type = "ORTHO"
    data.ortho_scale = 2.0 * max(plane_aspect(plane), 1.0) * max(plane.scale[0], plane.scale[1])
    camera = bpy.data.objects.new("RTI camera", data)
    camera.matrix_world = plane.matrix_world.normalized() @ Matrix.Translation((0.0, 0.0, 5.0))
    scene.collection.objects.link(camera)
    scene.camera = camera
    render = scene.render
    if pixels is None:
        render.resolution_y = round(render.resolution_x / plane_aspect(plane))
        return camera
    render.resolution_x, render.resolution_y = pixels
    render.resolution_percentage = 100
    render.filter_size = 0.0
    cycles = getattr(scene, "cycles", None)
    if cycles is not None:
        cycles.filter_width = 0.01
    return camera


def add_to_plane(plane: bpy.types.Object, model: Model, name: str, source: Path | None = None
                 ) -> bpy.types.Material:
    """Add ``model`` to an RTI plane as one more material slot lit by the plane's handle, and show it. Its analysis
    views are built now, or when first shown if ``source`` (its file or folder) can load it again then."""
    handle = getattr(plane, "rti_handle", None)
    if handle is None:
        raise RTIError(f"'{plane.name}' is not an RTI plane (it has no light handle)")
    crop = cropped(plane, model)
    aspect = plane_aspect(plane)
    if crop is None and abs(model.width / model.height / aspect - 1.0) > ASPECT_TOLERANCE:
        raise RTIError(f"{name} is {model.width}×{model.height}, which does not fit the aspect ratio of "
                       f"'{plane.name}' ({aspect:.3f}): import it on a plane of its own")
    with rolled_back_on_error():
        material = relight_material(name, model_group(model, f"{name} decoder"), model_images(model, name), handle,
                                    crop)
        if source is None:
            add_views(material, model, name)
        else:
            material["rti_source"] = str(source)
        mesh = cast(bpy.types.Mesh, plane.data)
        mesh.materials.append(material)
        sync(plane)
        show(plane, len(mesh.materials) - 1)
    return material


def cropped(plane: bpy.types.Object, model: Model) -> tuple[float, float] | None:
    """For a model a few pixels (under ``SIZE_SLACK``) larger or smaller than the plane's capture, the scale from the
    plane's UVs to the model's (its top-left part shown, as ``core`` scores it); None otherwise."""
    properties: Any = plane  # custom properties: the stubs type ``get`` as returning None
    pixels = properties.get(PIXELS)
    if pixels is None or (model.width, model.height) == tuple(pixels):
        return None
    width, height = pixels
    if not same_capture(model, width, height):
        return None
    return width / model.width, height / model.height


def show(plane: bpy.types.Object, index: int) -> None:
    """Display the plane's model in material slot ``index``."""
    mesh = cast(bpy.types.Mesh, plane.data)
    if not 0 <= index < len(mesh.materials):
        raise RTIError(f"'{plane.name}' has no model number {index + 1}")
    for polygon in mesh.polygons:
        polygon.material_index = index


def shown(plane: bpy.types.Object) -> int:
    """The material slot displayed on the plane."""
    return cast(bpy.types.Mesh, plane.data).polygons[0].material_index


def plane_aspect(plane: bpy.types.Object) -> float:
    xs = [v.co.x for v in cast(bpy.types.Mesh, plane.data).vertices]
    return (max(xs) - min(xs)) / 2.0


def model_group(model: Model, name: str) -> bpy.types.ShaderNodeTree:
    """The decoder node group; for 8-bit neural planes it dequantises the byte textures itself."""
    if is_neural(model):
        planes = model.planes
        if planes is None:
            return neural_group(name, nodeplan.plan(model.layers))
        return neural_group(name, nodeplan.plan(model.layers, scale=planes.hi - planes.lo, offset=planes.lo))
    if isinstance(model, InterpolatedRTI):
        return interpolated_group(name, model)
    classic = cast(ClassicRTI, model)
    return classic_group(name, classic.method, classic.hsh_min_elevation, linear=classic.colorprofile == "RGB")


def model_images(model: Model, name: str) -> list[bpy.types.Image]:
    """The textures the model's node group reads, in its input order: 8-bit neural planes as byte images (as stored),
    everything else full float."""
    if is_neural(model) and model.planes is not None:
        texels = model.planes.texels
        return [packed_image(f"{name} {k + 1}", texels[..., 3 * k : 3 * k + 3] / 255.0, float_buffer=False)
                for k in range(3)]
    return [packed_image(f"{name} {k + 1}", t, float_buffer=True) for k, t in enumerate(model_textures(model))]


def model_textures(model: Model) -> list[np.ndarray]:
    """The float textures (H, W, 3) of a model's coefficients, in its node group's input order."""
    if is_neural(model):
        return [model.codes[..., 3 * k : 3 * k + 3] for k in range(3)]
    if isinstance(model, InterpolatedRTI):
        planes = np.concatenate([model.planes, np.zeros((-len(model.planes) % 3, model.height, model.width),
                                                        np.float32)])
        return [np.moveaxis(planes[3 * k : 3 * k + 3], 0, -1) for k in range(len(planes) // 3)]
    classic = cast(ClassicRTI, model)
    if classic.chroma is not None:
        luminance = classic.coeffs[..., 0]
        return [np.moveaxis(luminance[0:3], 0, -1), np.moveaxis(luminance[3:6], 0, -1), classic.chroma]
    return list(classic.coeffs)


def add_handle(scene: bpy.types.Scene, name: str, elevation: float = 45.0, azimuth: float = 0.0) -> bpy.types.Object:
    """An Empty to drag: its rotation and scale are locked because the material reads its position through its frame."""
    handle = bpy.data.objects.new(name, None)
    handle.empty_display_type = "SPHERE"
    handle.empty_display_size = 0.15
    handle.lock_rotation = (True, True, True)
    handle.lock_scale = (True, True, True)
    scene.collection.objects.link(handle)
    handle.location = tuple(HANDLE_DISTANCE * lights.from_angles([elevation], [azimuth])[0])
    return handle


def aim(plane: bpy.types.Object, elevation: float, azimuth: float) -> None:
    """Move the plane's handle (or its Sun) to (elevation, azimuth) degrees in the plane's frame,
    ``HANDLE_DISTANCE`` away."""
    direction = Vector(HANDLE_DISTANCE * lights.from_angles([elevation], [azimuth])[0])
    mover(plane).location = plane.matrix_world @ direction


def light_angles(plane: bpy.types.Object) -> tuple[float, float]:
    """(elevation, azimuth) degrees of the plane's handle in the plane's frame: the light its material uses."""
    local = np.asarray(plane.matrix_world.inverted() @ mover(plane).location, dtype=np.float64)
    length = float(np.linalg.norm(local))
    if length == 0.0:
        return 90.0, 0.0
    direction = (local / length)[None]
    return float(lights.elevation(direction)[0]), float(lights.azimuth(direction)[0])


@contextmanager
def rolled_back_on_error() -> Iterator[None]:
    """Remove every object, mesh, camera, material, image, node group and texture made inside the block when it
    raises."""
    collections: tuple[Any, ...] = (bpy.data.objects, bpy.data.meshes, bpy.data.cameras, bpy.data.materials,
                                    bpy.data.images, bpy.data.node_groups, bpy.data.textures)
    before = [set(c) for c in collections]
    try:
        yield
    except BaseException:
        for collection, old in zip(collections, before):
            for block in set(collection) - old:
                collection.remove(block)
        raise


def _plane_mesh(name: str, aspect: float) -> bpy.types.Mesh:
    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata([(-aspect, -1, 0), (aspect, -1, 0), (aspect, 1, 0), (-aspect, 1, 0)], [], [(0, 1, 2, 3)])
    uv = mesh.uv_layers.new()
    assert uv is not None
    for loop, corner in zip(uv.data, [(0, 0), (1, 0), (1, 1), (0, 1)]):
        loop.uv = corner
    return mesh
