"""The fast relighter against the models' own numpy relighting, the reference: neural, PTM, LRGB-PTM and HSH models,
one light or many, whole images or runs of pixels, across chunk boundaries, and without PyTorch."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from core import relighting
from core.classic.fitting import ClassicRTI, method_terms
from core.errors import RTIError
from core.quality import metrics

from .conftest import random_model

LIGHTS = np.array([[0.0, 0.0, 1.0], [0.6, 0.2, 0.7746], [-0.3, -0.8, 0.5196], [0.99, 0.0, 0.1411]])


def classic(method: str, seed: int = 0) -> ClassicRTI:
    rng = np.random.default_rng(seed)
    channels = 1 if method == "lptm" else 3
    coeffs = rng.normal(0.1, 0.3, (method_terms(method), 13, 17, channels)).astype(np.float32)
    chroma = rng.uniform(0.2, 1.0, (13, 17, 3)).astype(np.float32) if method == "lptm" else None
    return ClassicRTI(method, coeffs, chroma)


MODELS = {"student": lambda: random_model(20, size=(13, 17)), "teacher": lambda: random_model(50, size=(13, 17)),
          **{m: (lambda m=m: classic(m)) for m in ("ptm", "lptm", "hsh2", "hsh3")}}


@pytest.fixture(params=list(MODELS))
def model(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setattr(relighting, "ROWS", 50)  # many chunks, a light's image spread over several
    return MODELS[request.param]()


@pytest.mark.parametrize("make", [relighting.Relighter, relighting.ReferenceRelighter])
def test_images_are_the_models_own_relighting(model: object, make: type) -> None:
    relit = make(model, "cpu") if make is relighting.Relighter else make(model)
    for light in LIGHTS:
        reference = model.relight(light)
        np.testing.assert_allclose(relit.array(light), reference, rtol=1e-5, atol=1e-5)
        eight_bit = relit.array(light, uint8=True).astype(int)
        off = np.abs(eight_bit - metrics.to_uint8(reference).astype(int))
        assert off.max() <= 1 and (off > 0).mean() < 0.01  # float sums in another order: a rounding at most


@pytest.mark.parametrize("make", [relighting.Relighter, relighting.ReferenceRelighter])
def test_runs_of_pixels_hold_every_light_of_each_pixel_once(model: object, make: type) -> None:
    relit = make(model, "cpu") if make is relighting.Relighter else make(model)
    reference = np.stack([model.relight(light).reshape(-1, 3) for light in LIGHTS], axis=1)  # (P, L, 3)
    seen = np.zeros(len(reference), int)
    for start, stop, values in relit.by_pixels(LIGHTS, pixels=37):
        assert values.shape == (stop - start, len(LIGHTS), 3) and stop - start <= 37
        np.testing.assert_allclose(values, reference[start:stop], rtol=1e-5, atol=1e-5)
        seen[start:stop] += 1
    assert (seen == 1).all()


def test_the_first_layer_is_split_into_a_code_part_and_a_light_part() -> None:
    """Decoding many lights with the code part shared gives each light's decoding alone."""
    model = random_model(20, size=(9, 11))
    relit = relighting.Relighter(model, "cpu")
    together = relit.chunk(LIGHTS, 0, 99).numpy()
    alone = np.stack([relit.chunk(LIGHTS[i : i + 1], 0, 99).numpy()[0] for i in range(len(LIGHTS))])
    np.testing.assert_allclose(together, alone, rtol=1e-6, atol=1e-6)


def test_devices() -> None:
    assert relighting.pick_device("cpu") == torch.device("cpu")
    with pytest.raises(RTIError, match="unknown device 'tpu'"):
        relighting.pick_device("tpu")
    if not torch.cuda.is_available():
        assert relighting.pick_device("auto") == torch.device("cpu")
        with pytest.raises(RTIError, match="sees no CUDA GPU"):
            relighting.Relighter(random_model(20), "cuda")


def test_without_pytorch_the_numpy_reference_relights(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blender's Python has no PyTorch: there the reference does the work, and CUDA is refused."""
    monkeypatch.setitem(sys.modules, "torch", None)
    model = random_model(20, size=(6, 8))
    relit = relighting.relighter(model, "auto")
    assert type(relit) is relighting.ReferenceRelighter
    np.testing.assert_array_equal(relit.array(LIGHTS[1]), model.relight(LIGHTS[1]))
    with pytest.raises(RTIError, match="PyTorch is not installed"):
        relighting.relighter(model, "cuda")
