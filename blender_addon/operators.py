"""Operators for looking at models: import one (``rti.import_model``), aim its light, show another model of the
same plane."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, cast

import bpy
from bpy.props import BoolProperty, FloatProperty, IntProperty, StringProperty
from bpy_extras.io_utils import ImportHelper

from . import importer, lighting
from .core.errors import RTIError
from .core.formats import models

Status = set[Literal["RUNNING_MODAL", "CANCELLED", "FINISHED", "PASS_THROUGH", "INTERFACE"]]


class RTI_OT_import_model(bpy.types.Operator, ImportHelper):  # type: ignore[misc]  # the stubs disagree
    """Import an RTI model (neural or PTM/HSH folder, .ptm or .rti file) as a relightable plane with a light handle"""

    bl_idname = "rti.import_model"
    bl_label = "Import RTI Model"
    bl_options = {"REGISTER", "UNDO"}

    filename_ext = ""
    filter_glob: StringProperty(default="*.json;*.ptm;*.rti", options={"HIDDEN"})  # type: ignore[valid-type]
    add_to_active: BoolProperty(  # type: ignore[valid-type]
        name="Add to Active Plane", default=False,
        description="Add the model to the active RTI plane (same capture) to compare models under one light")

    def execute(self, context: bpy.types.Context) -> Status:
        path = Path(getattr(self, "filepath"))
        name = (path.parent if path.name == "info.json" else path).stem or "RTI"
        scene = context.scene
        assert scene is not None
        training = path.parent if path.name == "train.json" else path
        if (training / "train.json").is_file() and not self.add_to_active:
            try:
                trained, shown = importer.add_training(scene, training)
            except RTIError as exc:
                self.report({"ERROR"}, str(exc))
                return {"CANCELLED"}
            return self._imported(context, trained, f"imported {training.name}: {shown}")
        try:
            model = models.load(path)
            if self.add_to_active:
                plane = rti_plane(context)
                if plane is None:
                    raise RTIError("the active object is not an RTI plane to add a model to")
                importer.add_to_plane(plane, model, name, path)
            else:
                plane, _ = importer.add_model(scene, model, name, path)
        except RTIError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        handle = getattr(plane, "rti_handle")
        return self._imported(context, plane, f"imported {name}: {model.width}×{model.height}, drag '{handle.name}' "
                              "to relight")

    def _imported(self, context: bpy.types.Context, plane: bpy.types.Object, message: str) -> Status:
        """Select the new plane, show the models' colours as they are, and say what was imported."""
        for obj in context.selected_objects:
            obj.select_set(False)
        plane.select_set(True)
        view_layer = context.view_layer
        if view_layer is not None:
            view_layer.objects.active = plane
        scene = context.scene
        assert scene is not None
        replaced = importer.use_standard_view(scene)
        if replaced is not None:
            message += f"; colour management set to Standard (was {replaced}) to show the model's colours as they are"
        self.report({"INFO"}, message)
        return {"FINISHED"}


class PlaneOperator(bpy.types.Operator):
    """An operator on the active RTI plane: available only when the active object is one."""

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return rti_plane(context) is not None


class RTI_OT_aim_light(PlaneOperator):
    """Place the active RTI plane's light handle at an elevation and azimuth"""

    bl_idname = "rti.aim_light"
    bl_label = "Aim RTI Light"
    bl_options = {"REGISTER", "UNDO"}

    elevation: FloatProperty(name="Elevation", default=45.0, min=0.0, max=90.0)  # type: ignore[valid-type]
    azimuth: FloatProperty(name="Azimuth", default=0.0, min=-180.0, max=180.0)  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> Status:
        plane = rti_plane(context)
        assert plane is not None
        importer.aim(plane, self.elevation, self.azimuth)
        return {"FINISHED"}


class RTI_OT_show_model(PlaneOperator):
    """Show another of the active RTI plane's models (student, teacher, PTM, HSH…) under the same light"""

    bl_idname = "rti.show_model"
    bl_label = "Show RTI Model"
    bl_options = {"REGISTER", "UNDO"}

    index: IntProperty(name="Model", default=0, min=0)  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> Status:
        plane = rti_plane(context)
        assert plane is not None
        try:
            importer.show(plane, self.index)
        except RTIError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        return {"FINISHED"}


class RTI_OT_use_sun(PlaneOperator):
    """Light the active RTI plane with a Sun lamp: moving it relights the models and shades the PBR material"""

    bl_idname = "rti.use_sun"
    bl_label = "Use a Sun Lamp as the Light"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context: bpy.types.Context) -> Status:
        plane, scene = rti_plane(context), context.scene
        assert plane is not None and scene is not None
        lamp = lighting.add_sun(plane, scene)
        self.report({"INFO"}, f"move '{lamp.name}' to relight '{plane.name}'")
        return {"FINISHED"}


class RTI_OT_add_pbr(PlaneOperator):
    """Add a PBR material (the shown model's albedo and normals in a Principled BSDF) to the active RTI plane and show
    it: Blender's own lights shade it"""

    bl_idname = "rti.add_pbr"
    bl_label = "Add PBR Material"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context: bpy.types.Context) -> Status:
        plane = rti_plane(context)
        assert plane is not None
        shown = cast(bpy.types.Mesh, plane.data).materials[importer.shown(plane)]
        try:
            if shown is None:
                raise RTIError(f"'{plane.name}' shows no model")
            with importer.rolled_back_on_error():
                pbr = lighting.add_pbr(plane, shown)
                importer.show(plane, len(cast(bpy.types.Mesh, plane.data).materials) - 1)
        except RTIError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        self.report({"INFO"}, f"added '{pbr.name}': light it with the scene's lamps (Use a Sun Lamp as the Light)")
        return {"FINISHED"}


def rti_plane(context: bpy.types.Context) -> bpy.types.Object | None:
    """The active object when it is an RTI plane (it has a light handle)."""
    obj = context.active_object
    return obj if getattr(obj, "rti_handle", None) is not None else None


classes = (RTI_OT_import_model, RTI_OT_aim_light, RTI_OT_show_model, RTI_OT_use_sun, RTI_OT_add_pbr)
