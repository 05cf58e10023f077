"""Render a synthetic MLIC one image per step, so a Blender modal operator can show progress and cancel.

    job = MLICRender(spec, "out/scene")      # checks everything first: bad input fails before any rendering
    job.start()
    while not job.done:
        label = job.step()                   # ground truth, then one light image per step
    job.finish()                             # or job.cancel(): nothing is left behind

:func:`render` runs a job to the end. Output (SynthRTI's layout with our names): ``train/`` and ``test/`` (images and
``dirs.lp``), ``normals.png`` (16-bit, n = v/65535·2 − 1 in the lights' frame), ``height.exr`` (the true heights in
pixel widths), ``mask.png``, ``albedo.png`` (the surface's base colour, sRGB) and ``scene.json`` (every parameter, the seed and the Blender version). A mask with
pixels outside the object is also copied into ``train/`` and ``test/``, where training and evaluation pick it up.
In SynthRTI's own layout (``layout="synthrti"``) the parts are ``Dome/`` and ``Test/`` and the images ``image01``...
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import bpy
import numpy as np

from core.atomic import Staged
from core.capture import lp
from core.errors import RTIError

from core.capture.images import linear_to_srgb
from core.surface.relief import TRUE_HEIGHT_NAME as HEIGHT_NAME
from .pixels import read, write_exr, write_png
from .scene import HEIGHT_OFFSET, Stage, cycles_settings
from .spec import FORMATS, OWN, SceneSpec

MASK_NAME = "mask.png"
"""As in core.capture.mlic, which needs OpenCV: Blender's Python has numpy but not OpenCV."""
PART_FOLDERS = {"ours": {"train": "train", "test": "test"}, "synthrti": {"train": "Dome", "test": "Test"}}
"""Folder of each part, per output layout."""


class MLICRender:
    """One scene rendered into ``out`` (atomically: the folder appears only when :meth:`finish` completes)."""

    def __init__(self, spec: SceneSpec, out: Path | str, force: bool = False,
                 source: bpy.types.Object | None = None, layout: str = "ours"):
        spec.check()
        if spec.material == OWN and source is None:
            raise RTIError("material 'own' keeps an object's materials: give an object to photograph")
        self.spec, self.source, self.layout = spec, source, layout
        self.folders = PART_FOLDERS[layout]
        self.lights = spec.lights()
        self.ext = FORMATS[spec.format]
        self.tasks: list[tuple[str, int]] = [("truth", 0)] + [
            (part, i) for part, directions in self.lights.items() for i in range(len(directions))]
        self.position = 0
        self.staged = Staged(out, force)
        for part in self.lights:
            (self.staged.tmp / self.folders[part]).mkdir()
        self.stage: Stage | None = None
        self.full_mask = True
        self.started = time.monotonic()

    @property
    def total(self) -> int:
        return len(self.tasks)

    @property
    def done(self) -> bool:
        return self.position >= len(self.tasks)

    def start(self) -> None:
        """Build the Blender scene (a scene of its own; the user's scenes are not touched)."""
        self.started = time.monotonic()
        try:
            self.stage = Stage(self.spec, self.source)
        except BaseException:
            self.cancel()
            raise

    def step(self) -> str:
        """Render the next image; returns what it was (e.g. ``train/image_012.png``)."""
        assert self.stage is not None, "start() first"
        part, index = self.tasks[self.position]
        try:
            if part == "truth":
                self._truth()
                label = "normals, mask and albedo"
            else:
                label = f"{self.folders[part]}/{self.name(index)}"
                self.stage.aim(self.lights[part][index])
                self.stage.render(self.staged.tmp / label, self.spec.format)
        except BaseException:
            self.cancel()
            raise
        self.position += 1
        return label

    def finish(self) -> Path:
        """Write the light files and ``scene.json`` and move the folder into place."""
        assert self.done, "every step must run before finish()"
        try:
            tmp = self.staged.tmp
            for part, directions in self.lights.items():
                folder = tmp / self.folders[part]
                lp.write_lp(folder / lp.LP_NAME, [self.name(i) for i in range(len(directions))], directions)
                if not self.full_mask:
                    shutil.copyfile(tmp / MASK_NAME, folder / MASK_NAME)
            (tmp / "scene.json").write_text(json.dumps(self.record(), indent=1))
            self.staged.commit()
        finally:
            self.cancel()
        return self.staged.path

    def cancel(self) -> None:
        """Remove the Blender scene and the partial output (safe to call more than once)."""
        if self.stage is not None:
            self.stage.remove()
            self.stage = None
        self.staged.discard()

    def name(self, index: int) -> str:
        return f"image{index + 1:02d}{self.ext}" if self.layout == "synthrti" else f"image_{index:03d}{self.ext}"

    def record(self) -> dict:
        """What ``scene.json`` holds: the spec, the lights, the material set and how it was rendered."""
        spec = self.spec
        record = {
            "spec": spec.to_json(),
            "blender": bpy.app.version_string,
            "renderer": {**cycles_settings(spec), "view_transform": "Standard",
                         "encoding": "linear" if spec.format == "exr" else "sRGB",
                         "light": "point" if spec.near_field else "sun, angle 0"},
            "materials": None if spec.material == OWN else spec.material_set().to_json(),
            "lights": {part: directions.round(9).tolist() for part, directions in self.lights.items()},
            "parts": self.folders,
            "normals": "normals.png: 16-bit RGB, n = v / 65535 * 2 - 1 (x right, y up, z to the camera); "
                       "(0, 0, 0) outside the mask",
            "albedo": "albedo.png: each face's Principled base colour, sRGB-encoded 8-bit (textures ignored)",
            "mask": "mask.png: 255 where the surface covers the pixel",
            "height": f"{HEIGHT_NAME}: 32-bit float, the height the camera sees at each pixel in pixel widths (1.0 = "
                      "one pixel's width; the frame's centre plane at 0), 0 outside the mask",
            "spheres": spec.sphere_layout(),
            "render_seconds": round(time.monotonic() - self.started, 2),
        }
        if spec.near_field is not None:
            record["light_positions"] = {part: spec.light_positions(d).round(9).tolist()  # type: ignore[union-attr]
                                         for part, d in self.lights.items()}
        return record

    def _truth(self) -> None:
        """Render the normals, albedo and height passes as float EXR and write the files the benchmark ships."""
        assert self.stage is not None
        scratch = self.staged.tmp / ".passes"
        scratch.mkdir()
        passes = {}
        for name in ("normals", "albedo", "height"):
            self.stage.render(scratch / f"{name}.exr", "exr", override=name)
            passes[name] = read(scratch / f"{name}.exr")
        shutil.rmtree(scratch)
        alpha = passes["normals"][..., 3]
        inside = alpha > 0.5
        self.full_mask = bool(inside.all())
        covered = np.maximum(alpha, 1e-6)[..., None]
        normals = passes["normals"][..., :3] / covered * 2.0 - 1.0
        normals /= np.maximum(np.linalg.norm(normals, axis=-1, keepdims=True), 1e-9)
        normals[~inside] = 0.0
        albedo = linear_to_srgb(np.clip(passes["albedo"][..., :3] / covered, 0.0, 1.0))
        albedo[~inside] = 0.0
        heights = (passes["height"][..., 0] / covered[..., 0] - HEIGHT_OFFSET) * self.spec.size / 2.0
        write_exr(self.staged.tmp / HEIGHT_NAME, np.where(inside, heights, 0.0))
        write_png(self.staged.tmp / "normals.png", normals * 0.5 + 0.5, 16)
        write_png(self.staged.tmp / "albedo.png", albedo, 8)
        write_png(self.staged.tmp / MASK_NAME, np.repeat(inside[..., None], 3, axis=2).astype(np.float32), 8)


def render(spec: SceneSpec, out: Path | str, force: bool = False, source: bpy.types.Object | None = None,
           report: Callable[[int, int, str], None] | None = None, layout: str = "ours") -> Path:
    """Render a whole scene; ``report(done, total, label)`` after every image."""
    job = MLICRender(spec, out, force, source, layout)
    job.start()
    while not job.done:
        label = job.step()
        if report is not None:
            report(job.position, job.total, label)
    return job.finish()
