"""Normals, albedo and enhancement views against analytic ground truth: Lambertian scenes whose normals are known,
PTMs whose maximum is known, and the published diffuse-gain properties (value and slope kept, curvature scaled)."""

import numpy as np
import pytest

from core.capture import analytic, images
from core.capture import lights as light_patterns
from core.capture.mlic import MLIC
from core.classic.fitting import ClassicRTI
from core.cli import main
from core.errors import RTIError
from core.surface import enhance, maps, photometric, views


def encode(linear: np.ndarray) -> np.ndarray:
    v = np.clip(linear, 0.0, 1.0)
    return np.where(v <= 0.0031308, v * 12.92, 1.055 * v ** (1 / 2.4) - 0.055)


def lambert(normals: np.ndarray, albedo: np.ndarray, lights: np.ndarray) -> np.ndarray:
    """Linear images (N, H, W, 3) of a Lambertian surface, attached shadows included."""
    return np.clip(np.einsum("hwc,nc->nhw", normals, lights), 0.0, None)[..., None] * albedo


def stored(linear: np.ndarray, dtype=np.uint16) -> np.ndarray:
    top = np.iinfo(dtype).max
    return np.rint(encode(linear) * top).astype(dtype)


@pytest.fixture(scope="module")
def bumps():
    normals, albedo, _ = analytic.surface(48, seed=3)
    return normals, albedo * 0.9


def test_robust_normals_leave_out_attached_shadows_that_bias_least_squares(bumps):
    normals, albedo = bumps
    dome = light_patterns.synthrti_dome()
    data = MLIC(stored(lambert(normals, albedo, dome)), dome, [f"{i}.png" for i in range(len(dome))])
    l2 = photometric.angular_error(photometric.from_mlic(data, "l2").normals, normals)
    robust = photometric.from_mlic(data, "robust")
    error = photometric.angular_error(robust.normals, normals)
    assert np.median(error) < 0.1 and error.max() < 2.0
    assert np.abs(robust.albedo - albedo).max() < 0.01
    assert l2.mean() > 10 * error.mean()  # the grazing lights' shadows pull least squares off


def test_least_squares_is_exact_where_every_light_reaches_the_surface():
    tilt = light_patterns.from_angles([70.0], [40.0])[0]
    normals = np.broadcast_to(tilt, (4, 5, 3)).copy()
    high = light_patterns.rings([60, 75, 90], [8, 6, 1])
    data = MLIC(stored(lambert(normals, np.full((4, 5, 3), 0.5), high)), high, [f"{i}" for i in range(15)])
    surface = photometric.from_mlic(data, "l2")
    assert photometric.angular_error(surface.normals, normals).max() < 0.01
    assert np.allclose(surface.albedo, 0.5, atol=1e-3)


def test_robust_normals_leave_out_saturated_samples(bumps):
    normals, _ = bumps
    albedo = np.full(normals.shape, 1.6)  # brighter than the camera's range under high lights
    dome = light_patterns.synthrti_dome()
    data = MLIC(stored(lambert(normals, albedo, dome), np.uint8), dome, [f"{i}" for i in range(len(dome))])
    error = photometric.angular_error(photometric.from_mlic(data, "robust").normals, normals)
    l2 = photometric.angular_error(photometric.from_mlic(data, "l2").normals, normals)
    assert np.median(error) < 1.0 < np.median(l2)


def test_masked_pixels_have_no_normal(bumps):
    normals, albedo = bumps
    dome = light_patterns.synthrti_dome()
    mask = np.zeros(normals.shape[:2], bool)
    mask[10:30, 5:40] = True
    data = MLIC(stored(lambert(normals, albedo, dome)), dome, [f"{i}" for i in range(len(dome))], mask=mask)
    surface = photometric.from_mlic(data, "robust")
    assert (surface.normals[~mask] == 0).all() and (surface.albedo[~mask] == 0).all()
    assert np.median(photometric.angular_error(surface.normals[mask], normals[mask])) < 0.1


class LambertModel:
    """A 'fitted model' that relights a Lambertian surface exactly, as display (sRGB) values."""

    def __init__(self, normals, albedo):
        self.normals, self.albedo = normals, albedo
        self.height, self.width = normals.shape[:2]

    def relight(self, light):
        return encode(lambert(self.normals, self.albedo, np.asarray(light)[None])[0]).astype(np.float32)


@pytest.mark.parametrize("method", photometric.METHODS)
def test_normals_of_a_model_come_from_its_relit_images(bumps, method):
    normals, albedo = bumps
    surface = photometric.from_model(LambertModel(normals, albedo), method)
    error = photometric.angular_error(surface.normals, normals)
    assert np.median(error) < 0.05 if method == "robust" else np.median(error) < 1.0
    assert np.abs(surface.albedo - albedo)[error < 1.0].max() < (1e-3 if method == "robust" else 1e-2)


def test_too_few_or_coplanar_lights_and_unknown_methods_are_refused():
    flat = np.ones((3, 2, 2, 3), np.uint8)
    ring = light_patterns.rings([30], [3])
    with pytest.raises(RTIError, match="three independent"):
        photometric.from_mlic(MLIC(flat, np.array([[0, 0, 1.0], [0, 0, 1.0], [0.6, 0, 0.8]]), list("abc")))
    with pytest.raises(RTIError, match="at least 3 lights"):
        photometric.from_mlic(MLIC(flat[:2], ring[:2], list("ab")))
    with pytest.raises(RTIError, match="unknown normals method"):
        photometric.from_mlic(MLIC(flat, ring, list("abc")), "median")


def random_ptm(shape=(4, 5), seed=0) -> np.ndarray:
    """PTM luminance coefficients (6, H, W) with a maximum inside the unit disk: a0, a1 < 0."""
    rng = np.random.default_rng(seed)
    a0, a1 = -rng.uniform(0.3, 1.0, shape), -rng.uniform(0.3, 1.0, shape)
    a2 = rng.uniform(-0.2, 0.2, shape)
    u0, v0 = rng.uniform(-0.4, 0.4, shape), rng.uniform(-0.4, 0.4, shape)
    a3, a4 = -(2 * a0 * u0 + a2 * v0), -(2 * a1 * v0 + a2 * u0)  # zero gradient at (u0, v0)
    return np.stack([a0, a1, a2, a3, a4, rng.uniform(0.5, 1.0, shape)]), u0, v0


def ptm_value(coeffs, u, v):
    return coeffs[0] * u * u + coeffs[1] * v * v + coeffs[2] * u * v + coeffs[3] * u + coeffs[4] * v + coeffs[5]


def test_the_maximum_of_a_ptm_is_where_its_gradient_vanishes():
    coeffs, u0, v0 = random_ptm()
    found = enhance.ptm_maximum(coeffs)
    assert np.allclose(found[0], u0) and np.allclose(found[1], v0)


@pytest.mark.parametrize("gain", [1.0, 0.5, 3.0])
def test_diffuse_gain_keeps_value_and_slope_at_the_maximum_and_scales_curvature(gain):
    coeffs, u0, v0 = random_ptm(seed=1)
    gained = enhance.diffuse_gain(coeffs, gain)
    assert np.allclose(ptm_value(gained, u0, v0), ptm_value(coeffs, u0, v0))
    step = 1e-4
    for du, dv in ((step, 0.0), (0.0, step)):  # the gradient at the maximum stays zero
        slope = (ptm_value(gained, u0 + du, v0 + dv) - ptm_value(gained, u0 - du, v0 - dv)) / (2 * step)
        assert np.allclose(slope, 0.0, atol=1e-6)
    assert np.allclose(gained[:3], gain * coeffs[:3])
    assert gain != 1.0 or np.allclose(gained, coeffs)


def test_the_diffuse_gain_view_of_a_ptm_at_gain_1_is_its_luminance():
    rng = np.random.default_rng(2)
    coeffs = rng.uniform(-0.05, 0.1, (6, 4, 5, 3)).astype(np.float32)
    coeffs[5] += 0.4  # displayable: within [0, 1] under every light
    model = ClassicRTI("ptm", coeffs)
    prepared = views.prepare(model)
    light = light_patterns.from_angles([35.0], [120.0])[0]
    luminance = model.relight(light) @ photometric.LUMA
    assert np.allclose(views.render(model, prepared, "diffuse_gain", light, gain=1.0) @ photometric.LUMA, luminance,
                       atol=1e-5)
    assert not np.allclose(views.render(model, prepared, "diffuse_gain", light, gain=3.0) @ photometric.LUMA,
                           luminance, atol=1e-3)


def test_views_render_what_each_mode_shows(bumps):
    normals, albedo = bumps
    model = LambertModel(normals, albedo)
    prepared = views.prepare(model)
    light = light_patterns.from_angles([40.0], [200.0])[0]
    assert np.allclose(views.render(model, prepared, "relit", light), model.relight(light))
    assert np.allclose(views.render(model, prepared, "normals", light) * 2 - 1, prepared.normals, atol=1e-6)
    assert np.median(photometric.angular_error(prepared.normals, normals)) < 1.0
    shiny = views.render(model, prepared, "specular", light, exponent=10.0, strength=0.3)
    assert np.allclose(shiny, enhance.specular_enhancement(model.relight(light), prepared.normals, light, 10.0, 0.3))
    with pytest.raises(RTIError, match="unknown view"):
        views.render(model, prepared, "xray", light)


def test_specular_enhancement_adds_a_blinn_phong_highlight_where_a_normal_is_known():
    normals = np.zeros((2, 2, 3))
    normals[0, 0] = [0.0, 0.0, 1.0]
    normals[0, 1] = light_patterns.from_angles([60.0], [0.0])[0]
    colour = np.full((2, 2, 3), 0.2)
    light = light_patterns.from_angles([30.0], [0.0])[0]  # its half vector with +z is the second normal
    out = enhance.specular_enhancement(colour, normals, light, exponent=20.0, strength=0.5)
    assert np.allclose(out[0, 1], 0.7)
    assert np.allclose(out[0, 0], 0.2 + 0.5 * np.cos(np.radians(30.0)) ** 20)
    assert np.allclose(out[1], 0.2)


def test_normal_maps_round_trip_and_empty_maps_are_refused(tmp_path, bumps):
    normals, _ = bumps
    normals = normals.copy()
    normals[:3] = 0.0
    maps.write_normals(tmp_path / "n.png", normals)
    back = maps.read_normals(tmp_path / "n.png")
    assert (back[:3] == 0).all() and photometric.angular_error(back[3:], normals[3:]).max() < 0.05
    maps.write_normals(tmp_path / "empty.png", np.zeros((3, 3, 3)))
    with pytest.raises(RTIError, match="not a normal map"):
        maps.read_normals(tmp_path / "empty.png")


def test_cli_writes_normals_of_an_mlic_and_into_a_model_folder(tmp_path, bumps, capsys):
    normals, albedo = bumps
    dome = light_patterns.synthrti_dome()
    folder = tmp_path / "mlic"
    folder.mkdir()
    names = [f"image_{i:03d}.png" for i in range(len(dome))]
    for name, image in zip(names, stored(lambert(normals, albedo, dome))):
        images.write_image(folder / name, image)
    (folder / "dirs.lp").write_text(f"{len(names)}\n" + "".join(f"{n} {x} {y} {z}\n" for n, (x, y, z) in
                                                                 zip(names, dome)))
    assert main(["normals", str(folder), "-o", str(tmp_path / "out"), "--method", "robust", "--albedo", "-q"]) == 0
    assert photometric.angular_error(maps.read_normals(tmp_path / "out" / "normals.png"), normals).max() < 2.0
    written = images.read_image(tmp_path / "out" / "albedo.png")
    assert written.dtype == np.uint8 and np.abs(written / 255.0 - encode(albedo)).max() < 0.02

    assert main(["fit", str(folder), "-m", "hsh3", "-o", str(tmp_path / "hsh3"), "-q"]) == 0
    assert main(["normals", str(tmp_path / "hsh3")]) == 0
    assert np.median(photometric.angular_error(maps.read_normals(tmp_path / "hsh3" / "normals.png"), normals)) < 3.0
    capsys.readouterr()
    assert main(["normals", str(tmp_path / "hsh3")]) == 2
    assert "already exists (use --force" in capsys.readouterr().err
    assert main(["normals", str(folder)]) == 2
    assert "-o OUT is required" in capsys.readouterr().err
    assert not (folder / "normals.png").exists()


def test_view_maps_step_by_tile_and_travel_as_npz(tmp_path, bumps, monkeypatch, capsys):
    """Tile by tile (a job's steps) gives the maps of one go; ``core views`` writes them for the add-on, with the
    model folder's own normals when it has them."""
    model = ClassicRTI("hsh3", np.random.default_rng(5).normal(0.3, 0.1, (9, 20, 24, 3)).astype(np.float32))
    whole = views.prepare(model)
    monkeypatch.setattr(photometric, "TILE", 50)
    stepped = views.ViewMaps(model)
    progress = []
    while not stepped.step():
        progress.append(stepped.progress)
    assert progress == sorted(progress) and len(progress) == 10 and stepped.progress == 1.0
    for name in ("normals", "albedo", "gain_base", "gain_slope", "chroma"):
        np.testing.assert_allclose(getattr(stepped.views(), name), getattr(whole, name), rtol=1e-5, atol=1e-6)
    from core.formats import models

    models.save(model, tmp_path / "hsh3", fmt="png")
    assert main(["views", str(tmp_path / "hsh3"), "-o", str(tmp_path / "maps.npz"), "-q"]) == 0
    loaded, reference = views.load(tmp_path / "maps.npz"), views.prepare(models.load(tmp_path / "hsh3"))
    np.testing.assert_allclose(loaded.gain_base, reference.gain_base, rtol=1e-5, atol=1e-6)
    tilted = np.zeros((20, 24, 3))
    tilted[:] = [0.0, 0.6, 0.8]
    maps.write_normals(tmp_path / "hsh3" / "normals.png", tilted)
    assert main(["views", str(tmp_path / "hsh3"), "-o", str(tmp_path / "maps.npz"), "--force", "-q"]) == 0
    assert "normals from" in capsys.readouterr().out
    np.testing.assert_allclose(views.load(tmp_path / "maps.npz").normals, tilted, atol=1e-4)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(RTIError, match="not view maps"):
        views.load(tmp_path / "junk.npz")
