"""Operators: import a model (``rti.import_model``) and aim its light handle."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import bpy
from bpy.props import FloatProperty, StringProperty
from bpy_extras.io_utils import ImportHelper

from . import importer
from .core import models
from .core.errors import RTIError

Status = set[Literal["RUNNING_MODAL", "CANCELLED", "FINISHED", "PASS_THROUGH", "INTERFACE"]]


class RTI_OT_import_model(bpy.types.Operator, ImportHelper):  # type: ignore[misc]  # the stubs disagree
    """Import an RTI model (neural or PTM/HSH folder, .ptm or .rti file) as a relightable plane with a light handle"""

    bl_idname = "rti.import_model"
    bl_label = "Import RTI Model"
    bl_options = {"REGISTER", "UNDO"}

    filename_ext = ""
    filter_glob: StringProperty(default="*.json;*.ptm;*.rti", options={"HIDDEN"})  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> Status:
        path = Path(getattr(self, "filepath"))
        try:
            model = models.load(path)
        except RTIError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        scene = context.scene
        assert scene is not None
        name = (path.parent if path.name == "info.json" else path).stem or "RTI"
        plane, handle = importer.add_model(scene, model, name)
        setattr(plane, "rti_handle", handle)
        for obj in context.selected_objects:
            obj.select_set(False)
        plane.select_set(True)
        view_layer = context.view_layer
        if view_layer is not None:
            view_layer.objects.active = plane
        self.report({"INFO"}, f"imported {name}: {model.width}×{model.height}, drag '{handle.name}' to relight")
        return {"FINISHED"}


class RTI_OT_aim_light(bpy.types.Operator):
    """Place the active RTI plane's light handle at an elevation and azimuth"""

    bl_idname = "rti.aim_light"
    bl_label = "Aim RTI Light"
    bl_options = {"REGISTER", "UNDO"}

    elevation: FloatProperty(name="Elevation", default=45.0, min=0.0, max=90.0)  # type: ignore[valid-type]
    azimuth: FloatProperty(name="Azimuth", default=0.0, min=-180.0, max=180.0)  # type: ignore[valid-type]

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return getattr(context.active_object, "rti_handle", None) is not None

    def execute(self, context: bpy.types.Context) -> Status:
        importer.aim(getattr(context.active_object, "rti_handle"), self.elevation, self.azimuth)
        return {"FINISHED"}


classes = (RTI_OT_import_model, RTI_OT_aim_light)


def register() -> None:
    handle = bpy.props.PointerProperty(  # type: ignore[func-returns-value]  # stubs: returns None
        type=bpy.types.Object, name="RTI light handle", description="The Empty whose position relights this plane")
    setattr(bpy.types.Object, "rti_handle", handle)
    for cls in classes:
        bpy.utils.register_class(cls)


def unregister() -> None:
    for cls in reversed(classes):
        bpy.utils.unregister_class(cls)
    delattr(bpy.types.Object, "rti_handle")
