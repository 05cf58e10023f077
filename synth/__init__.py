"""Synthetic MLICs rendered with Blender (bpy): SynthRTI-style scenes with known ground truth.

The renderer arrives with the synth issue; light patterns and MLIC writing already live in ``core``.
"""
