"""Analysis views of an imported model, switched at once without re-importing: relit (the model as trained),
normals, specular enhancement and diffuse gain, the views RTIViewer and OpenLIME offer.

Each view is a branch of nodes in the model's relight material, built at import from ``core.surface.views`` maps
(normals, and the diffuse-gain PTM of the model's luminance as base + gain · slope), at import or, for a model
imported from a file, when a view is first chosen (the maps cost 27 relightings); switching a view relinks which
branch feeds the material's sRGB-to-linear node, so only the shown branch is evaluated. The sliders are Value nodes
that every RTI material of a plane shares through the plane's properties.
"""

from __future__ import annotations

from typing import Any, cast

import bpy
import numpy as np

from .classic_nodes import classic_group
from .core.errors import RTIError
from .core.formats import models
from .core.formats.models import Relightable
from .core.surface import maps as surface_maps
from .core.surface import views as core_views
from .material import DECODER, LIGHT, TO_LINEAR, packed_image
from .nodetree import COLUMN, Math, add_node, set_vector, texel_texture, vector_math

VIEW_ITEMS = [
    ("RELIT", "Relit", "The model's colour under the light"),
    ("NORMALS", "Normals", "The surface normals as colours (x right, y up, z to the viewer)"),
    ("SPECULAR", "Specular", "The model's colour plus a highlight from the surface normal"),
    ("DIFFUSE_GAIN", "Diffuse Gain", "The model's shading with its curvature around the normal scaled"),
]
PARAMETERS = {"rti_specular_exponent": "RTI exponent", "rti_specular_strength": "RTI strength",
              "rti_diffuse_gain": "RTI gain"}
"""The plane's slider properties and the Value node each sets in its materials."""
BRANCH = "RTI view {}"
GAIN_GROUP = "RTI luminance PTM"


def add_views(material: bpy.types.Material, model: Relightable, name: str, normals: np.ndarray | None = None
              ) -> None:
    """Build every view's branch in ``material`` (a relight material of ``model``), showing the relit one; given
    ``normals`` (a model folder's ``normals.png``) are used instead of the model's own."""
    build_views(material, core_views.prepare(model, normals=normals), name)


def build_views(material: bpy.types.Material, maps: core_views.Views, name: str) -> None:
    """Build every view's branch in ``material`` from the model's view maps, showing the relit one."""
    tree = material.node_tree
    assert tree is not None
    light = tree.nodes[LIGHT].outputs[0]
    x, y = 3 * COLUMN, -1400
    values = {}
    for k, (prop, node_name) in enumerate(PARAMETERS.items()):
        node = add_node(tree, "ShaderNodeValue", (x, y - 100 * k))
        node.name = node.label = node_name
        values[prop] = node.outputs[0]
    normal_texture = _texture(tree, f"{name} normals", maps.normals, (x - 2 * COLUMN, y - 400))
    material["rti_normals"] = getattr(normal_texture.node, "image").name
    albedo = packed_image(f"{name} albedo", np.clip(maps.albedo, 0.0, 1.0).astype(np.float32), float_buffer=True)
    material["rti_albedo"] = albedo.name

    shown_normals = vector_math(tree, "MULTIPLY_ADD", (x + COLUMN, y - 400))
    tree.links.new(normal_texture, shown_normals.inputs[0])
    set_vector(shown_normals.inputs[1], (0.5, 0.5, 0.5))
    set_vector(shown_normals.inputs[2], (0.5, 0.5, 0.5))
    shown_normals.name = BRANCH.format("NORMALS")

    tree.links.new(_highlight(tree, normal_texture, light, values, (x + COLUMN, y - 700)),
                   _specular_sum(tree, (x + 5 * COLUMN, y - 700)).inputs[1])
    tree.links.new(tree.nodes[DECODER].outputs["Color"], tree.nodes[BRANCH.format("SPECULAR")].inputs[0])

    textures = {part: [_texture(tree, f"{name} gain {part} {k}", np.moveaxis(coeffs[3 * k:3 * k + 3], 0, -1),
                                (x - 2 * COLUMN, y - 1200 - 900 * (part == "slope") - 300 * k)) for k in range(2)]
                for part, coeffs in (("base", maps.gain_base), ("slope", maps.gain_slope))}
    chroma = _texture(tree, f"{name} chroma", maps.chroma, (x - 2 * COLUMN, y - 2000))
    colours = {}
    for k, part in enumerate(("base", "slope")):
        node = add_node(tree, "ShaderNodeGroup", (x + COLUMN, y - 1200 - 500 * k))
        setattr(node, "node_tree", _gain_group())
        for socket, source in zip(node.inputs, [*textures[part], chroma, light]):
            tree.links.new(source, socket)
        colours[part] = node.outputs["Color"]
    gained = vector_math(tree, "MULTIPLY_ADD", (x + 2 * COLUMN, y - 1200))
    gained.name = BRANCH.format("DIFFUSE_GAIN")
    tree.links.new(colours["slope"], gained.inputs[0])
    tree.links.new(values["rti_diffuse_gain"], gained.inputs[1])
    tree.links.new(colours["base"], gained.inputs[2])
    show_view(material, "RELIT")


def ensure_views(material: bpy.types.Material) -> None:
    """Build the views of a material imported with its source path and not built yet, loading the model again (and
    the normals that ``python -m core normals`` wrote into its folder, if any)."""
    tree = material.node_tree
    properties: Any = material  # custom properties: the stubs type ``get`` as returning None
    source = properties.get("rti_source")
    if tree is None or source is None or BRANCH.format("NORMALS") in tree.nodes:
        return
    add_views(material, models.load(source), material.name, surface_maps.folder_normals(source))


def sync(plane: bpy.types.Object) -> None:
    """Show the plane's chosen view with its slider values in every one of its materials. When a view other than
    relit is chosen, the views of the ones imported without them are built: as a job with progress and Esc in the
    interface (``view_maps``; they show the relit model until then), at once in scripts and ``blender -b``."""
    view = getattr(plane, "rti_view")
    from . import view_maps  # built on this module: imported when needed

    building = view != "RELIT" and view_maps.request(plane)
    for material in plane_materials(plane):
        if view != "RELIT" and not building:
            try:
                ensure_views(material)
            except RTIError as exc:  # a property update cannot report: the material keeps its view
                print(f"RTI: '{material.name}' has no views: {exc}")
        show_view(material, view)
        for prop in PARAMETERS:
            set_parameter(material, prop, getattr(plane, prop))


def show_view(material: bpy.types.Material, view: str) -> None:
    """Feed ``view``'s branch (``VIEW_ITEMS``) to the material's output; materials without views are left alone."""
    tree = material.node_tree
    if tree is None or TO_LINEAR not in tree.nodes:
        return
    source = tree.nodes[DECODER] if view == "RELIT" else tree.nodes.get(BRANCH.format(view))
    if source is not None:
        tree.links.new(source.outputs[0], tree.nodes[TO_LINEAR].inputs["Color"])


def set_parameter(material: bpy.types.Material, prop: str, value: float) -> None:
    """Set one slider (a key of ``PARAMETERS``) in a material that has views."""
    tree = material.node_tree
    node = None if tree is None else tree.nodes.get(PARAMETERS[prop])
    if node is not None:
        setattr(node.outputs[0], "default_value", float(value))


def plane_materials(plane: bpy.types.Object) -> list[bpy.types.Material]:
    return [m for m in cast(bpy.types.Mesh, plane.data).materials if m is not None]


def _texture(tree: bpy.types.ShaderNodeTree, name: str, values: np.ndarray, location: tuple[float, float]
             ) -> bpy.types.NodeSocket:
    return texel_texture(tree, packed_image(name, values.astype(np.float32), float_buffer=True), location).outputs[0]


def _highlight(tree: bpy.types.ShaderNodeTree, normal: bpy.types.NodeSocket, light: bpy.types.NodeSocket,
               values: dict[str, bpy.types.NodeSocket], location: tuple[float, float]) -> bpy.types.NodeSocket:
    """strength · max(n·h, 0)^exponent where n·l > 0, h the half vector of the light and the view (+z)."""
    x, y = location
    half = vector_math(tree, "ADD", (x, y))
    tree.links.new(light, half.inputs[0])
    set_vector(half.inputs[1], (0.0, 0.0, 1.0))
    unit = vector_math(tree, "NORMALIZE", (x + COLUMN, y))
    tree.links.new(half.outputs[0], unit.inputs[0])
    n_dot_h = vector_math(tree, "DOT_PRODUCT", (x + 2 * COLUMN, y))
    tree.links.new(normal, n_dot_h.inputs[0])
    tree.links.new(unit.outputs[0], n_dot_h.inputs[1])
    n_dot_l = vector_math(tree, "DOT_PRODUCT", (x + 2 * COLUMN, y - 200))
    tree.links.new(normal, n_dot_l.inputs[0])
    tree.links.new(light, n_dot_l.inputs[1])
    m = _LocalMath(tree, (x + 3 * COLUMN, y))
    lobe = m("POWER", m("MAXIMUM", n_dot_h.outputs["Value"], 0.0), values["rti_specular_exponent"])
    lit = m("GREATER_THAN", n_dot_l.outputs["Value"], 0.0)
    return m("MULTIPLY", m("MULTIPLY", lobe, lit), values["rti_specular_strength"])


def _specular_sum(tree: bpy.types.ShaderNodeTree, location: tuple[float, float]) -> bpy.types.Node:
    """colour + highlight (the highlight, a float, is added to every channel)."""
    total = vector_math(tree, "ADD", location)
    total.name = BRANCH.format("SPECULAR")
    return total


def _gain_group() -> bpy.types.ShaderNodeTree:
    """The LRGB-PTM group (luminance terms 0-2 and 3-5, chroma, light), shared by the file's views."""
    existing = bpy.data.node_groups.get(GAIN_GROUP)
    if isinstance(existing, bpy.types.ShaderNodeTree):
        return existing
    return classic_group(GAIN_GROUP, "lptm")


class _LocalMath(Math):
    """Math nodes placed from ``location`` on rather than by the tree's node count."""

    def __init__(self, tree: bpy.types.ShaderNodeTree, location: tuple[float, float]):
        super().__init__(tree)
        self.x, self.y, self.count = location[0], location[1], 0

    def __call__(self, operation: str, *operands: object) -> bpy.types.NodeSocket:
        socket = super().__call__(operation, *operands)  # type: ignore[arg-type]
        node = socket.node
        assert node is not None
        node.location = (self.x + COLUMN * self.count, self.y)
        self.count += 1
        return socket
