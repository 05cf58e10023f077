"""The Neural RTI Blender extension: import RTI models as real-time relightable materials.

Modules: ``neural_nodes`` / ``classic_nodes`` build a model's node group, ``material`` wires it to textures and a
light handle, ``importer`` puts a model in a scene, ``operators`` and ``panels`` are the user's way in, ``imageio``
lets ``core`` read images without OpenCV. ``core`` and ``synth`` are this repository's packages, vendored into the
extension when it is built.
"""

from __future__ import annotations

from . import imageio, operators, panels

modules = (imageio, operators, panels)


def register() -> None:
    for module in modules:
        module.register()


def unregister() -> None:
    for module in reversed(modules):
        module.unregister()
