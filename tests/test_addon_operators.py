"""The add-on's operators through bpy.ops: importing model folders and files, bad input, aiming the light."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from core import models
from core.classic import ClassicRTI

from .test_neural import random_model

bpy = pytest.importorskip("bpy")
import blender_addon  # noqa: E402  (needs bpy)


@pytest.fixture(scope="module", autouse=True)
def addon() -> Iterator[None]:
    blender_addon.register()
    yield
    blender_addon.unregister()


def test_import_a_neural_folder(tmp_path: Path) -> None:
    model = random_model(20, size=(12, 18))
    models.save(model, tmp_path / "student")
    before = set(bpy.data.objects)
    assert bpy.ops.rti.import_model(filepath=str(tmp_path / "student" / "info.json")) == {"FINISHED"}
    plane = bpy.context.view_layer.objects.active
    handle = plane.rti_handle
    assert set(bpy.data.objects) - before == {plane, handle} and plane.name == "student"
    xs = [v.co.x for v in plane.data.vertices]
    assert max(xs) - min(xs) == pytest.approx(2 * 18 / 12)
    images = [n.image for n in plane.active_material.node_tree.nodes if n.type == "TEX_IMAGE"]
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
    assert len([n for n in plane.active_material.node_tree.nodes if n.type == "TEX_IMAGE"]) == 6


@pytest.mark.parametrize(("name", "message"), [("missing", "no such model"), ("notes.txt", "not a model")])
def test_bad_input_is_reported_and_changes_nothing(tmp_path: Path, name: str, message: str) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    counts = (len(bpy.data.objects), len(bpy.data.materials), len(bpy.data.images), len(bpy.data.node_groups))
    with pytest.raises(RuntimeError, match=message):
        bpy.ops.rti.import_model(filepath=str(tmp_path / name))
    assert counts == (len(bpy.data.objects), len(bpy.data.materials), len(bpy.data.images), len(bpy.data.node_groups))
