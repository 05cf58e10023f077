"""Synthetic MLICs rendered with Blender: SynthRTI-style scenes with known normals, albedo and mask.

Pure parts (no bpy): :mod:`relief` (height fields), :mod:`materials` (presets and layouts), :mod:`spec` (what a scene
is). Blender parts: :mod:`scene` (builds it), :mod:`renderer` (renders it one image per step), :mod:`pixels` (Blender
images to and from numpy), :mod:`cli`.
"""
