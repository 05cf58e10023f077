"""The neural decoder rearranged for Blender shader nodes, and a numpy twin of what those nodes compute.

Shader nodes have no matrices, so the add-on builds each layer three output units at a time from Mapping nodes (each
3×3 block of weights as a rotation, a scale and a rotation: :func:`mapping`), and ELU from
``max(x, 0) + exp(min(x, 0))``, which is ELU + 1. This module prepares the weights for that arithmetic, so the node
builder only wires numbers it is given:

- the code planes' dequantisation (texel · scale + offset) is folded into the first layer, so the node tree reads
  8-bit planes and float codes alike;
- the +1 each ELU node adds is folded into the next layer's biases;
- the light's (lx, ly) are the last two inputs of the first layer, as in the model.

:func:`evaluate` runs the prepared layers exactly as the nodes do; tests compare it with :func:`core.neural.model.decode`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .model import CODE_SIZE, Layer


@dataclass(frozen=True)
class Dense:
    """One layer as the nodes compute it: ``inputs @ weights + bias``, then ELU + 1 when ``elu``.

    ``weights`` is (inputs, outputs), so column j holds what output unit j multiplies its inputs by.
    """

    weights: np.ndarray
    bias: np.ndarray
    elu: bool

    @property
    def triples(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(weights (inputs, 3), bias (3,)) of each group of three output units, the last padded with zeros."""
        width = self.weights.shape[1]
        padded = -(-width // 3) * 3
        weights = np.zeros((self.weights.shape[0], padded))
        weights[:, :width] = self.weights
        bias = np.zeros(padded)
        bias[:width] = self.bias
        return [(weights[:, k : k + 3], bias[k : k + 3]) for k in range(0, padded, 3)]


def plan(layers: list[Layer], scale: np.ndarray | None = None, offset: np.ndarray | None = None) -> list[Dense]:
    """The decoder's three layers ready for nodes whose code inputs are ``texel · scale + offset`` (per channel, (9,);
    default: the inputs are the codes themselves)."""
    scale = np.ones(CODE_SIZE) if scale is None else np.asarray(scale, dtype=np.float64)
    offset = np.zeros(CODE_SIZE) if offset is None else np.asarray(offset, dtype=np.float64)
    (w1, b1), (w2, b2), (w3, b3) = ((np.asarray(w, np.float64), np.asarray(b, np.float64)) for w, b in layers)
    first = w1.T.copy()
    first[:CODE_SIZE] *= scale[:, None]
    return [
        Dense(first, b1 + w1[:, :CODE_SIZE] @ offset, elu=True),
        Dense(w2.T.copy(), b2 - w2.sum(axis=1), elu=True),
        Dense(w3.T.copy(), b3 - w3.sum(axis=1), elu=False),
    ]


@dataclass(frozen=True)
class Mapping:
    """A 3×3 matrix as two Mapping nodes (Point type: rotate(scale · v) + location): ``second(scale · first(v))``,
    each rotation given as Blender's XYZ Euler angles in radians."""

    first: np.ndarray
    scale: np.ndarray
    second: np.ndarray

    @property
    def matrix(self) -> np.ndarray:
        return euler_matrix(self.second) @ np.diag(self.scale) @ euler_matrix(self.first)


def mapping(matrix: np.ndarray) -> Mapping:
    """``matrix`` (3, 3) as rotation · scale · rotation, from its singular value decomposition; a reflection goes into
    a negative scale, since Euler angles make only proper rotations."""
    u, s, vt = np.linalg.svd(np.asarray(matrix, dtype=np.float64))
    if np.linalg.det(u) < 0:
        u[:, -1], s[-1] = -u[:, -1], -s[-1]
    if np.linalg.det(vt) < 0:
        vt[-1], s[-1] = -vt[-1], -s[-1]
    return Mapping(euler_angles(vt), s, euler_angles(u))


def euler_matrix(angles: np.ndarray) -> np.ndarray:
    """The rotation of XYZ Euler angles (radians): Rz · Ry · Rx, as Blender composes them."""
    (cx, cy, cz), (sx, sy, sz) = np.cos(angles), np.sin(angles)
    return np.array([[cy * cz, sx * sy * cz - cx * sz, cx * sy * cz + sx * sz],
                     [cy * sz, sx * sy * sz + cx * cz, cx * sy * sz - sx * cz],
                     [-sy, sx * cy, cx * cy]])


def euler_angles(rotation: np.ndarray) -> np.ndarray:
    """XYZ Euler angles (radians) of a rotation matrix, the inverse of :func:`euler_matrix`."""
    y = np.arcsin(np.clip(-rotation[2, 0], -1.0, 1.0))
    if abs(rotation[2, 0]) < 1.0 - 1e-12:
        return np.array([np.arctan2(rotation[2, 1], rotation[2, 2]), y, np.arctan2(rotation[1, 0], rotation[0, 0])])
    return np.array([0.0, y, np.arctan2(-rotation[0, 1], rotation[1, 1])])  # gimbal lock: x and z turn alike


def evaluate(dense: list[Dense], codes: np.ndarray, light: np.ndarray) -> np.ndarray:
    """RGB (P, 3) of the node inputs ``codes`` (P, 9) under ``light`` (its lx, ly): the nodes' arithmetic in float64."""
    x = np.empty((len(codes), CODE_SIZE + 2))
    x[:, :CODE_SIZE] = codes
    x[:, CODE_SIZE:] = np.asarray(light, dtype=np.float64)[:2]
    for layer in dense:
        x = x @ layer.weights + layer.bias
        if layer.elu:
            x = np.maximum(x, 0.0) + np.exp(np.minimum(x, 0.0))
    return x
