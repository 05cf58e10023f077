"""The Neural RTI Blender extension: import RTI models as real-time relightable materials.

The add-on arrives with its own issue; it will vendor ``core`` and ``synth`` when packaged.
"""
