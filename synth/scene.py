"""The Blender side of a synthetic MLIC: build the scene a :class:`~synth.spec.SceneSpec` describes, aim its light,
render one image. Everything is made in a scene of its own and removed by :meth:`Stage.remove`, so the user's file is
left as it was.

Conventions: the surface spans [-1, 1]² in world x (right) and y (up) and faces +z, the light frame of the .lp files;
an orthographic camera looks straight down at it. A sun lamp of strength π·exposure makes a white Lambertian surface
facing the light exactly ``exposure`` (linear); a near-field point light at distance d gets 4π²·d²·exposure watts,
the same irradiance at the centre.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import bpy
import numpy as np

from core.errors import RTIError

from . import materials, pixels, relief
from .spec import OWN, SceneSpec, sun_rotation

ALBEDO_ATTRIBUTE = "rti_albedo"
CAMERA_HEIGHT = 10.0
HEIGHT_OFFSET = 4.0
"""Added to the world height in the height pass, which emits it as a colour (colours stay positive)."""
Block = TypeVar("Block", bound=bpy.types.ID)


def cycles_settings(spec: SceneSpec) -> dict:
    """The Cycles settings of a scene, as set and as ``scene.json`` records them. Caustics off and indirect light
    clamped: metal otherwise throws fireflies onto diffuse neighbours at few samples."""
    return {"engine": "CYCLES", "device": "CPU", "samples": spec.samples, "seed": spec.seed, "denoise": spec.denoise,
            "max_bounces": 4, "caustics": False, "clamp_indirect": 1.0}


class Stage:
    """A built scene: its surface, camera, light and the override materials of the ground-truth passes."""

    def __init__(self, spec: SceneSpec, source: bpy.types.Object | None = None):
        self.spec = spec
        self.scene = bpy.data.scenes.new("RTI synth")
        self.made: list[bpy.types.ID] = [self.scene]
        try:
            self._settings()
            self._surface(source)
            self._spheres()
            self._camera()
            self.lamp = self._lamp()
            self.overrides = {"normals": self._normal_material(), "albedo": self._albedo_material(),
                              "height": self._height_material()}
        except BaseException:
            self.remove()
            raise

    def _keep(self, block: Block) -> Block:
        """Remember a data-block this stage made, for :meth:`remove`."""
        self.made.append(block)
        return block

    def _link(self, name: str, data: bpy.types.ID) -> bpy.types.Object:
        obj = self._keep(bpy.data.objects.new(name, data))
        self.scene.collection.objects.link(obj)
        return obj

    def _settings(self) -> None:
        scene, spec = self.scene, self.spec
        scene.render.engine = "CYCLES"  # type: ignore[assignment]  # the 4.2 stubs list only EEVEE
        cycles = _cycles(scene)
        settings = cycles_settings(spec)
        cycles.device = settings["device"]
        cycles.samples = settings["samples"]
        cycles.use_adaptive_sampling = False
        cycles.seed = settings["seed"]
        cycles.use_denoising = settings["denoise"]
        cycles.max_bounces = settings["max_bounces"]
        cycles.caustics_reflective = cycles.caustics_refractive = settings["caustics"]
        cycles.sample_clamp_indirect = settings["clamp_indirect"]
        scene.render.use_persistent_data = True
        scene.render.resolution_x = scene.render.resolution_y = spec.size
        scene.render.resolution_percentage = 100
        scene.render.film_transparent = True
        scene.render.dither_intensity = 0.0
        for flag in ("date", "time", "render_time", "frame", "memory", "camera", "scene", "filename", "hostname",
                     "lens", "marker", "frame_range"):
            setattr(scene.render, f"use_stamp_{flag}", False)  # no date or render time in the files: same bytes
        view = scene.view_settings
        assert view is not None
        view.view_transform = "Standard"  # type: ignore[assignment]  # the stubs' colour enums are empty
        view.look = "None"  # type: ignore[assignment]
        view.exposure = 0.0
        view.gamma = 1.0
        scene.world = None

    def _camera(self) -> None:
        camera = self._keep(bpy.data.cameras.new("RTI camera"))
        camera.type = "ORTHO"
        camera.ortho_scale = 2.0
        camera.clip_end = 2 * CAMERA_HEIGHT
        obj = self._link("RTI camera", camera)
        obj.location = (0.0, 0.0, CAMERA_HEIGHT)
        self.scene.camera = obj

    def _lamp(self) -> bpy.types.Object:
        distance, exposure = self.spec.near_field, self.spec.exposure
        if distance is not None:
            point = self._keep(bpy.data.lights.new("RTI light", "POINT"))
            assert isinstance(point, bpy.types.PointLight)
            point.energy = 4 * math.pi**2 * distance**2 * exposure
            point.shadow_soft_size = 0.0
            return self._link("RTI light", point)
        sun = self._keep(bpy.data.lights.new("RTI light", "SUN"))
        assert isinstance(sun, bpy.types.SunLight)
        sun.energy = math.pi * exposure
        sun.angle = 0.0
        return self._link("RTI light", sun)

    def aim(self, direction: np.ndarray) -> None:
        """Light the surface from ``direction`` (a point light sits at near_field × direction)."""
        if self.spec.near_field is not None:
            self.lamp.location = tuple(float(v) for v in self.spec.near_field * direction)
        else:
            self.lamp.rotation_euler = sun_rotation(direction)

    # the surface -------------------------------------------------------------------------------------------------

    def _surface(self, source: bpy.types.Object | None) -> None:
        meshes = [self._relief_mesh(), *self._solids()] if source is None else [self._fitted_copy(source)]
        painted = [self._principled(f"RTI material {i}", p) for i, p in enumerate(self.spec.material_set().materials)
                   ] if source is None or self.spec.material != OWN else None
        for mesh in meshes:
            self._link(mesh.name, mesh)
            if painted is not None:
                self._paint(mesh, painted)
            self._albedo_attribute(mesh)

    def _solids(self) -> list[bpy.types.Mesh]:
        """The relief's ellipsoids (see :func:`synth.relief.solids`) as one smooth mesh, scaled with the depth."""
        parts = relief.solids(self.spec.relief, self.spec.seed) if self.spec.heightmap is None else np.zeros((0, 7))
        if not len(parts):
            return []
        unit = self._sphere_geometry(24, 48)
        vertices: list[np.ndarray] = []
        faces: list[tuple[int, ...]] = []
        for cx, cy, cz, rx, ry, rz, angle in parts:
            scaled = unit[0] * (rx, ry, rz * self.spec.depth / relief.DEPTH)
            c, s = np.cos(angle), np.sin(angle)
            turned = np.stack([c * scaled[:, 0] - s * scaled[:, 1], s * scaled[:, 0] + c * scaled[:, 1], scaled[:, 2]],
                              axis=1)
            faces += [tuple(int(v) + len(vertices) * len(unit[0]) for v in f) for f in unit[1]]
            vertices.append(turned + (cx, cy, cz * self.spec.depth / relief.DEPTH))
        return [self._mesh("RTI figures", np.concatenate(vertices), faces)]

    def _spheres(self) -> None:
        """The calibration spheres of ``spec.spheres``: smooth UV spheres, a chrome one (a rough mirror, so that a
        sun of angle 0 still shows a spot) and a glossy black one."""
        looks = {"chrome": materials.Principled((0.95, 0.95, 0.95), roughness=0.08, metallic=1.0),
                 "black": materials.Principled((0.01, 0.01, 0.01), roughness=0.08)}
        for sphere in self.spec.sphere_layout():
            x, y, z, r = sphere["world"]
            vertices, faces = self._sphere_geometry()
            mesh = self._mesh(f"RTI {sphere['kind']} sphere", vertices * r, faces)
            mesh.materials.append(self._principled(f"RTI {sphere['kind']} sphere", looks[sphere["kind"]]))
            self._albedo_attribute(mesh)
            self._link(f"RTI {sphere['kind']} sphere", mesh).location = (x, y, z)

    @staticmethod
    def _sphere_geometry(rings: int = 48, segments: int = 96) -> tuple[np.ndarray, list[tuple[int, ...]]]:
        """Vertices and faces of a unit UV sphere."""
        theta = np.linspace(0.0, np.pi, rings + 1)[1:-1]
        phi = np.linspace(0.0, 2 * np.pi, segments, endpoint=False)
        ring = np.stack([np.outer(np.sin(theta), np.cos(phi)), np.outer(np.sin(theta), np.sin(phi)),
                         np.outer(np.cos(theta), np.ones_like(phi))], axis=-1).reshape(-1, 3)
        vertices = np.concatenate([[[0, 0, 1]], ring, [[0, 0, -1]]])
        top, bottom = 0, len(vertices) - 1
        index = (np.arange((rings - 1) * segments) + 1).reshape(rings - 1, segments)
        faces: list[tuple[int, ...]] = [(top, index[0, (k + 1) % segments], index[0, k]) for k in range(segments)]
        faces += [(index[i, k], index[i, (k + 1) % segments], index[i + 1, (k + 1) % segments], index[i + 1, k])
                  for i in range(rings - 2) for k in range(segments)]
        faces += [(bottom, index[-1, k], index[-1, (k + 1) % segments]) for k in range(segments)]
        return vertices, [tuple(int(v) for v in f) for f in faces]

    def _mesh(self, name: str, vertices: np.ndarray, faces: list[tuple[int, ...]]) -> bpy.types.Mesh:
        """A smooth-shaded mesh."""
        mesh = self._keep(bpy.data.meshes.new(name))
        mesh.from_pydata(vertices.tolist(), [], faces)
        mesh.update()
        mesh.polygons.foreach_set("use_smooth", np.ones(len(mesh.polygons), dtype=bool))
        return mesh

    def _heights(self) -> np.ndarray:
        spec = self.spec
        if spec.heightmap is None:
            return relief.make(spec.relief, spec.size, spec.seed) * (spec.depth / relief.DEPTH)
        gray = pixels.read(Path(spec.heightmap).resolve())[..., :3].mean(axis=2)
        return relief.from_image(gray, spec.size, spec.depth)

    def _relief_mesh(self) -> bpy.types.Mesh:
        """A grid with one quad per pixel, raised by the height field."""
        heights = self._heights()
        x, y = relief.grid(self.spec.size)
        vertices = np.stack([x, y, heights], axis=-1)
        mesh = self._keep(grid_mesh("RTI surface", vertices.reshape(*x.shape, 3)))
        mesh.polygons.foreach_set("use_smooth", np.ones(len(mesh.polygons), dtype=bool))
        return mesh

    def _fitted_copy(self, source: bpy.types.Object) -> bpy.types.Mesh:
        """A mesh copy of ``source`` in world space, moved and scaled so its top view fills [-1, 1]²."""
        if source.type != "MESH":
            raise RTIError(f"{source.name}: only mesh objects can be photographed (this one is {source.type})")
        depsgraph = bpy.context.evaluated_depsgraph_get()
        mesh = self._keep(bpy.data.meshes.new_from_object(source.evaluated_get(depsgraph)))
        mesh.transform(source.matrix_world)
        co = np.empty(len(mesh.vertices) * 3, dtype=np.float32)
        mesh.vertices.foreach_get("co", co)
        co = co.reshape(-1, 3)
        if len(co) == 0:
            raise RTIError(f"{source.name}: the mesh has no vertices")
        low, high = co.min(axis=0), co.max(axis=0)
        extent = float(max(high[0] - low[0], high[1] - low[1]))
        if extent <= 0:
            raise RTIError(f"{source.name}: the object has no extent seen from above")
        centre = np.array([(low[0] + high[0]) / 2, (low[1] + high[1]) / 2, high[2]])
        fitted = (co - centre) * (2.0 / extent)
        mesh.vertices.foreach_set("co", fitted.astype(np.float32).ravel())
        mesh.update()
        return mesh

    def _paint(self, mesh: bpy.types.Mesh, painted: list[bpy.types.Material]) -> None:
        """Material slots from the material set and each face's material from the layout."""
        chosen = self.spec.material_set()
        mesh.materials.clear()
        for material in painted:
            mesh.materials.append(material)
        centres = np.empty(len(mesh.polygons) * 3, dtype=np.float32)
        mesh.polygons.foreach_get("center", centres)
        centres = centres.reshape(-1, 3)
        index = materials.layout_index(chosen.layout, centres[:, 0], centres[:, 1], len(chosen.materials))
        mesh.polygons.foreach_set("material_index", index.astype(np.int32))

    def _principled(self, name: str, p: materials.Principled) -> bpy.types.Material:
        material = self._keep(_material(name))
        bsdf = next(n for n in _tree(material).nodes if n.type == "BSDF_PRINCIPLED")
        values = {"Base Color": (*p.color, 1.0), "Roughness": p.roughness, "Metallic": p.metallic,
                  "Specular IOR Level": p.specular, "Subsurface Weight": p.subsurface,
                  "Subsurface Radius": p.subsurface_radius}
        for key, value in values.items():
            _set_input(bsdf, key, value)
        setattr(bsdf, "subsurface_method", "BURLEY")  # a fraction of random walk's time, at 4 samples alike
        return material

    def _albedo_attribute(self, mesh: bpy.types.Mesh) -> None:
        """Each face's base colour as a face attribute, which the albedo pass shows."""
        colours = [_base_colour(material) for material in mesh.materials]
        index = np.zeros(len(mesh.polygons), dtype=np.int32)
        mesh.polygons.foreach_get("material_index", index)
        table = np.array(colours or [(0.8, 0.8, 0.8, 1.0)], dtype=np.float32)
        attribute: Any = mesh.attributes.new(ALBEDO_ATTRIBUTE, "FLOAT_COLOR", "FACE")
        attribute.data.foreach_set("color", table[np.clip(index, 0, len(table) - 1)].ravel())

    # ground-truth passes -----------------------------------------------------------------------------------------

    def _emission(self, name: str) -> tuple[bpy.types.Material, bpy.types.Node]:
        material = self._keep(_material(name))
        tree = _tree(material)
        tree.nodes.clear()
        emission = tree.nodes.new("ShaderNodeEmission")
        output = tree.nodes.new("ShaderNodeOutputMaterial")
        tree.links.new(emission.outputs["Emission"], output.inputs["Surface"])
        return material, emission

    def _normal_material(self) -> bpy.types.Material:
        """Emits n·0.5 + 0.5 of the shading normal (world space = the lights' frame)."""
        material, emission = self._emission("RTI normals")
        tree = _tree(material)
        geometry = tree.nodes.new("ShaderNodeNewGeometry")
        scale: Any = tree.nodes.new("ShaderNodeVectorMath")
        scale.operation = "MULTIPLY_ADD"
        scale.inputs[1].default_value = (0.5, 0.5, 0.5)
        scale.inputs[2].default_value = (0.5, 0.5, 0.5)
        tree.links.new(geometry.outputs["Normal"], scale.inputs[0])
        tree.links.new(scale.outputs["Vector"], emission.inputs["Color"])
        return material

    def _height_material(self) -> bpy.types.Material:
        """Emits the world height z + ``HEIGHT_OFFSET`` (grey): the surface the camera sees, solids included."""
        material, emission = self._emission("RTI height")
        tree = _tree(material)
        geometry = tree.nodes.new("ShaderNodeNewGeometry")
        split: Any = tree.nodes.new("ShaderNodeSeparateXYZ")
        shift: Any = tree.nodes.new("ShaderNodeMath")
        shift.operation = "ADD"
        shift.inputs[1].default_value = HEIGHT_OFFSET
        tree.links.new(geometry.outputs["Position"], split.inputs[0])
        tree.links.new(split.outputs["Z"], shift.inputs[0])
        tree.links.new(shift.outputs["Value"], emission.inputs["Color"])
        return material

    def _albedo_material(self) -> bpy.types.Material:
        material, emission = self._emission("RTI albedo")
        tree = _tree(material)
        attribute: Any = tree.nodes.new("ShaderNodeAttribute")
        attribute.attribute_type = "GEOMETRY"
        attribute.attribute_name = ALBEDO_ATTRIBUTE
        tree.links.new(attribute.outputs["Color"], emission.inputs["Color"])
        return material

    # rendering ---------------------------------------------------------------------------------------------------

    def render(self, path: Path, fmt: str, override: str | None = None) -> None:
        """Render the current light, or a ground-truth pass (``override``: normals, albedo, height), into ``path``."""
        scene = self.scene
        settings = scene.render.image_settings
        settings.color_mode = "RGBA" if override else "RGB"
        if fmt == "exr":
            settings.file_format, settings.color_depth = "OPEN_EXR", "32"
            settings.exr_codec = "ZIP"
        elif fmt == "jpg":
            settings.file_format, settings.quality = "JPEG", self.spec.quality
        else:
            settings.file_format, settings.color_depth = "PNG", "16" if fmt == "png16" else "8"
            settings.compression = 15
        layer = scene.view_layers[0]
        layer.material_override = self.overrides[override] if override else None
        _cycles(scene).use_denoising = self.spec.denoise and not override
        scene.render.filepath = str(path)
        try:
            with _blender_quiet():
                bpy.ops.render.render(write_still=True, scene=scene.name)
        finally:
            layer.material_override = None
        if not path.is_file():
            raise RTIError(f"{path}: Blender did not write the image")

    def remove(self) -> None:
        """Delete everything this stage made, newest first."""
        kinds: list[tuple[type, Any]] = [
            (bpy.types.Scene, bpy.data.scenes), (bpy.types.Object, bpy.data.objects),
            (bpy.types.Mesh, bpy.data.meshes), (bpy.types.Material, bpy.data.materials),
            (bpy.types.Camera, bpy.data.cameras), (bpy.types.Light, bpy.data.lights)]
        for block in reversed(self.made):
            collection = next((c for kind, c in kinds if isinstance(block, kind)), None)
            if collection is not None:
                collection.remove(block)
        self.made.clear()


def grid_mesh(name: str, vertices: np.ndarray) -> bpy.types.Mesh:
    """A mesh of a grid of vertices (R, C, 3), row 0 at the top: a quad between every four neighbours,
    counter-clockwise seen from +z."""
    ids = np.arange(vertices.shape[0] * vertices.shape[1]).reshape(vertices.shape[:2])
    quads = np.stack([ids[1:, :-1], ids[1:, 1:], ids[:-1, 1:], ids[:-1, :-1]], axis=-1).reshape(-1, 4)
    mesh = bpy.data.meshes.new(name)
    mesh.vertices.add(ids.size)
    mesh.vertices.foreach_set("co", vertices.astype(np.float32).ravel())
    mesh.loops.add(quads.size)
    mesh.loops.foreach_set("vertex_index", quads.astype(np.int32).ravel())
    mesh.polygons.add(len(quads))
    mesh.polygons.foreach_set("loop_start", np.arange(0, quads.size, 4, dtype=np.int32))
    mesh.update()
    return mesh


@contextmanager
def _blender_quiet() -> Iterator[None]:
    """Silence what Blender's C code prints to stdout (a "Saved:" line per image), keeping stdout for our output."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _cycles(scene: bpy.types.Scene) -> Any:
    cycles = scene.cycles
    assert cycles is not None
    return cycles


def _tree(material: bpy.types.Material) -> bpy.types.ShaderNodeTree:
    tree = material.node_tree
    assert tree is not None
    return tree


def _material(name: str) -> bpy.types.Material:
    """A new material with a node tree (default in 5.0; 4.2 needs ``use_nodes``)."""
    material = bpy.data.materials.new(name)
    if bpy.app.version < (5, 0, 0):
        material.use_nodes = True
    return material


def _set_input(node: bpy.types.Node, name: str, value: object) -> None:
    """Set an input socket's value (the stubs type sockets without ``default_value``)."""
    setattr(node.inputs[name], "default_value", value)


def _base_colour(material: bpy.types.Material | None) -> tuple[float, ...]:
    """The Principled BSDF's base colour of a material (textures are ignored), else light grey."""
    tree = material.node_tree if material is not None else None
    bsdf = next((n for n in tree.nodes if n.type == "BSDF_PRINCIPLED"), None) if tree is not None else None
    return tuple(getattr(bsdf.inputs["Base Color"], "default_value")) if bsdf else (0.8, 0.8, 0.8, 1.0)
