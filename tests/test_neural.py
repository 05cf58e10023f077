"""Neural models without training: decoder maths, the OpenLIME folder contract, reading other exporters' folders."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from core.capture import images
from core.errors import RTIError
from core.formats import models, neuralweb
from core.neural.model import BAND, NeuralRTI, decode, dequantize_codes, quantize_codes
from core.neural.nn import Architecture, Autoencoder, Decoder, Linear, decoder_parameters

from .conftest import random_model


def openlime_shader(folder: Path, light: np.ndarray) -> np.ndarray:
    """OpenLIME 1.2.6's neural layer, written from FORMATS.md alone: planes, min/max, padded row-major weights."""
    info = json.loads((folder / "info.json").read_text())
    n = -(-info["samples"] // 4) * 4
    texels = np.concatenate(
        [images.read_image(folder / f"plane_{k}.jpg").astype(np.float64) / 255.0 for k in (1, 2, 3)], axis=-1
    )
    lo, hi = np.array(info["min"]), np.array(info["max"])
    code = texels * (hi - lo) + lo
    x = np.concatenate([code, np.broadcast_to([light[0], light[1], 0.0], code.shape[:2] + (3,))], axis=-1)
    w1 = np.array(info["weights"][0]).reshape(n, 12)
    w2 = np.array(info["weights"][1]).reshape(n, n)
    w3 = np.array(info["weights"][2]).reshape(3, n)
    b1, b2, b3 = (np.array(b) for b in info["biases"])

    def elu(v: np.ndarray) -> np.ndarray:
        return np.where(v > 0, v, np.exp(np.minimum(v, 0)) - 1)

    h1 = elu(np.einsum("oi,hwi->hwo", w1, x) + b1)
    h2 = elu(np.einsum("oi,hwi->hwo", w2, h1) + b2)
    return np.einsum("oi,hwi->hwo", w3, h2) + b3


def test_relighting_needs_no_torch() -> None:
    """Blender has no PyTorch: loading and relighting neural folders, and the CLI's other commands, must not import it."""
    code = "import sys, core.cli, core.formats.models, core.formats.neuralweb; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1]).returncode == 0


def test_decoder_parameter_counts() -> None:
    assert decoder_parameters(20) == 723
    assert decoder_parameters(10) == 263
    assert decoder_parameters(50) == 3303
    assert sum(p.numel() for p in Decoder(20).parameters()) == 723


def test_numpy_decoder_matches_torch_decoder() -> None:
    torch.manual_seed(0)
    net = Decoder(13)
    codes = torch.randn(50, 9)
    light = torch.tensor([[0.3, -0.4], [0.0, 0.0]])
    expected = net(codes, light)[:, :, 0].detach().numpy()
    layers = [(w.detach().numpy(), b.detach().numpy()) for w, b in net.layers()]
    for i in range(2):
        got = decode(codes.numpy(), layers, np.array([*light[i].tolist(), 0.8]))
        np.testing.assert_allclose(got, expected[:, i], atol=1e-5)


def test_members_of_one_network_are_independent_networks() -> None:
    """Each member taken out computes what it computed inside the network, and a loss on one member's output
    moves no weight of another (the off-block weights get no gradient)."""
    torch.manual_seed(0)
    net = Autoencoder(5, Architecture((12, 8), 6), members=3)
    x, light, per_pixel = torch.rand(7, 15), torch.rand(4, 2), torch.rand(7, 2, 2)
    out = net(x, light)
    assert out.shape == (7, 4, 3, 3)
    for k in range(3):
        one = net.member(k)
        assert one.members == 1 and sum(p.numel() for p in one.decoder.parameters()) == decoder_parameters(6)
        torch.testing.assert_close(one(x, light)[:, :, 0], out[:, :, k], rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(one(x, per_pixel)[:, :, 0], net(x, per_pixel)[:, :, k], rtol=1e-5, atol=1e-6)
    out[:, :, 1].square().sum().backward()
    for layer in net.modules():
        if isinstance(layer, Linear):
            grad = layer.weight.grad
            assert grad is not None
            rows = grad.unflatten(0, (3, -1))
            assert float(rows[1].abs().sum()) > 0 and float(rows[0].abs().sum()) == float(rows[2].abs().sum()) == 0
            if layer.mask is not None:
                assert float((grad * (1 - layer.mask)).abs().sum()) == 0


@pytest.mark.parametrize("width", [10, 20, 50])
def test_openlime_shader_decodes_our_folder(tmp_path: Path, width: int) -> None:
    model = random_model(width)
    folder = tmp_path / "neural"
    neuralweb.write(model, folder, quality=95)
    info = json.loads((folder / "info.json").read_text())
    assert info["samples"] == width and info["planes"] == 9 and info["colorspace"] == "rgb"
    n = -(-width // 4) * 4
    assert [len(w) for w in info["weights"]] == [n * 12, n * n, 3 * n]
    assert [len(b) for b in info["biases"]] == [n, n, 3]
    for light in (np.array([0.0, 0.0, 1.0]), np.array([0.5, -0.3, 0.81])):
        shader = openlime_shader(folder, light)
        planes = models.load(folder, codes="planes").relight(light)
        np.testing.assert_allclose(shader, planes, atol=1e-4)
        exact = model.relight(light)
        # 8-bit JPEG codes against the float codes: within a few 8-bit levels per pixel, ~1 level on average
        error = np.abs(np.clip(shader, 0, 1) - np.clip(exact, 0, 1)) * 255
        assert error.mean() < 1.5, error.mean()


def test_code_planes_are_rgb_jpegs_that_keep_channels_apart(tmp_path: Path) -> None:
    """JPEG's YCbCr transform mixes the three code channels of a plane (up to 3 levels off at quality 100 on this
    model's codes); our planes store RGB, so every texel comes back within one level of its 8-bit code."""
    model = random_model(20, size=(48, 40))
    model.codes[..., 1] = np.random.default_rng(1).normal(size=model.codes.shape[:2])  # a channel unlike its neighbours
    neuralweb.write(model, tmp_path / "m")
    texels, _, _ = quantize_codes(model.codes)
    back = models.load(tmp_path / "m", codes="planes")
    assert isinstance(back, NeuralRTI) and back.planes is not None
    assert np.abs(back.planes.texels.astype(int) - texels).max() <= 1
    for k in range(3):  # the same planes as ordinary (YCbCr) JPEGs
        images.write_image(tmp_path / f"ycbcr_{k}.jpg", texels[..., 3 * k : 3 * k + 3], quality=100)
    ycbcr = np.concatenate([images.read_image(tmp_path / f"ycbcr_{k}.jpg") for k in range(3)], axis=-1)
    assert np.abs(ycbcr.astype(int) - texels).max() >= 3


def test_dequantized_codes_equal_openlimes_arithmetic_and_round_trip() -> None:
    """The tabled dequantisation gives exactly texel / 255 · (hi − lo) + lo in float32 (OpenLIME's formula), over
    more pixels than one band, and quantising its output gives the texels back."""
    rng = np.random.default_rng(4)
    texels = rng.integers(0, 256, (BAND // 100 + 3, 101, 9), dtype=np.uint8)
    lo, hi = rng.normal(size=9), rng.normal(size=9) + 4.0
    codes = dequantize_codes(texels, lo, hi)
    formula = texels / np.float32(255.0) * (hi - lo).astype(np.float32) + lo.astype(np.float32)
    np.testing.assert_array_equal(codes, formula.astype(np.float32))
    assert codes.dtype == np.float32
    texels[0, 0], texels[-1, -1] = 0, 255  # the codes' range is then lo..hi
    again, _, _ = quantize_codes(dequantize_codes(texels, lo, hi))
    np.testing.assert_array_equal(again, texels)


def test_rgb_jpeg_is_only_for_8_bit_rgb_jpegs() -> None:
    with pytest.raises(RTIError, match="JPEG option"):
        images.encode_rgb_jpeg(np.zeros((4, 4, 3), np.uint8), ".png", 100)
    with pytest.raises(ValueError, match="uint8"):
        images.encode_rgb_jpeg(np.zeros((4, 4, 3), np.uint16), ".jpg", 100)


def test_lossless_round_trip_is_exact(tmp_path: Path) -> None:
    model = random_model(20)
    neuralweb.write(model, tmp_path / "m")
    back = models.load(tmp_path / "m")
    assert isinstance(back, NeuralRTI)
    np.testing.assert_array_equal(back.codes, model.codes)
    for (w, b), (w0, b0) in zip(back.layers, model.layers):
        np.testing.assert_array_equal(w, w0)
        np.testing.assert_array_equal(b, b0)
    assert back.training == {"role": "test"} and back.hidden == 20 and back.parameters == 723
    light = np.array([0.2, 0.1, 0.97])
    np.testing.assert_array_equal(back.relight(light), model.relight(light))


def test_other_exporters_folders(tmp_path: Path) -> None:
    """Unpadded weights, plane_0..2 names and a "bgr" colorspace decode to the same image as our own folder."""
    model = random_model(6)
    ours = tmp_path / "ours"
    neuralweb.write(model, ours, quality=100)
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    info = json.loads((ours / "info.json").read_text())
    (w1, b1), (w2, b2), (w3, b3) = model.layers
    info.update(samples=49, colorspace="bgr", weights=[w1.ravel().tolist(), w2.ravel().tolist(),
                                                       w3[::-1].ravel().tolist()],
                biases=[b1.tolist(), b2.tolist(), b3[::-1].tolist()])
    del info["lossless_codes"]
    (theirs / "info.json").write_text(json.dumps(info))
    for k in range(3):
        plane = images.read_image(ours / f"plane_{k + 1}.jpg")
        images.write_image(theirs / f"plane_{k}.jpg", plane[..., ::-1], quality=100)
    light = np.array([-0.4, 0.2, 0.89])
    expected = models.load(ours, codes="planes").relight(light)
    got = models.load(theirs).relight(light)
    assert np.abs(got - expected).max() < 0.05  # the planes were JPEG-compressed a second time


def test_malformed_neural_folders(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    neuralweb.write(random_model(8), folder)
    info = json.loads((folder / "info.json").read_text())
    info["weights"][0] = info["weights"][0][:-5]
    (folder / "info.json").write_text(json.dumps(info))
    with pytest.raises(RTIError, match="fit no hidden width"):
        models.load(folder)
    del info["min"]
    (folder / "info.json").write_text(json.dumps(info))
    with pytest.raises(RTIError, match="info.json: min must be a list of finite numbers"):
        models.load(folder)
    neuralweb.write(random_model(8), tmp_path / "n")
    info = json.loads((tmp_path / "n/info.json").read_text())
    info["lights"] = [0.0, 0.0, 1.0, 0.5]
    (tmp_path / "n/info.json").write_text(json.dumps(info))
    with pytest.raises(RTIError, match="lights must be a flat list of finite x, y, z triples, got 4 values"):
        models.load(tmp_path / "n")
    (tmp_path / "n/plane_2.jpg").unlink()
    with pytest.raises(RTIError, match=r"n/plane_2.jpg: image file not found"):
        models.load(tmp_path / "n", codes="planes")
    with pytest.raises(RTIError, match="only be written as a model folder"):
        models.save(random_model(8), tmp_path / "x.ptm")
