import logging

import numpy as np
import pytest

from core.capture import lp
from core.errors import RTIError


def read(tmp_path, text: str, name: str = "dirs.lp"):
    path = tmp_path / name
    path.write_bytes(text.encode())
    return lp.read_lp(path)


def test_tabs_crlf_relative_paths(tmp_path):
    names, dirs = read(tmp_path, "2\r\njpg/a 1.jpg\t0\t0\t1\r\njpg/b.jpg 0.6 0 0.8\r\n")
    assert names == ["jpg/a 1.jpg", "jpg/b.jpg"]
    np.testing.assert_allclose(dirs, [[0, 0, 1], [0.6, 0, 0.8]])


def test_header_count_smaller_than_rows_reads_the_count_and_warns(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        names, _ = read(tmp_path, "2\na.png 0 0 1\nb.png 0 0 1\nc.png 0 0 1\n")
    assert names == ["a.png", "b.png"]
    assert "header says 2 lights but the file lists 3" in caplog.text


def test_non_unit_directions_are_normalised_with_a_warning(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        _, dirs = read(tmp_path, "2\na.png 0 0 0.79\nb.png 0.6 0 1.0\n")
    np.testing.assert_allclose(np.linalg.norm(dirs, axis=1), 1)
    np.testing.assert_allclose(dirs[1], np.array([0.6, 0, 1.0]) / np.hypot(0.6, 1.0))
    assert "not unit length" in caplog.text


def test_huge_components_are_normalised_without_overflow(tmp_path):
    _, dirs = read(tmp_path, "1\na.png -1 -1 1.3e154\n")  # the squares overflow a float
    np.testing.assert_allclose(dirs, [[0, 0, 1]], atol=1e-12)


def test_grazing_light_is_accepted(tmp_path):
    _, dirs = read(tmp_path, "1\na.png 1 0 0\n")
    np.testing.assert_allclose(dirs, [[1, 0, 0]])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty light file"),
        ("\n\n", "empty light file"),
        ("x\na.png 0 0 1\n", "first line must be the number of lights"),
        ("0\n", "lists no lights"),
        ("3\na.png 0 0 1\nb.png 0 0 1\n", "header says 3 lights but the file lists 2"),
        ("1\na.png 0 nan 1\n", "not finite"),
        ("1\na.png 0 0 0\n", "direction is zero"),
        ("1\na.png 0.5 0 -0.2\n", "below the surface"),
        ("1\na.png 0 zero 1\n", "not three numbers"),
        ("1\na.png 0 1\n", "expected 'filename lx ly lz'"),
        ("2\na.png 0 0 1\na.png 0.6 0 0.8\n", "listed twice"),
    ],
)
def test_bad_light_files_raise_one_line_errors_naming_the_file(tmp_path, text, message):
    with pytest.raises(RTIError) as err:
        read(tmp_path, text)
    assert message in str(err.value)
    assert "dirs.lp" in str(err.value) and "\n" not in str(err.value)


def test_write_then_read_round_trip(tmp_path):
    dirs = np.array([[0.1, 0.2, 0.9], [0, 0, 1]])
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    lp.write_lp(tmp_path / "out.lp", ["a.png", "sub/b.png"], dirs)
    names, back = lp.read_lp(tmp_path / "out.lp")
    assert names == ["a.png", "sub/b.png"]
    np.testing.assert_allclose(back, dirs, atol=1e-8)


def test_a_light_a_hair_below_the_horizon_is_set_to_it_with_a_warning(tmp_path, caplog):
    """Real dome files list grazing lights measured slightly too low (lz = -0.0012); clearly lower ones stay errors."""
    names, dirs = read(tmp_path, "2\na.png 0 0 1\nb.png 0.99 0.1 -0.0012\n")
    assert names == ["a.png", "b.png"]
    np.testing.assert_allclose(dirs[1], np.array([0.99, 0.1, 0.0]) / np.hypot(0.99, 0.1))
    assert "dirs.lp:3: light direction is 0.07° below the horizon (lz = -0.0012); set to the horizon" in caplog.text
    with pytest.raises(RTIError, match=r"dirs.lp:2: light direction points below the surface \(lz = -0.06 < 0\)"):
        read(tmp_path, "1\na.png 0.998 0 -0.06\n")
