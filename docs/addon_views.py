"""Render the add-on's views kept in docs/: a model imported with ``rti.import_model`` and rendered by Cycles from
straight above, side by side: at two positions of its light handle (``lights``), or in its relit, normals,
specular-enhancement and diffuse-gain views under one light (``views``).

    PYTHONPATH=. .venv/bin/python docs/addon_views.py MODEL_FOLDER docs/addon_two_lights.png lights
    PYTHONPATH=. .venv/bin/python docs/addon_views.py MODEL_FOLDER docs/addon_view_modes.png views

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

SHOTS = {
    "lights": [(25.0, 180.0, "RELIT"), (25.0, 45.0, "RELIT")],
    "views": [(30.0, 135.0, "RELIT"), (30.0, 135.0, "NORMALS"), (30.0, 135.0, "SPECULAR"),
              (30.0, 135.0, "DIFFUSE_GAIN")],
}
"""(elevation, azimuth, view) of each picture: grazing light from the left, then from the upper right; or the four
views under light from the upper left."""


def main(model: str, out: str, shots: str = "lights") -> None:
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
        for k, (elevation, azimuth, view) in enumerate(SHOTS[shots]):
            plane.rti_elevation, plane.rti_azimuth, plane.rti_view = elevation, azimuth, view
            scene.render.filepath = str(Path(tmp) / f"view_{k}.png")
            bpy.ops.render.render(write_still=True)
            views.append(images.read_image(scene.render.filepath))
    gap = np.full((views[0].shape[0], 8, 3), 255, dtype=np.uint8)
    images.write_image(out, np.concatenate([part for view in views for part in (gap, view)][1:], axis=1))


if __name__ == "__main__":
    main(*sys.argv[1:4])
