"""Neural model folders: OpenLIME's ``type: "neural"`` contract, plus a lossless copy of the codes.

A folder holds ``info.json``, ``plane_1.jpg`` … ``plane_3.jpg`` (the 9 code channels min/max-quantised to 8 bits,
three per image, stored as RGB rather than JPEG's usual YCbCr so that the channels are not mixed) and
``codes.npy`` (the float32 codes, for exact relighting and for the Blender importer). The decoder's weights are
written as OpenLIME reads them (row-major (out, in), every row and the hidden width zero-padded to a multiple of 4,
``samples`` = the hidden width); JSON keeps float32 weights exactly.
Folders from other exporters are read too: unpadded weights, ``plane_0..2`` names, ``colorspace: "bgr"``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..atomic import output_dir
from ..capture import lights as light_utils
from ..errors import RTIError
from ..neural.model import CODE_SIZE, Layer, NeuralRTI, Planes, dequantize_codes, quantize_codes
from . import deepzoom, infojson

LOSSLESS_CODES = "codes.npy"
QUALITY = 100
"""JPEG quality of the code planes, stored as RGB: lower qualities cost held-out PSNR that a viewer's user sees
(docs/experiments.md, "Code planes as RGB JPEGs")."""
INPUTS = CODE_SIZE + 2
"""Decoder inputs: the code and (lx, ly); OpenLIME pads them to 12 with a zero."""


def pad4(n: int) -> int:
    return -(-n // 4) * 4


def _padded(matrix: np.ndarray, rows: int, cols: int) -> list[float]:
    out = np.zeros((rows, cols), dtype=np.float32)
    out[: matrix.shape[0], : matrix.shape[1]] = matrix
    return out.ravel().tolist()


def write(model: NeuralRTI, folder: Path | str, quality: int = QUALITY, force: bool = False,
          layout: str = "image", quiet: bool = True) -> None:
    """Write ``model`` as an OpenLIME neural folder with its lossless codes; planes tiled with ``layout="deepzoom"``;
    ``quiet=False`` shows progress over the plane images."""
    texels, lo, hi = quantize_codes(model.codes)
    n = pad4(model.hidden)
    (w1, b1), (w2, b2), (w3, b3) = model.layers
    info = {
        "type": "neural",
        "format": "jpg",
        "quality": quality,
        "width": model.width,
        "height": model.height,
        "planes": CODE_SIZE,
        "samples": model.hidden,
        "colorspace": "rgb",
        "colorprofile": "sRGB",
        "min": lo.tolist(),
        "max": hi.tolist(),
        "weights": [_padded(w1, n, INPUTS + 1), _padded(w2, n, n), _padded(w3, 3, n)],
        "biases": [_padded(b1[None], 1, n), _padded(b2[None], 1, n), b3.astype(np.float32).tolist()],
        "lossless_codes": LOSSLESS_CODES,
        "training": model.training,
    }
    if model.lights is not None:
        info["lights"] = np.round(model.lights, 6).ravel().tolist()
    with output_dir(folder, force=force) as tmp:
        for k in tqdm(range(3), desc="writing planes", unit="image", disable=quiet or None, leave=False):
            deepzoom.write_plane(tmp, f"plane_{k + 1}", texels[..., 3 * k : 3 * k + 3], "jpg", quality, keep_rgb=True,
                                 layout=layout)
        np.save(tmp / LOSSLESS_CODES, np.asarray(model.codes, dtype=np.float32))  # no copy of float32 codes
        (tmp / "info.json").write_text(json.dumps(info))


def read(folder: Path | str, info: dict, codes: str = "lossless") -> NeuralRTI:
    """Read a neural folder whose parsed ``info.json`` is ``info``.

    ``codes`` is "lossless" (``codes.npy`` when the folder has it, else the planes) or "planes" (the 8-bit planes,
    exactly what OpenLIME displays).
    """
    folder = Path(folder)
    path = folder / "info.json"
    width, height = infojson.size(info, path)
    if infojson.colorprofile(info, path) != "sRGB":
        raise RTIError(f"{path}: neural decoders of linear colour are not supported (colorprofile sRGB is)")
    lo = infojson.numbers(info.get("min"), path, "min", CODE_SIZE)
    hi = infojson.numbers(info.get("max"), path, "max", CODE_SIZE)
    weights, biases = info.get("weights"), info.get("biases")
    if not (isinstance(weights, list) and isinstance(biases, list) and len(weights) == len(biases) == 3):
        raise RTIError(f"{path}: weights and biases must be lists of 3 arrays")
    weights = [infojson.numbers(w, path, "weights").astype(np.float32) for w in weights]
    biases = [infojson.numbers(b, path, "biases").astype(np.float32) for b in biases]
    bgr = info.get("colorspace", "rgb") == "bgr"
    layers = _layers(weights, biases, info.get("samples"), folder)
    if bgr:
        (w3, b3) = layers[2]
        layers[2] = (w3[::-1].copy(), b3[::-1].copy())
    lossless = folder / LOSSLESS_CODES
    if codes == "lossless" and lossless.is_file():
        try:
            values = np.load(lossless, allow_pickle=False)
        except (OSError, ValueError, EOFError) as exc:
            raise RTIError(f"{lossless}: unreadable codes ({exc})") from None
        if values.shape != (height, width, CODE_SIZE):
            raise RTIError(f"{lossless}: expected codes of shape {(height, width, CODE_SIZE)}, got {values.shape}")
        planes = None
        values = values.astype(np.float32)
    else:
        planes = Planes(_read_planes(folder, width, height, bgr), lo, hi)
        values = dequantize_codes(planes.texels, lo, hi)
    lights = light_utils.from_flat(info.get("lights"), str(path))
    return NeuralRTI(values, layers, lights, infojson.mapping(info.get("training"), path, "training"), planes=planes)


def _layers(weights: list[np.ndarray], biases: list[np.ndarray], samples: object, folder: Path) -> list[Layer]:
    """The three (W, b) layers, unpadded to the hidden width, from padded (OpenLIME) or plain arrays."""
    first = len(weights[0])
    if first % (INPUTS + 1) == 0 and (n := first // (INPUTS + 1)) % 4 == 0 and len(weights[1]) == n * n:
        cols = INPUTS + 1
    elif first % INPUTS == 0 and len(weights[1]) == (n := first // INPUTS) ** 2:
        cols = INPUTS
    else:
        raise RTIError(f"{folder / 'info.json'}: decoder weights of {first} values fit no hidden width")
    if len(weights[2]) != 3 * n or len(biases[0]) < n or len(biases[1]) < n or len(biases[2]) != 3:
        raise RTIError(f"{folder / 'info.json'}: decoder layer sizes disagree (hidden width {n})")
    hidden = n
    if isinstance(samples, int) and 0 < samples <= n and pad4(samples) == n:
        hidden = samples
    w1 = weights[0].reshape(n, cols)[:hidden, :INPUTS]
    w2 = weights[1].reshape(n, n)[:hidden, :hidden]
    w3 = weights[2].reshape(3, n)[:, :hidden]
    return [(w1.copy(), biases[0][:hidden].copy()), (w2.copy(), biases[1][:hidden].copy()), (w3.copy(), biases[2])]


def _read_planes(folder: Path, width: int, height: int, bgr: bool) -> np.ndarray:
    """The 8-bit code texels (H, W, 9) from plane_1..3.jpg (OpenLIME's names) or plane_0..2.jpg (older exporters),
    or their deep-zoom tiles."""
    first = 0 if deepzoom.plane_exists(folder, "plane_0", "jpg") else 1
    texels = np.empty((height, width, CODE_SIZE), dtype=np.uint8)
    for k in range(3):
        file = folder / f"plane_{first + k}.jpg"
        plane = deepzoom.read_plane(folder, f"plane_{first + k}", "jpg")
        if plane.shape[:2] != (height, width) or plane.dtype != np.uint8:
            raise RTIError(f"{file}: expected an 8-bit {width}x{height} plane")
        texels[..., 3 * k : 3 * k + 3] = plane[..., ::-1] if bgr else plane
    return texels
