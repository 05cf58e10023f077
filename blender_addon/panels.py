"""The "RTI" tab of the 3D viewport's sidebar: models and their light, the running job, rendering and training."""

from __future__ import annotations

import textwrap
from typing import Any, cast

import bpy

from . import importer, lighting, training_env
from .operators import rti_plane
from .relief import MODIFIER, RELIEF
from .preferences import configured_python, environment_folder


class Sidebar(bpy.types.Panel):
    """Where every RTI panel lives: the 3D viewport's sidebar, tab "RTI"."""

    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "RTI"


class RTI_PT_main(Sidebar):
    bl_label = "Neural RTI"

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        assert layout is not None
        layout.operator("rti.import_model", icon="IMPORT")
        job = getattr(context.window_manager, "rti_job")
        if job.running:
            layout.progress(factor=job.progress, type="BAR", text=job.status or "Working…")
            layout.label(text="Esc cancels", icon="INFO")
        elif job.status:
            layout.label(text=job.status)
        made: Any = context.active_object  # custom properties: the stubs type ``get`` as returning None
        modifier = None if made is None or made.get(RELIEF) is None else made.modifiers.get(MODIFIER)
        if modifier is not None:
            layout.box().prop(modifier, "strength", text="Relief strength")
        plane = rti_plane(context)
        if plane is None:
            return
        box = layout.box()
        box.label(text=f"Light: {lighting.mover(plane).name}", icon="LIGHT_SUN")
        box.prop(plane, "rti_elevation", slider=True)
        box.prop(plane, "rti_azimuth", slider=True)
        box.operator("rti.render_light_orbit", icon="RENDER_ANIMATION")
        if lighting.sun(plane) is None:
            box.operator("rti.use_sun", icon="LIGHT_SUN")
        box = layout.box()
        box.prop(plane, "rti_view")
        view = getattr(plane, "rti_view")
        if view == "SPECULAR":
            box.prop(plane, "rti_specular_exponent", slider=True)
            box.prop(plane, "rti_specular_strength", slider=True)
        elif view == "DIFFUSE_GAIN":
            box.prop(plane, "rti_diffuse_gain", slider=True)
        box = layout.box()
        box.label(text="Models", icon="MATERIAL")
        current = importer.shown(plane)
        for index, material in enumerate(cast(bpy.types.Mesh, plane.data).materials):
            op = box.operator("rti.show_model", text=material.name if material else "(empty)",
                              depress=index == current)
            setattr(op, "index", index)
        op = box.operator("rti.import_model", text="Add Model to This Plane", icon="ADD")
        setattr(op, "add_to_active", True)
        box.operator("rti.add_pbr", icon="SHADING_RENDERED")
        box.operator("rti.add_relief", icon="MOD_DISPLACE")


class RTI_PT_synth(Sidebar):
    bl_label = "Synthetic MLIC"
    bl_parent_id = "RTI_PT_main"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        assert layout is not None
        settings = getattr(context.scene, "rti_synth")
        layout.use_property_split = True
        for name in ("output", "overwrite", "use_active", "relief", "material", "size", "seed", "train_lights",
                     "test_lights", "samples", "format", "spheres"):
            row = layout.row()
            row.prop(settings, name)
            if name == "relief":
                row.enabled = not settings.use_active
        layout.operator("rti.render_mlic", icon="RENDER_STILL")


class RTI_PT_train(Sidebar):
    bl_label = "Training"
    bl_parent_id = "RTI_PT_main"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        assert layout is not None
        settings = getattr(context.scene, "rti_train")
        layout.use_property_split = True
        layout.operator("rti.lights_from_spheres", icon="LIGHT_SUN")
        for name in ("mlic", "output", "overwrite", "time_budget"):
            layout.prop(settings, name)
        layout.operator("rti.train", icon="PLAY")
        if not configured_python(context) and training_env.installed(environment_folder()) is None:
            layout.operator("rti.setup_training", icon="CONSOLE")
        warning = getattr(context.window_manager, "rti_job").warning
        if warning:
            box = layout.box()
            lines = [part for text in warning.splitlines() for part in textwrap.wrap(text, 42)]
            for k, line in enumerate(lines):
                box.label(text=line, icon="ERROR" if k == 0 else "BLANK1")


classes = (RTI_PT_main, RTI_PT_synth, RTI_PT_train)
