"""What users see in Blender: the demo's .blend, opened and rendered as it is, through Blender's colour management to
an 8-bit PNG, shows each model's image as ``core relight`` writes it (neural, PTM and HSH materials)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import build
from core.capture import analytic, images
from core.capture.lights import from_angles
from core.classic import fitting
from core.cli import main
from core.formats import models
from core.neural.model import NeuralRTI, decode
from core.quality import metrics

from .conftest import bpy_script_finished, random_model

pytest.importorskip("bpy")

ROOT = Path(__file__).resolve().parents[1]

RENDER_AS_OPENED = """
import json, sys
import bpy
import blender_addon
from blender_addon import importer

blend, out = sys.argv[1:3]
blender_addon.register()
bpy.ops.wm.open_mainfile(filepath=blend)
scene = bpy.context.scene
plane = next(o for o in scene.objects if getattr(o, "rti_handle", None) is not None)
views = []
for index, slot in enumerate(plane.material_slots):
    importer.show(plane, index)
    scene.render.filepath = f"{out}/model_{index}.png"
    bpy.ops.render.render(write_still=True)
    views.append({"material": slot.material.name, "angles": importer.light_angles(plane)})
settings = scene.view_settings
views.append({"view": [settings.view_transform, settings.look, settings.exposure, settings.gamma],
              "format": [scene.render.image_settings.file_format, scene.render.image_settings.color_depth]})
print("VIEWS " + json.dumps(views))
"""
"""Opens a .blend, renders each model of its RTI plane with the file's own settings (only the output path set), and
reports each model's light and the file's colour management."""


def displayable_student(width: int, size: tuple[int, int]) -> NeuralRTI:
    """A random decoder scaled so that its outputs span most of [0, 1], as a trained model's do."""
    model = random_model(width, size=size)
    w3, b3 = model.layers[2]
    flat = decode(model.codes.reshape(-1, 9), model.layers, np.array([0.0, 0.0, 1.0]))
    gain = 0.8 / (flat.max() - flat.min())
    model.layers[2] = (w3 * gain, (b3 - flat.min()) * gain + 0.1)
    return model


def test_the_demo_blend_renders_what_core_relight_writes(tmp_path: Path) -> None:
    """build.py's demo.blend script on small models (student, teacher, HSH3, PTM of one 32×32 capture), then the
    file as a user opens it: Blender's default colour management is AgX, which must have become Standard, and every
    model's 8-bit render must match ``core relight`` at the handle's light (dither included)."""
    train, _ = analytic.scene(32, seed=2)
    paths = {"student": tmp_path / "student", "teacher": tmp_path / "teacher", "hsh3": tmp_path / "hsh3",
             "ptm": tmp_path / "capture.ptm"}
    models.save(displayable_student(20, (32, 32)), paths["student"])
    models.save(displayable_student(50, (32, 32)), paths["teacher"])
    models.save(fitting.fit(train, "hsh3"), paths["hsh3"])
    models.save(fitting.fit(train, "ptm"), paths["ptm"])
    blend = tmp_path / "demo.blend"
    made = subprocess.run([sys.executable, "-c", build.DEMO_BLEND, *map(str, paths.values()), str(blend)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert bpy_script_finished(made, "wrote"), made.stderr[-3000:]
    shown = subprocess.run([sys.executable, "-c", RENDER_AS_OPENED, str(blend), str(tmp_path)], cwd=ROOT,
                           capture_output=True, text=True, timeout=300)
    assert bpy_script_finished(shown, "VIEWS "), shown.stderr[-3000:]
    *views, settings = json.loads(next(line for line in shown.stdout.splitlines() if line.startswith("VIEWS "))[6:])
    assert settings == {"view": ["Standard", "None", 0.0, 1.0], "format": ["PNG", "8"]}
    assert [v["material"] for v in views] == ["student", "teacher", "hsh3", "capture"]
    for index, (view, path) in enumerate(zip(views, paths.values())):
        light = from_angles([view["angles"][0]], [view["angles"][1]])[0]
        assert main(["relight", str(path), "--light", *map(str, light), "-o", str(tmp_path / f"core_{index}.png"),
                     "-q"]) == 0
        expected = images.read_image(tmp_path / f"core_{index}.png")
        rendered = images.read_image(tmp_path / f"model_{index}.png")
        assert metrics.psnr(expected, rendered) >= 40, (view["material"], metrics.psnr(expected, rendered))
