"""Capture: the MLIC (images, light directions, mask), light files and patterns, train/test splits, and light
directions read from reflective spheres."""
