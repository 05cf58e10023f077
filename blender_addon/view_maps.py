"""``rti.build_views``: the analysis views of a plane's models built as a job (progress, Esc), never freezing Blender.

A model imported from a file gets its views when a view other than relit is first chosen; their maps cost 27
relightings of the whole model, minutes at camera sizes in Blender's Python. With a training Python (Set up
Training, or one named in the preferences) the maps come from ``python -m core views`` there, on every core or the
GPU; without one they are made here, a tile of pixels per step. The materials keep showing the relit model until
their views exist; then the chosen view appears.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import bpy

from . import views
from .core.errors import RTIError
from .core.formats import models
from .core.surface import maps as surface_maps
from .core.surface import views as core_views
from .jobs import JobOperator
from .preferences import configured_python, environment_folder
from .training import environment
from .training_env import installed

STEP_SECONDS = 0.1
"""Work done in one step of the in-Blender maps before the interface gets its turn."""


def needing_views(plane: bpy.types.Object) -> list[bpy.types.Material]:
    """The plane's relight materials imported from a file whose views are not built yet."""
    found = []
    for material in views.plane_materials(plane):
        properties: Any = material  # custom properties: the stubs type ``get`` as returning None
        tree = material.node_tree
        built = tree is None or views.BRANCH.format("NORMALS") in tree.nodes
        if not built and properties.get("rti_source") is not None:
            found.append(material)
    return found


def training_python(context: bpy.types.Context) -> Path | None:
    """The Python that makes the maps fast: the one named in the preferences, else Set up Training's; None when
    neither exists (then Blender's own makes them)."""
    configured = configured_python(context).strip()
    if configured:
        path = Path(bpy.path.abspath(configured))
        return path if path.is_file() else None
    return installed(environment_folder())


class ViewsJob:
    """Build the views of ``materials`` one after the other, their maps made by ``python`` or, without one, here."""

    def __init__(self, plane: bpy.types.Object, materials: list[bpy.types.Material], python: Path | None):
        self.plane, self.materials, self.python = plane, list(materials), python
        self.total = len(materials)
        self.progress, self.status = 0.0, ""
        self.warnings: list[str] = []
        self.scratch = Path(tempfile.mkdtemp(prefix="rti-views-"))
        self.process: subprocess.Popen[str] | None = None
        self.lines: list[str] = []
        self.maps: core_views.ViewMaps | None = None
        self.part = 0.0

    def start(self) -> None:
        self._next()

    def _source(self) -> Path:
        properties: Any = self.materials[0]
        return Path(str(properties["rti_source"]))

    def _next(self) -> None:
        """Start on the first material left."""
        material = self.materials[0]
        self.status, self.part = f"views of {material.name}", 0.0
        source = self._source()
        if self.python is not None:
            command = [str(self.python), "-m", "core", "views", str(source), "-o", str(self.scratch / "maps.npz"),
                       "--progress", "jsonl", "--force"]
            with open(self.scratch / "errors.txt", "w") as errors:  # a file: a full pipe would stall the child
                self.process = subprocess.Popen(command, env=environment(), stdout=subprocess.PIPE, stderr=errors,
                                                text=True)
            threading.Thread(target=self._pump, args=(self.process,), daemon=True).start()
            return
        self.maps = core_views.ViewMaps(models.load(source), normals=surface_maps.folder_normals(source))

    def _pump(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.lines.append(line)

    def step(self) -> bool:
        material = self.materials[0]
        if self.maps is not None:
            until = time.monotonic() + STEP_SECONDS
            done = self.maps.step()  # a tile at least, then more while the step's time lasts
            while not done and time.monotonic() < until:
                done = self.maps.step()
            self.part = self.maps.progress
            if not done:
                return self._show()
            made = self.maps.views()
        else:
            assert self.process is not None
            records = [line for line in self.lines[-2:] if line.startswith("{")]
            if records:
                self.part = float(json.loads(records[-1]).get("progress", self.part))
            code = self.process.poll()
            if code is None:
                return self._show()
            if code != 0:
                errors = [line for line in (self.scratch / "errors.txt").read_text().splitlines() if line.strip()]
                raise RTIError(errors[-1] if errors else f"python -m core views failed (exit status {code})")
            made = core_views.load(self.scratch / "maps.npz")
        views.build_views(material, made, material.name)
        self.materials.pop(0)
        self.maps, self.process, self.lines = None, None, []
        if not self.materials:
            return True
        self._next()
        return False

    def _show(self) -> bool:
        done = self.total - len(self.materials) + self.part
        self.progress = done / self.total
        self.status = f"views of {self.materials[0].name}: {self.part:.0%}"
        return False

    def finish(self, context: bpy.types.Context) -> str:
        self._clean()
        views.sync(self.plane)
        return f"views built for {self.total} model{'s' if self.total > 1 else ''} of '{self.plane.name}'"

    def cancel(self) -> None:
        process = self.process
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        self._clean()

    def _clean(self) -> None:
        for file in self.scratch.glob("*"):
            file.unlink()
        if self.scratch.exists():
            self.scratch.rmdir()


class RTI_OT_build_views(JobOperator):
    """Build the analysis views (normals, specular, diffuse gain) of the active plane's models"""

    bl_idname = "rti.build_views"
    bl_label = "Build Views"
    _wait = 0.05

    def make_job(self, context: bpy.types.Context) -> ViewsJob:
        plane = context.active_object
        if plane is None or getattr(plane, "rti_handle", None) is None:
            raise RTIError("the active object is not an RTI plane")
        needed = needing_views(plane)
        if not needed:
            raise RTIError(f"the models of '{plane.name}' have their views already")
        return ViewsJob(plane, needed, training_python(context))


def request(plane: bpy.types.Object) -> bool:
    """Start building the views the plane's chosen view needs as a job; False where jobs cannot run (scripts,
    ``blender -b``, where the views are built at once) or one is already running."""
    state: Any = bpy.context.window_manager
    if bpy.app.background or state is None or state.rti_job.running or not needing_views(plane):
        return False

    def start() -> None:
        manager: Any = bpy.context.window_manager
        with bpy.context.temp_override(window=manager.windows[0], active_object=plane):
            getattr(bpy.ops, "rti").build_views("INVOKE_DEFAULT")

    bpy.app.timers.register(start, first_interval=0.0)
    return True


classes = (RTI_OT_build_views,)
