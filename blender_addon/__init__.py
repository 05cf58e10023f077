"""The Neural RTI Blender extension: import RTI models as real-time relightable materials.

Modules: ``neural_nodes`` / ``classic_nodes`` build a model's node group, ``material`` wires it to textures and a
light handle, ``importer`` puts models on a plane in a scene. The user's way in: ``operators`` (import, aim, switch
models; ``views`` and ``lighting`` for analysis views, a Sun and a PBR material; ``relief`` for a 3D relief from
the normals), ``render_mlic``, ``training`` and
``view_maps`` (long jobs run by ``jobs``), ``sphere_lights`` (an .lp from spheres), ``orbit`` (batch relighting),
``panels``, ``properties`` and ``preferences``. ``imageio`` lets ``core`` read images without OpenCV. ``core`` and
``synth`` are this repository's packages, vendored into the extension when it is built.
"""

from __future__ import annotations

import bpy

from . import (imageio, operators, orbit, panels, preferences, properties, relief, render_mlic, sphere_lights,
               training, view_maps)

modules = (imageio, properties, preferences, operators, relief, render_mlic, training, sphere_lights, orbit,
           view_maps, panels)
"""In registration order. Each lists its Blender classes in ``classes``; a module with more to set up (properties
on Blender's types, the image decoder) also has ``register``/``unregister`` hooks, run after its classes are
registered and before they are unregistered."""


def register() -> None:
    for module in modules:
        for cls in module.classes:
            bpy.utils.register_class(cls)
        if hasattr(module, "register"):
            module.register()


def unregister() -> None:
    for module in reversed(modules):
        if hasattr(module, "unregister"):
            module.unregister()
        for cls in reversed(module.classes):
            bpy.utils.unregister_class(cls)
