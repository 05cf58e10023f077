"""The plane's analysis views in Cycles against ``core.surface.views`` (numpy), for neural, PTM and HSH models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.classic.fitting import ClassicRTI
from core.surface import views

from .conftest import assert_emits, random_model

bpy = pytest.importorskip("bpy")

from .test_addon_nodes import LIGHTS, render  # noqa: E402  (needs bpy)

pytestmark = pytest.mark.usefixtures("registered_addon")

SLIDERS = {"rti_specular_exponent": 12.0, "rti_specular_strength": 0.7, "rti_diffuse_gain": 3.0}


def models() -> dict[str, object]:
    rng = np.random.default_rng(7)
    neural = random_model(20, size=(12, 16))
    ptm = ClassicRTI("ptm", rng.uniform(-0.05, 0.1, (6, 12, 16, 3)).astype(np.float32))
    ptm.coeffs[5] += 0.4
    hsh = ClassicRTI("hsh3", rng.normal(0, 0.05, (9, 12, 16, 3)).astype(np.float32))
    hsh.coeffs[0] += 0.5
    return {"neural": neural, "ptm": ptm, "hsh3": hsh}


@pytest.mark.parametrize("kind", ["neural", "ptm", "hsh3"])
@pytest.mark.parametrize("view", ["NORMALS", "SPECULAR", "DIFFUSE_GAIN"])
def test_cycles_renders_each_view_as_numpy_does(tmp_path: Path, kind: str, view: str) -> None:
    model = models()[kind]
    prepared = views.prepare(model)
    images = render(model, LIGHTS, tmp_path, {"rti_view": view, **SLIDERS})
    for light, image in zip(LIGHTS, images):
        expected = views.render(model, prepared, view.lower(), light, exponent=12.0, strength=0.7, gain=3.0)
        assert_emits(image, expected, tolerance=1e-3)


def test_switching_views_relinks_every_material_of_the_plane(tmp_path: Path) -> None:
    from blender_addon import importer

    scene = bpy.data.scenes.new("RTI views")
    plane, _ = importer.add_model(scene, random_model(20, size=(6, 8)), "first")
    importer.add_to_plane(plane, models()["ptm"], "second")
    plane.rti_view = "NORMALS"
    plane.rti_diffuse_gain = 5.0
    for material in plane.data.materials:
        tree = material.node_tree
        assert tree.nodes["RTI to linear"].inputs["Color"].links[0].from_node.name == "RTI view NORMALS"
        assert tree.nodes["RTI gain"].outputs[0].default_value == 5.0
    plane.rti_view = "RELIT"
    assert all(m.node_tree.nodes["RTI to linear"].inputs["Color"].links[0].from_node.name == "RTI decoder"
               for m in plane.data.materials)
