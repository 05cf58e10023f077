"""The add-on's data on Blender's types: an RTI plane's light handle and light angles, the synthetic-render settings
of a scene, and the progress of the running job."""

from __future__ import annotations

from typing import Any

import bpy
from bpy.props import BoolProperty, EnumProperty, FloatProperty, IntProperty, StringProperty

from . import importer, views
from .synth import materials, relief
from .synth.spec import FORMATS, OWN, SPHERE_CHOICES


def _elevation(plane: bpy.types.Object) -> float:
    return importer.light_angles(plane)[0] if getattr(plane, "rti_handle", None) else 45.0


def _azimuth(plane: bpy.types.Object) -> float:
    if getattr(plane, "rti_handle", None) is None:
        return 0.0
    azimuth = importer.light_angles(plane)[1]
    return azimuth - 360.0 if azimuth > 180.0 else azimuth


def _set_elevation(plane: bpy.types.Object, value: float) -> None:
    if getattr(plane, "rti_handle", None) is not None:
        importer.aim(plane, value, _azimuth(plane))


def _set_azimuth(plane: bpy.types.Object, value: float) -> None:
    if getattr(plane, "rti_handle", None) is not None:
        importer.aim(plane, _elevation(plane), value)


def _sync_views(plane: bpy.types.Object, _context: bpy.types.Context) -> None:
    views.sync(plane)


def _items(names: tuple[str, ...]) -> list[tuple[str, str, str]]:
    return [(name, name.capitalize(), "") for name in names]


class RTI_SynthSettings(bpy.types.PropertyGroup):
    """What ``rti.render_mlic`` renders: the options of ``python -m synth``."""

    output: StringProperty(name="Output", subtype="DIR_PATH", default="//mlic",  # type: ignore[valid-type]
                           description="Folder to write the MLIC into (train/, test/, normals, mask)")
    overwrite: BoolProperty(name="Overwrite", default=False,  # type: ignore[valid-type]
                            description="Replace the output folder if it exists")
    use_active: BoolProperty(name="Active Object", default=False,  # type: ignore[valid-type]
                             description="Photograph the active object instead of a built-in relief")
    relief: EnumProperty(name="Relief", items=_items(relief.KINDS), default="bumps")  # type: ignore[valid-type]
    material: EnumProperty(name="Material", items=_items((*materials.PRESETS, OWN)),  # type: ignore[valid-type]
                           default="stripes", description="Material preset ('own' keeps the active object's)")
    size: IntProperty(name="Size", default=128, min=8, max=8192,  # type: ignore[valid-type]
                      description="Image width and height in pixels")
    seed: IntProperty(name="Seed", default=0, min=0)  # type: ignore[valid-type]
    train_lights: StringProperty(name="Train Lights", default="synthrti",  # type: ignore[valid-type]
                                 description="synthrti, fibonacci:N, random:N or an .lp file")
    test_lights: StringProperty(name="Test Lights", default="synthrti",  # type: ignore[valid-type]
                                description="As the train lights, or none")
    samples: IntProperty(name="Samples", default=4, min=1, max=4096)  # type: ignore[valid-type]
    format: EnumProperty(name="Format", items=_items(tuple(FORMATS)), default="png")  # type: ignore[valid-type]
    spheres: EnumProperty(name="Spheres", items=_items(SPHERE_CHOICES), default="none",  # type: ignore[valid-type]
                          description="Calibration spheres in the frame's top corners (their place: scene.json)")


class RTI_TrainSettings(bpy.types.PropertyGroup):
    """What ``rti.train`` trains: an MLIC folder into a model folder."""

    mlic: StringProperty(name="MLIC", subtype="DIR_PATH", default="//mlic",  # type: ignore[valid-type]
                         description="Folder of light images with their dirs.lp (e.g. a rendered MLIC's train/)")
    output: StringProperty(name="Output", subtype="DIR_PATH", default="//model",  # type: ignore[valid-type]
                           description="Folder to write teacher/ and student/ into")
    overwrite: BoolProperty(name="Overwrite", default=False)  # type: ignore[valid-type]
    time_budget: FloatProperty(name="Time Budget (s)", default=0.0, min=0.0,  # type: ignore[valid-type]
                               description="Stop with the best model so far after this many seconds (0: no limit)")


class RTI_Job(bpy.types.PropertyGroup):
    """The running job's progress, for the panel's progress bar."""

    running: BoolProperty(default=False)  # type: ignore[valid-type]
    progress: FloatProperty(default=0.0, min=0.0, max=1.0, subtype="FACTOR")  # type: ignore[valid-type]
    status: StringProperty(default="")  # type: ignore[valid-type]
    warning: StringProperty(default="")  # type: ignore[valid-type]
    """The last job's warnings, one a line (a trained model below HSH3 at the held-out lights)."""


classes = (RTI_SynthSettings, RTI_TrainSettings, RTI_Job)


def _properties() -> list[tuple[type, str, Any]]:
    """(Blender type, attribute, property) of everything the add-on stores on Blender's own types."""
    props: Any = bpy.props  # the stubs say these return None; Blender's return deferred properties
    return [
        (bpy.types.Object, "rti_handle", props.PointerProperty(type=bpy.types.Object, name="RTI Light Handle",
                                                         description="The Empty whose position relights this plane")),
        (bpy.types.Object, "rti_elevation", props.FloatProperty(
            name="Elevation", min=0.0, max=90.0, get=_elevation, set=_set_elevation,
            description="Light elevation above the plane, in degrees")),
        (bpy.types.Object, "rti_azimuth", props.FloatProperty(
            name="Azimuth", min=-180.0, max=180.0, get=_azimuth, set=_set_azimuth,
            description="Light azimuth from the image's right toward its top, in degrees")),
        (bpy.types.Object, "rti_view", props.EnumProperty(
            name="View", items=views.VIEW_ITEMS, default="RELIT", update=_sync_views,
            description="What the plane shows of its models")),
        (bpy.types.Object, "rti_specular_exponent", props.FloatProperty(
            name="Exponent", default=40.0, min=1.0, max=1000.0, soft_max=200.0, update=_sync_views,
            description="Specular enhancement: how tight the highlight is (Blinn-Phong exponent)")),
        (bpy.types.Object, "rti_specular_strength", props.FloatProperty(
            name="Strength", default=0.5, min=0.0, max=10.0, soft_max=2.0, update=_sync_views,
            description="Specular enhancement: how bright the highlight is")),
        (bpy.types.Object, "rti_diffuse_gain", props.FloatProperty(
            name="Gain", default=2.0, min=0.0, max=20.0, soft_max=8.0, update=_sync_views,
            description="Diffuse gain: how much the shading's curvature around the normal is scaled (1: unchanged)")),
        (bpy.types.Scene, "rti_synth", props.PointerProperty(type=RTI_SynthSettings)),
        (bpy.types.Scene, "rti_train", props.PointerProperty(type=RTI_TrainSettings)),
        (bpy.types.WindowManager, "rti_job", props.PointerProperty(type=RTI_Job)),
    ]


def register() -> None:
    """Attach the properties (after ``classes`` are registered: the pointers need them)."""
    for owner, name, prop in _properties():
        setattr(owner, name, prop)


def unregister() -> None:
    for owner, name, _ in _properties():
        delattr(owner, name)
