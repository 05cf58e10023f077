"""Render the relief picture kept in docs/: a capture's photo under its lowest light, beside Add Relief's mesh lit by a
Sun lamp from the same direction (Cycles, cast shadows included), and the height map.

    PYTHONPATH=. .venv/bin/python -m synth --out /tmp/scene --size 256 --relief basrelief --material matte --depth 0.2
    PYTHONPATH=. .venv/bin/python docs/relief_render.py /tmp/scene docs/relief_render.png

The model is the capture's HSH3 fit with the capture's robust normals in its folder (which the add-on's views use).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import bpy
import numpy as np

import blender_addon
from blender_addon import importer, lighting
from core.capture import images, lights, splits
from core.classic import fitting
from core.formats import models
from core.surface import maps, photometric, relief


def main(scene_folder: str, out: str) -> None:
    train = splits.load_part(scene_folder, "train")
    low = int(np.argmin(lights.elevation(train.lights)))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "hsh3"
        models.save(fitting.fit(train, "hsh3"), folder)
        surface = photometric.from_mlic(train, "robust")
        maps.write_normals(folder / maps.NORMALS_NAME, surface.normals)
        blender_addon.register()
        scene = bpy.context.scene
        for obj in list(scene.objects):
            bpy.data.objects.remove(obj)
        bpy.ops.rti.import_model(filepath=str(folder / "info.json"))
        plane = bpy.context.view_layer.objects.active
        lighting.add_sun(plane, scene)
        importer.aim(plane, float(lights.elevation(train.lights[low:low + 1])[0]),
                     float(lights.azimuth(train.lights[low:low + 1])[0]))
        bpy.ops.rti.add_pbr()
        bpy.ops.rti.add_relief()
        world = bpy.data.worlds.new("RTI black")
        world.color = (0.0, 0.0, 0.0)
        for node in world.node_tree.nodes if world.node_tree else ():
            if node.type == "BACKGROUND":
                node.inputs["Strength"].default_value = 0.0
        scene.world = world
        scene.render.engine = "CYCLES"
        scene.cycles.samples, scene.cycles.use_denoising = 64, False
        scene.render.image_settings.file_format, scene.render.image_settings.color_mode = "PNG", "RGB"
        scene.render.filepath = str(Path(tmp) / "relief.png")
        bpy.ops.render.render(write_still=True)
        rendered = images.read_image(scene.render.filepath)
    heights = relief.integrate(surface.normals, train.mask).heights
    shade = (heights - heights.min()) / max(float(np.ptp(heights)), 1e-9)
    height_map = np.repeat(np.rint(shade * 255).astype(np.uint8)[..., None], 3, axis=2)
    photo = train.images[low]
    photo = photo if photo.dtype == np.uint8 else (photo >> 8).astype(np.uint8)
    gap = np.full((photo.shape[0], 8, 3), 255, dtype=np.uint8)
    images.write_image(out, np.concatenate([photo, gap, rendered[: photo.shape[0], : photo.shape[1]], gap,
                                            height_map], axis=1))
    print(f"wrote {out}: photo at {lights.elevation(train.lights[low:low + 1])[0]:.0f}° elevation, the relief "
          "under a Sun from there, the height map")


if __name__ == "__main__":
    main(*sys.argv[1:3])
