"""Neural RTI core: MLIC data, classic PTM/HSH fits, neural models, metrics and file formats.

Pure Python (numpy, and torch for training); never imports bpy, so the Blender add-on can vendor it.
"""

__version__ = "0.1.0"
