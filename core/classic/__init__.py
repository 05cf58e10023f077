"""Classic RTI: PTM and HSH bases and their per-pixel least-squares fits."""
