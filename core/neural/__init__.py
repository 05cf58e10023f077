"""Neural RTI: networks, training settings, batches, the training loop, distillation and the numpy model."""
