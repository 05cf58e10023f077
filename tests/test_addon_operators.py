"""The add-on's operators through bpy.ops: importing model folders and files, bad input, aiming the light."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.classic.fitting import ClassicRTI
from core.formats import models

from .conftest import random_model

bpy = pytest.importorskip("bpy")
pytestmark = pytest.mark.usefixtures("registered_addon")


def decoder_images(material) -> list:
    """The textures the model's decoder group reads (the analysis views have textures of their own)."""
    decoder = material.node_tree.nodes["RTI decoder"]
    return [socket.links[0].from_node.image for socket in decoder.inputs
            if socket.is_linked and socket.links[0].from_node.type == "TEX_IMAGE"]


def test_import_a_neural_folder(tmp_path: Path) -> None:
    model = random_model(20, size=(12, 18))
    models.save(model, tmp_path / "student")
    before = set(bpy.data.objects)
    bpy.context.scene.view_settings.view_transform = "AgX"  # Blender's default, which tone-maps the model's colours
    assert bpy.ops.rti.import_model(filepath=str(tmp_path / "student" / "info.json")) == {"FINISHED"}
    plane = bpy.context.view_layer.objects.active
    handle = plane.rti_handle
    assert set(bpy.data.objects) - before == {plane, handle} and plane.name.startswith("student")
    assert bpy.context.scene.view_settings.view_transform == "Standard"
    xs = [v.co.x for v in plane.data.vertices]
    assert max(xs) - min(xs) == pytest.approx(2 * 18 / 12)
    images = decoder_images(plane.active_material)
    assert len(images) == 3 and all(i.is_float and i.colorspace_settings.name == "Non-Color" for i in images)
    # the lossless codes, as stored in codes.npy, are what the textures hold (first pixel of plane 1, row 0 on top)
    pixels = np.empty(18 * 12 * 4, dtype=np.float32)
    images[0].pixels.foreach_get(pixels)
    np.testing.assert_allclose(pixels.reshape(12, 18, 4)[::-1][0, 0, :3], model.codes[0, 0, :3], atol=1e-6)
    bpy.ops.rti.aim_light(elevation=30.0, azimuth=90.0)
    np.testing.assert_allclose(handle.location, (0, 2 * np.cos(np.radians(30)), 2 * np.sin(np.radians(30))),
                               atol=1e-6)


def test_import_a_ptm_file(tmp_path: Path) -> None:
    coeffs = np.random.default_rng(1).normal(0, 0.3, (6, 8, 10, 3)).astype(np.float32)
    models.save(ClassicRTI("ptm", coeffs), tmp_path / "capture.ptm")
    assert bpy.ops.rti.import_model(filepath=str(tmp_path / "capture.ptm")) == {"FINISHED"}
    plane = bpy.context.view_layer.objects.active
    assert plane.name.startswith("capture") and plane.rti_handle is not None
    assert len(decoder_images(plane.active_material)) == 6


def test_import_relights_default_rbf_folder_and_its_views(tmp_path: Path) -> None:
    """relight-cli's default output (rbf, linear colour): its planes as float textures, the per-light table inside the
    group; the analysis views build from it as from any model."""
    from .test_relight_folders import synthetic

    folder, _ = synthetic(tmp_path, "mycc", "rbf", "RGB")
    assert bpy.ops.rti.import_model(filepath=str(folder)) == {"FINISHED"}
    plane = bpy.context.view_layer.objects.active
    images = decoder_images(plane.active_material)
    assert len(images) == 2 and all(i.is_float for i in images)  # 6 planes, three to a texture
    group = plane.active_material.node_tree.nodes["RTI decoder"].node_tree
    tables = [n.image for n in group.nodes if n.type == "TEX_IMAGE"]
    assert len(tables) == 7 and all(t.size[0] == t.size[1] == 128 for t in tables)
    plane.rti_view = "NORMALS"
    tree = plane.active_material.node_tree
    assert tree.nodes["RTI to linear"].inputs["Color"].links[0].from_node.name == "RTI view NORMALS"


def test_import_a_training_shows_its_recommended_model(tmp_path: Path) -> None:
    """A training's output folder (train.json beside its models): all on one plane, the recommended one shown."""
    out = tmp_path / "run"
    for role in ("student", "teacher"):
        models.save(random_model(20 if role == "student" else 50, size=(8, 10), seed=len(role)), out / role)
    models.save(ClassicRTI("hsh3", np.zeros((9, 8, 10, 3), np.float32)), out / "hsh3")
    why = "HSH3 scores 30.00 dB at the 6 held-out lights (the student 29.00, the teacher 28.00): it relights best"
    (out / "train.json").write_text(json.dumps({"recommended": {"model": "hsh3", "why": why}}))
    assert bpy.ops.rti.import_model(filepath=str(out / "train.json")) == {"FINISHED"}
    plane = bpy.context.view_layer.objects.active
    assert [s.material.name for s in plane.material_slots] == ["run student", "run teacher", "run hsh3"]
    assert {p.material_index for p in plane.data.polygons} == {2}
    (out / "train.json").write_text("{not json")
    count = len(bpy.data.objects)
    with pytest.raises(RuntimeError, match="not a training's summary"):
        bpy.ops.rti.import_model(filepath=str(out))
    assert len(bpy.data.objects) == count


@pytest.mark.parametrize(("name", "message"), [("missing", "no such model"), ("notes.txt", "not a model")])
def test_bad_input_is_reported_and_changes_nothing(tmp_path: Path, name: str, message: str) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    bpy.context.scene.view_settings.view_transform = "AgX"
    counts = (len(bpy.data.objects), len(bpy.data.materials), len(bpy.data.images), len(bpy.data.node_groups))
    with pytest.raises(RuntimeError, match=message):
        bpy.ops.rti.import_model(filepath=str(tmp_path / name))
    assert counts == (len(bpy.data.objects), len(bpy.data.materials), len(bpy.data.images), len(bpy.data.node_groups))
    assert bpy.context.scene.view_settings.view_transform == "AgX"


def test_models_of_one_capture_share_a_plane_and_switch(tmp_path: Path) -> None:
    models.save(random_model(20, size=(12, 18)), tmp_path / "student")
    models.save(ClassicRTI("ptm", np.zeros((6, 24, 36, 3), np.float32)), tmp_path / "capture.ptm")
    models.save(ClassicRTI("ptm", np.zeros((6, 10, 10, 3), np.float32)), tmp_path / "square.ptm")
    bpy.ops.rti.import_model(filepath=str(tmp_path / "student"))
    plane = bpy.context.view_layer.objects.active
    assert bpy.ops.rti.import_model(filepath=str(tmp_path / "capture.ptm"), add_to_active=True) == {"FINISHED"}
    assert [s.material.name.split(".")[0] for s in plane.material_slots] == ["student", "capture"]
    assert {p.material_index for p in plane.data.polygons} == {1}  # the model just added is shown
    assert bpy.ops.rti.show_model(index=0) == {"FINISHED"}
    assert {p.material_index for p in plane.data.polygons} == {0}
    counts = (len(bpy.data.materials), len(bpy.data.images), len(bpy.data.node_groups))
    with pytest.raises(RuntimeError, match="aspect ratio"):
        bpy.ops.rti.import_model(filepath=str(tmp_path / "square.ptm"), add_to_active=True)
    with pytest.raises(RuntimeError, match="no model number 3"):
        bpy.ops.rti.show_model(index=2)
    assert counts == (len(bpy.data.materials), len(bpy.data.images), len(bpy.data.node_groups))


def test_light_sliders_move_the_handle_and_follow_it(tmp_path: Path) -> None:
    models.save(random_model(7, size=(8, 8)), tmp_path / "student")
    bpy.ops.rti.import_model(filepath=str(tmp_path / "student"))
    plane = bpy.context.view_layer.objects.active
    plane.rti_elevation, plane.rti_azimuth = 20.0, -120.0
    e, a = np.radians(20.0), np.radians(-120.0)
    np.testing.assert_allclose(plane.rti_handle.location, 2 * np.array([np.cos(e) * np.cos(a), np.cos(e) * np.sin(a),
                                                                         np.sin(e)]), atol=1e-6)
    plane.rti_handle.location = (0.0, -3.0, 3.0)  # dragged: the sliders read where it is
    assert plane.rti_elevation == pytest.approx(45.0) and plane.rti_azimuth == pytest.approx(-90.0)
    plane.location = (5.0, 0.0, 0.0)  # the angles are the plane's, wherever it is
    bpy.context.view_layer.update()
    plane.rti_elevation, plane.rti_azimuth = 60.0, -90.0
    np.testing.assert_allclose(plane.rti_handle.location, (5.0, -1.0, np.sqrt(3.0)), atol=1e-6)
    assert plane.rti_elevation == pytest.approx(60.0) and plane.rti_azimuth == pytest.approx(-90.0)


def test_8bit_planes_import_as_byte_textures(tmp_path: Path) -> None:
    models.save(random_model(20, size=(6, 8)), tmp_path / "web")
    (tmp_path / "web" / "codes.npy").unlink()  # an OpenLIME folder: only the JPEG planes
    bpy.ops.rti.import_model(filepath=str(tmp_path / "web"))
    images = decoder_images(bpy.context.view_layer.objects.active.active_material)
    texels = models.load(tmp_path / "web").planes.texels
    pixels = np.empty(8 * 6 * 4, dtype=np.float32)
    images[1].pixels.foreach_get(pixels)
    assert all(not i.is_float and i.colorspace_settings.name == "Non-Color" for i in images)
    np.testing.assert_array_equal(np.rint(pixels.reshape(6, 8, 4)[::-1, :, :3] * 255), texels[..., 3:6])


def test_a_failed_build_leaves_nothing_behind() -> None:
    from blender_addon import importer

    counts = (len(bpy.data.objects), len(bpy.data.meshes), len(bpy.data.images))
    with pytest.raises(ValueError), importer.rolled_back_on_error():
        bpy.data.objects.new("half", bpy.data.meshes.new("half"))
        bpy.data.images.new("half", 4, 4)
        raise ValueError("a build step failed")
    assert counts == (len(bpy.data.objects), len(bpy.data.meshes), len(bpy.data.images))
