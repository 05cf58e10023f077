"""The "RTI" tab of the 3D viewport's sidebar."""

from __future__ import annotations

import bpy


class RTI_PT_main(bpy.types.Panel):
    bl_label = "Neural RTI"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "RTI"

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        assert layout is not None
        layout.operator("rti.import_model", icon="IMPORT")
        handle = getattr(context.active_object, "rti_handle", None)
        if handle is not None:
            box = layout.box()
            box.label(text=f"Light: {handle.name}", icon="LIGHT_SUN")
            box.operator("rti.aim_light")


classes = (RTI_PT_main,)


def register() -> None:
    for cls in classes:
        bpy.utils.register_class(cls)


def unregister() -> None:
    for cls in reversed(classes):
        bpy.utils.unregister_class(cls)
