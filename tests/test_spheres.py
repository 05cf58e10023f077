"""Light directions from reflective spheres, against analytic renders of glossy spheres whose lights are known."""

import numpy as np
import pytest

from core.capture import images, lp, spheres
from core.capture import lights as light_patterns
from core.cli import main
from core.errors import RTIError

SIZE = 160
BALL = spheres.Sphere(60.0, 70.0, 40.0)


def render(lights: np.ndarray, balls=(BALL,), size: int = SIZE, exponent: float = 300.0) -> np.ndarray:
    """8-bit images (N, H, W, 3) of black glossy spheres on a mid-grey ground: a Blinn-Phong highlight whose peak is
    where the normal is halfway between the light and the view (+z), so each light is known exactly."""
    ys, xs = np.mgrid[0:size, 0:size] + 0.5
    stack = np.full((len(lights), size, size, 3), 0.45)
    for ball in balls:
        nx, ny = (xs - ball.x) / ball.r, -(ys - ball.y) / ball.r
        inside = nx**2 + ny**2 < 1.0
        normals = np.stack([nx, ny, np.sqrt(np.clip(1.0 - nx**2 - ny**2, 0.0, None))], axis=-1)
        for k, light in enumerate(lights):
            half = (light + [0.0, 0.0, 1.0]) / np.linalg.norm(light + [0.0, 0.0, 1.0])
            shine = np.clip(normals @ half, 0.0, None) ** exponent + 0.03
            stack[k][inside] = np.clip(shine, 0.0, 1.0)[inside, None]
    return np.rint(stack * 255).astype(np.uint8)


def errors_deg(found: np.ndarray, truth: np.ndarray) -> np.ndarray:
    return np.degrees(np.arccos(np.clip((found * truth).sum(axis=1), -1.0, 1.0)))


def test_the_reflected_view_ray_at_the_halfway_normal_is_the_light():
    for light in light_patterns.synthrti_dome():
        half = (light + [0, 0, 1]) / np.linalg.norm(light + [0, 0, 1])
        spot = spheres.Highlight(BALL.x + BALL.r * half[0], BALL.y - BALL.r * half[1], 1.0)
        assert np.allclose(spheres.direction(spot, BALL), light, atol=1e-9)


def test_sub_pixel_highlights_give_the_dome_lights_within_a_degree():
    dome = light_patterns.synthrti_dome()
    result = spheres.calibrate([f"{i}.png" for i in range(len(dome))], render(dome), [BALL])
    error = errors_deg(result.lights, dome)
    assert np.median(error) < 0.5 and error.max() < 2.0
    assert (result.confidence > 0.5).all() and not result.notes


def test_two_spheres_are_averaged_and_an_outlier_is_left_out():
    dome = light_patterns.synthrti_dome()[::4]
    balls = (spheres.Sphere(40.0, 40.0, 25.0), spheres.Sphere(120.0, 40.0, 25.0), spheres.Sphere(80.0, 120.0, 25.0))
    stack = render(dome, balls)
    names = [f"{i}.png" for i in range(len(dome))]
    good = spheres.calibrate(names, stack, list(balls))
    assert np.median(errors_deg(good.lights, dome)) < 1.0 and not good.notes
    wrong = [balls[0], balls[1], spheres.Sphere(84.0, 120.0, 25.0)]  # the third circle given 4 px off
    checked = spheres.calibrate(names, stack, wrong)
    assert np.median(errors_deg(checked.lights, dome)) < 1.0
    assert any("(84, 120)" in note and "left out" in note for note in checked.notes)


def test_spheres_are_found_in_the_photos():
    found = spheres.detect(render(light_patterns.synthrti_dome()))
    assert len(found) == 1
    assert abs(found[0].x - BALL.x) < 1.5 and abs(found[0].y - BALL.y) < 1.5 and abs(found[0].r - BALL.r) < 2.0


def test_bad_spheres_and_photos_are_refused_with_the_image_named():
    dome = light_patterns.synthrti_dome()[:3]
    stack = render(dome)
    names = ["a.png", "b.png", "c.png"]
    with pytest.raises(RTIError, match="does not fit"):
        spheres.calibrate(names, stack, [spheres.Sphere(150.0, 70.0, 40.0)])
    dark = stack.copy()
    dark[1] = 20
    with pytest.raises(RTIError, match="b.png: no highlight"):
        spheres.calibrate(names, dark, [BALL])
    dropped = spheres.calibrate(names, dark, [BALL], drop_bad=True)
    assert dropped.names == ["a.png", "c.png"] and "b.png" in dropped.notes[0]
    bright = stack.copy()
    bright[2, 40:100, 30:90] = 255
    with pytest.raises(RTIError, match="c.png: the sphere is over-exposed"):
        spheres.calibrate(names, bright, [BALL])
    twin = stack.copy()
    twin[0, 50:53, 50:53] = 255
    twin[0, 85:88, 70:73] = 255
    dim = ~(twin[0] > 200).all(axis=-1)
    twin[0][dim] = np.minimum(twin[0][dim], 20)  # only the two equal spots shine
    with pytest.raises(RTIError, match="a.png: several highlights of equal strength"):
        spheres.calibrate(names, twin, [BALL])
    with pytest.raises(RTIError, match="expected X,Y,R"):
        spheres.Sphere.parse("1,2")


def write_photos(folder, stack):
    folder.mkdir()
    names = [f"photo_{k:02d}.png" for k in range(len(stack))]
    for name, image in zip(names, stack):
        images.write_image(folder / name, image)
    return names


def test_cli_writes_an_lp_checks_one_and_draws_a_preview(tmp_path, capsys):
    dome = light_patterns.synthrti_dome()
    names = write_photos(tmp_path / "photos", render(dome))
    out = tmp_path / "photos" / "dirs.lp"
    assert main(["lights", str(tmp_path / "photos"), "-o", str(out), "--preview", str(tmp_path / "p.png"), "-q"]) == 0
    read_names, found = lp.read_lp(out)
    assert read_names == names and np.median(errors_deg(found, dome)) < 0.5
    assert images.read_image(tmp_path / "p.png").shape[2] == 3
    capsys.readouterr()
    assert main(["lights", str(tmp_path / "photos"), "-o", str(out), "--force"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[1].startswith("photo_00.png") and 0.0 < float(table[1].split()[-1]) <= 1.0  # each image's confidence
    assert main(["lights", str(tmp_path / "photos"), "--sphere", "60,70,40"]) == 0
    report = capsys.readouterr().out
    median = float(report.split("median ")[1].split("°")[0])  # the detected circle's lights against the given one's
    assert "photo_00.png" in report and median < 0.25
    images.write_image(tmp_path / "photos" / "photo_99.png", np.zeros((10, 10, 3), np.uint8))
    assert main(["lights", str(tmp_path / "photos"), "-o", str(tmp_path / "x.lp"), "-q"]) == 2
    assert "photo_99.png: image is 10x10" in capsys.readouterr().err and not (tmp_path / "x.lp").exists()


def test_photos_without_a_sphere_say_so(tmp_path, capsys):
    write_photos(tmp_path / "plain", np.full((4, 64, 64, 3), 120, np.uint8))
    assert main(["lights", str(tmp_path / "plain"), "-o", str(tmp_path / "dirs.lp")]) == 2
    assert "no sphere found: give it with --sphere X,Y,R" in capsys.readouterr().err
    assert not (tmp_path / "dirs.lp").exists()


def test_a_crop_narrows_the_search_and_keeps_image_coordinates():
    stack = render(light_patterns.synthrti_dome()[::2])
    inside = spheres.detect_in(stack, spheres.parse_crop("10,15,120,120"))
    assert len(inside) == 1 and abs(inside[0].x - BALL.x) < 1.5 and abs(inside[0].y - BALL.y) < 1.5
    with pytest.raises(RTIError, match="runs past"):
        spheres.detect_in(stack, (100, 0, 100, 100))
    with pytest.raises(RTIError, match="X,Y,W,H"):
        spheres.parse_crop("1,2,3")
