"""The built extension zip: Blender's validator accepts it, and installed into a throwaway user folder it imports a
trained student, a PTM and an HSH model that Cycles renders as numpy relights them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from core.classic.fitting import ClassicRTI
from core.formats import models

from .conftest import assert_emits, random_model

pytest.importorskip("bpy")

ROOT = Path(__file__).resolve().parents[1]
LIGHTS = [(30.0, 90.0), (60.0, -135.0)]

SCRIPT = """
import json, sys
import bpy
zip_path, model, out = sys.argv[1:4]
bpy.ops.extensions.package_install_files(filepath=zip_path, repo="user_default", enable_on_install=True)
import bl_ext.user_default.neural_rti as addon
scene = bpy.context.scene
scene.render.engine = "CYCLES"
scene.cycles.samples = 1
scene.cycles.use_denoising = False
scene.cycles.pixel_filter_type = "BOX"
scene.cycles.filter_width = 0.01
scene.view_settings.view_transform = "Standard"
scene.render.image_settings.file_format = "OPEN_EXR"
scene.render.image_settings.color_depth = "32"
for obj in list(scene.objects):
    bpy.data.objects.remove(obj)
bpy.ops.rti.import_model(filepath=model)
plane = bpy.context.view_layer.objects.active
xs = [v.co.x for v in plane.data.vertices]
w, h = max(xs) - min(xs), 2.0
camera = bpy.data.objects.new("camera", bpy.data.cameras.new("camera"))
camera.data.type = "ORTHO"
camera.data.ortho_scale = max(w, h)
camera.location = (0, 0, 5)
scene.collection.objects.link(camera)
scene.camera = camera
lights = json.loads(sys.argv[4])
scene.render.resolution_x, scene.render.resolution_y = lights["size"]
for k, (elevation, azimuth) in enumerate(lights["angles"]):
    bpy.ops.rti.aim_light(elevation=elevation, azimuth=azimuth)
    scene.render.filepath = f"{out}/render_{k}.exr"
    bpy.ops.render.render(write_still=True)
print("ADDON", addon.__name__)
"""


def test_the_zip_vendors_core_and_synth_without_path_hacks(extension: Path) -> None:
    with zipfile.ZipFile(extension) as archive:
        names = set(archive.namelist())
        sources = {n: archive.read(n).decode() for n in names if n.endswith(".py")}
        pins = archive.read("requirements-core.txt").decode()  # what Set up Training installs: core's own pins
    assert {"blender_manifest.toml", "core/neural/nodeplan.py", "synth/renderer.py", "importer.py"} <= names
    assert "core/neural/train.py" in names  # the training operator runs the add-on's own trainer in an external Python
    assert pins == (ROOT / "requirements-core.txt").read_text() and "torch==" in pins
    assert not any(n.startswith(("synth/cli.py", "synth/render.py", "tests/")) for n in names)
    assert not any("sys.path" in text or "from core" in text for text in sources.values())


def save_model(kind: str, folder: Path) -> Path:
    """A trained-looking model of each kind the add-on imports: a student folder, a .ptm and an HSH .rti file."""
    rng = np.random.default_rng(3)
    if kind == "student":
        models.save(random_model(20, size=(10, 14)), folder / "student")
        return folder / "student" / "info.json"
    method, path = ("ptm", folder / "capture.ptm") if kind == "ptm" else ("hsh3", folder / "capture.rti")
    terms = 6 if method == "ptm" else 9
    models.save(ClassicRTI(method, rng.normal(0.2, 0.3, (terms, 10, 14, 3)).astype(np.float32)), path)
    return path


@pytest.mark.parametrize("kind", ["student", "ptm", "hsh"])
def test_installed_extension_imports_and_renders(tmp_path: Path, extension: Path, kind: str) -> None:
    path = save_model(kind, tmp_path)
    (tmp_path / "script.py").write_text(SCRIPT)
    env = {**os.environ, "BLENDER_USER_RESOURCES": str(tmp_path / "blender")}
    lights = {"size": [14, 10], "angles": LIGHTS}
    done = subprocess.run([sys.executable, str(tmp_path / "script.py"), str(extension), str(path), str(tmp_path),
                           json.dumps(lights)], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0 and "ADDON bl_ext.user_default.neural_rti" in done.stdout, done.stderr[-3000:]
    from synth.pixels import read as read_exr

    model = models.load(path)  # as stored: .ptm and .rti files hold 8-bit coefficients
    for k, (elevation, azimuth) in enumerate(LIGHTS):
        e, a = np.radians(elevation), np.radians(azimuth)
        light = np.array([np.cos(e) * np.cos(a), np.cos(e) * np.sin(a), np.sin(e)])
        image = read_exr(tmp_path / f"render_{k}.exr")[..., :3]
        assert_emits(image, model.relight(light))
