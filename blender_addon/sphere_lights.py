"""``rti.lights_from_spheres``: the light file of a folder of photos read from the reflective spheres in them, by
``python -m core lights`` in the external Python that trains (Blender's has no OpenCV); the preview it draws is packed
into the .blend as the image "spheres_preview.png", and the folder becomes the Training panel's MLIC."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import bpy
from bpy.props import BoolProperty, StringProperty

from .core.errors import RTIError
from .jobs import absolute_folder
from .operators import Status
from .preferences import configured_python, find_python
from .training import environment

PREVIEW = "spheres_preview.png"
LP_NAME = "dirs.lp"


def calibrate(python: Path, folder: Path, preview: Path, spheres: str, drop_bad: bool, overwrite: bool) -> str:
    """Run ``python -m core lights`` on ``folder``, drawing ``preview``: its summary line (an ``RTIError`` with its
    one-line error otherwise; nothing is written then)."""
    command = [str(python), "-m", "core", "lights", str(folder), "-o", str(folder / LP_NAME), "--preview",
               str(preview), "--force"]
    for circle in filter(None, (part.strip() for part in spheres.split(";"))):
        command += ["--sphere", circle]
    if (folder / LP_NAME).exists() and not overwrite:
        raise RTIError(f"{folder / LP_NAME}: already exists (tick Overwrite to replace it)")
    command += ["--drop-bad"] * drop_bad
    done = subprocess.run(command, env=environment(), capture_output=True, text=True)
    if done.returncode:
        lines = (done.stderr.strip() or done.stdout.strip() or f"exit status {done.returncode}").splitlines()
        raise RTIError(lines[-1].removeprefix("error: "))
    return done.stdout.strip().splitlines()[-1]


class RTI_OT_lights_from_spheres(bpy.types.Operator):
    """Write the dirs.lp of a folder of photos from the reflective spheres in them, show where each highlight was
    found, and make the folder the one to train on"""

    bl_idname = "rti.lights_from_spheres"
    bl_label = "Lights from Spheres"
    bl_options = {"REGISTER"}

    directory: StringProperty(name="Photos", subtype="DIR_PATH")  # type: ignore[valid-type]
    spheres: StringProperty(  # type: ignore[valid-type]
        name="Spheres", default="", description="Circles X,Y,R in pixels separated by ';' (empty: find them)")
    drop_bad: BoolProperty(name="Leave Out Bad Images", default=False)  # type: ignore[valid-type]
    overwrite: BoolProperty(name="Overwrite dirs.lp", default=False)  # type: ignore[valid-type]

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> Status:
        wm = context.window_manager
        assert wm is not None
        wm.fileselect_add(self)
        return {"RUNNING_MODAL"}

    def execute(self, context: bpy.types.Context) -> Status:
        with tempfile.TemporaryDirectory() as scratch:
            preview = Path(scratch) / PREVIEW
            try:
                folder = absolute_folder(self.directory)
                summary = calibrate(find_python(configured_python(context)), folder, preview, self.spheres,
                                    self.drop_bad, self.overwrite)
            except RTIError as exc:
                self.report({"ERROR"}, str(exc))
                return {"CANCELLED"}
            old = bpy.data.images.get(PREVIEW)
            if old is not None:
                bpy.data.images.remove(old)
            image = bpy.data.images.load(str(preview))
            image.pack()
        setattr(getattr(context.scene, "rti_train"), "mlic", str(folder))
        self.report({"INFO"}, f"{summary}; preview: image '{image.name}'; the folder is set for Training")
        return {"FINISHED"}


classes = (RTI_OT_lights_from_spheres,)
