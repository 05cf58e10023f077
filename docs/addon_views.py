"""Render the add-on's views kept in docs/: a model imported with ``rti.import_model`` and rendered by Cycles from
straight above at two positions of its light handle, side by side.

    PYTHONPATH=. .venv/bin/python docs/addon_views.py MODEL_FOLDER docs/addon_two_lights.png

The model's outputs are the display values it was trained on, so they are written to the PNG as they are.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import bpy
import numpy as np

import blender_addon
from blender_addon.orbit import frame_camera
from synth.pixels import read, write_png

LIGHTS = [(25.0, 180.0), (25.0, 45.0)]
"""(elevation, azimuth) degrees of the two views: grazing light from the left, then from the upper right."""


def main(model: str, out: str) -> None:
    blender_addon.register()
    scene = bpy.context.scene
    for obj in list(scene.objects):
        bpy.data.objects.remove(obj)
    bpy.ops.rti.import_model(filepath=model)
    plane = bpy.context.view_layer.objects.active
    scene.render.engine = "CYCLES"
    scene.cycles.samples, scene.cycles.use_denoising = 1, False
    scene.view_settings.view_transform = "Standard"
    scene.render.resolution_x = 320
    scene.render.image_settings.file_format = "OPEN_EXR"
    views = []
    with tempfile.TemporaryDirectory() as tmp:
        frame_camera(scene, plane)
        for k, (elevation, azimuth) in enumerate(LIGHTS):
            plane.rti_elevation, plane.rti_azimuth = elevation, azimuth
            scene.render.filepath = str(Path(tmp) / f"view_{k}.exr")
            bpy.ops.render.render(write_still=True)
            views.append(np.clip(read(scene.render.filepath)[..., :3], 0.0, 1.0))
    gap = np.ones((views[0].shape[0], 8, 3), dtype=np.float32)
    write_png(Path(out), np.concatenate([views[0], gap, views[1]], axis=1), 8)


if __name__ == "__main__":
    main(*sys.argv[1:3])
