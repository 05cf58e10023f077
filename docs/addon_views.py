"""Render the add-on's views kept in docs/: a model imported with ``rti.import_model`` and rendered by Cycles from
straight above at two positions of its light handle, side by side.

    PYTHONPATH=. .venv/bin/python docs/addon_views.py MODEL_FOLDER docs/addon_two_lights.png

Each view is an 8-bit PNG render through the scene's colour management, as a user sees it: the import sets the
Standard view transform and, the scene being empty, adds a camera that renders the model pixel for pixel.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import bpy
import numpy as np

import blender_addon
from core.capture import images

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
    scene.render.image_settings.file_format, scene.render.image_settings.color_mode = "PNG", "RGB"
    views = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, (elevation, azimuth) in enumerate(LIGHTS):
            plane.rti_elevation, plane.rti_azimuth = elevation, azimuth
            scene.render.filepath = str(Path(tmp) / f"view_{k}.png")
            bpy.ops.render.render(write_still=True)
            views.append(images.read_image(scene.render.filepath))
    gap = np.full((views[0].shape[0], 8, 3), 255, dtype=np.uint8)
    images.write_image(out, np.concatenate([views[0], gap, views[1]], axis=1))


if __name__ == "__main__":
    main(*sys.argv[1:3])
