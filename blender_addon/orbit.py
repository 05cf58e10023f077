"""``rti.render_light_orbit``: the active RTI plane's light circling once at one elevation, keyframed over the
scene's frames and rendered as the scene's output settings say (an image sequence or a movie).

Batch relighting from a saved .blend with a model imported::

    blender -b scene.blend --python-expr "import bpy; bpy.ops.rti.render_light_orbit(elevation=30, frames=72)"

The orbit stays keyframed in the file, so ``blender -b scene.blend -a`` renders it again.
"""

from __future__ import annotations

from typing import cast

import bpy
from bpy.props import BoolProperty, FloatProperty, IntProperty

from . import importer
from .lighting import mover
from .operators import Status, rti_plane


def orbit_azimuths(frames: int) -> list[float]:
    """Azimuths in degrees of one turn over ``frames`` frames, starting at 0 (image right), without repeating it."""
    return [360.0 * k / frames for k in range(frames)]


def keyframe_orbit(scene: bpy.types.Scene, plane: bpy.types.Object, elevation: float, frames: int) -> None:
    """Key the plane's handle (or its Sun) at every frame from the scene's start, and end the scene's range with the
    orbit."""
    handle = mover(plane)
    handle.animation_data_clear()
    start = scene.frame_start
    for k, azimuth in enumerate(orbit_azimuths(frames)):
        importer.aim(plane, elevation, azimuth)
        handle.keyframe_insert("location", frame=start + k)
    scene.frame_end = start + frames - 1
    scene.frame_set(start)


class RTI_OT_render_light_orbit(bpy.types.Operator):
    """Circle the active RTI plane's light once at one elevation and render the animation (adds a camera looking at
    the plane when the scene has none)"""

    bl_idname = "rti.render_light_orbit"
    bl_label = "Render Light Orbit"
    bl_options = {"REGISTER", "UNDO"}

    elevation: FloatProperty(name="Elevation", default=30.0, min=0.0, max=90.0)  # type: ignore[valid-type]
    frames: IntProperty(name="Frames", default=72, min=2, max=10000)  # type: ignore[valid-type]
    render: BoolProperty(name="Render", default=True,  # type: ignore[valid-type]
                         description="Render the animation to the scene's output path (off: only keyframe it)")

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return rti_plane(context) is not None

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> Status:
        wm = context.window_manager
        assert wm is not None
        return cast(Status, wm.invoke_props_dialog(self))

    def execute(self, context: bpy.types.Context) -> Status:
        scene, plane = context.scene, rti_plane(context)
        assert scene is not None and plane is not None
        if scene.camera is None:
            importer.frame_camera(scene, plane)
        keyframe_orbit(scene, plane, self.elevation, self.frames)
        if not self.render:
            return {"FINISHED"}
        if context.window is not None:
            bpy.ops.render.render("INVOKE_DEFAULT", animation=True)  # the render window, with its progress and Esc
        else:
            bpy.ops.render.render(animation=True, scene=scene.name)
            self.report({"INFO"}, f"rendered {self.frames} frames to {bpy.path.abspath(scene.render.filepath)}")
        return {"FINISHED"}


classes = (RTI_OT_render_light_orbit,)
