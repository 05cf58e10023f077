"""Add-on preferences: the external Python that trains models (Blender's own Python has no PyTorch): the add-on's own
environment made by Set up Training, or one the user names."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import cast

import bpy
from bpy.props import EnumProperty, StringProperty

from . import training_env
from .core.errors import RTIError

PROJECT_VENV = Path(__file__).resolve().parent.parent / ".venv"
"""This project's environment, found when the add-on runs from a checkout of the repository."""


class RTI_Preferences(bpy.types.AddonPreferences):
    bl_idname = __package__  # the add-on's module name, whatever Blender installed it as

    python: StringProperty(  # type: ignore[valid-type]
        name="Python", subtype="FILE_PATH", default="",
        description="A Python 3 interpreter with torch, numpy, opencv and tqdm, for training (empty: the one Set up "
                    "Training made, else this project's .venv when the add-on runs from a checkout, else python3 on "
                    "the PATH)")

    build: EnumProperty(  # type: ignore[valid-type]
        name="PyTorch", default="cpu", description="Which PyTorch Set up Training installs",
        items=[("cpu", "CPU", "PyTorch's CPU build (about 1 GB installed)"),
               ("cuda", "CUDA", "PyTorch's NVIDIA GPU build (a 3 GB download, 5 GB installed); needs an NVIDIA GPU "
                        "and a driver for CUDA 13.0")])

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        assert layout is not None
        row = layout.row()
        row.operator("rti.setup_training", icon="CONSOLE")
        row.prop(self, "build")
        layout.prop(self, "python")
        try:
            layout.label(text=f"Training runs with {find_python(self.python)}", icon="CHECKMARK")
        except Exception as exc:  # any reason no interpreter was found is shown, never raised in a draw call
            layout.label(text=str(exc), icon="ERROR")


def addon_preferences(context: bpy.types.Context) -> RTI_Preferences | None:
    """The add-on's preferences, or None when the add-on is registered without being enabled, as in tests."""
    preferences = context.preferences
    addon = preferences.addons.get(__package__) if preferences is not None else None
    return cast(RTI_Preferences, addon.preferences) if addon is not None and addon.preferences is not None else None


def configured_python(context: bpy.types.Context) -> str:
    """The interpreter set in the preferences, or ""."""
    return getattr(addon_preferences(context), "python", "")


def environment_folder(create: bool = False) -> Path:
    """Where Set up Training puts the add-on's environment: the extension's own user folder (kept across updates of
    the extension); Blender's user configuration folder when the add-on is not installed as an extension."""
    try:
        base = bpy.utils.extension_path_user(__package__, create=create)
    except ValueError:  # a plain add-on (a checkout, the tests' registration)
        base = bpy.utils.user_resource("CONFIG", path="neural_rti", create=create)
    return Path(base) / training_env.NAME


def find_python(configured: str) -> Path:
    """The interpreter set in the preferences, else the add-on's own environment (Set up Training), else this
    project's ``.venv``, else ``python3`` on the PATH."""
    if configured.strip():
        path = Path(bpy.path.abspath(configured))
        if not path.is_file():
            raise RTIError(f"the Python set in the add-on preferences does not exist: {path}")
        return path
    own = training_env.installed(environment_folder())
    if own is not None:
        return own
    for candidate in (PROJECT_VENV / "bin" / "python", PROJECT_VENV / "Scripts" / "python.exe"):
        if candidate.is_file():
            return candidate
    found = shutil.which("python3") or shutil.which("python")
    if found is None:
        raise RTIError("no Python to train with: press Set up Training (RTI tab or the add-on preferences)")
    return Path(found)


classes = (RTI_Preferences,)
