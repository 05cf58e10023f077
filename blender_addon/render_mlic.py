"""``rti.render_mlic``: render a synthetic MLIC with synth from the scene's RTI settings, one light per step, in a
scene of its own (the user's scenes are left as they were)."""

from __future__ import annotations

import bpy

from .core.errors import RTIError
from .jobs import JobOperator, absolute_folder
from .synth.renderer import MLICRender
from .synth.spec import SceneSpec


class RenderJob:
    """An :class:`MLICRender` as a :class:`jobs.Job`."""

    def __init__(self, render: MLICRender):
        self.render = render
        self.progress = 0.0
        self.status = "building the scene"
        self.warnings: list[str] = []

    def start(self) -> None:
        self.render.start()

    def step(self) -> bool:
        if not self.render.done:
            self.status = f"rendered {self.render.step()}"
            self.progress = self.render.position / self.render.total
        return self.render.done

    def finish(self, context: bpy.types.Context) -> str:
        path = self.render.finish()
        settings = getattr(context.scene, "rti_train", None)
        if settings is not None:
            settings.mlic = str(path)
        return f"rendered {self.render.total - 1} light images into {path}"

    def cancel(self) -> None:
        self.render.cancel()


def spec_from(settings: bpy.types.PropertyGroup) -> SceneSpec:
    return SceneSpec(size=getattr(settings, "size"), relief=getattr(settings, "relief"),
                     material=getattr(settings, "material"), seed=getattr(settings, "seed"),
                     train_lights=getattr(settings, "train_lights"), test_lights=getattr(settings, "test_lights"),
                     samples=getattr(settings, "samples"), format=getattr(settings, "format"),
                     spheres=getattr(settings, "spheres"))


class RTI_OT_render_mlic(JobOperator):
    """Render a synthetic multi-light image collection (a relief or the active object under many lights)"""

    bl_idname = "rti.render_mlic"
    bl_label = "Render MLIC"

    def make_job(self, context: bpy.types.Context) -> RenderJob:
        settings = getattr(context.scene, "rti_synth")
        source = None
        if settings.use_active:
            source = context.active_object
            if source is None or source.type != "MESH":
                raise RTIError("'Active Object' is on, but the active object is not a mesh")
        render = MLICRender(spec_from(settings), absolute_folder(settings.output), settings.overwrite, source)
        return RenderJob(render)


classes = (RTI_OT_render_mlic,)
