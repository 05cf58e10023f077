"""Several captures in one command: which scenes a list of folders or a suite's index names, and bad input."""

import json
from pathlib import Path

import pytest

from core.capture import collection
from core.errors import RTIError


def test_folders_are_named_by_their_folder_and_a_suite_by_its_index(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "dirs.lp").write_text("0\n")
    assert not collection.is_collection([str(tmp_path / "a")])
    assert collection.scenes([str(tmp_path / "a"), str(tmp_path / "b" / "dirs.lp")]) == [
        ("a", tmp_path / "a"), ("b", tmp_path / "b" / "dirs.lp")]
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "index.json").write_text(json.dumps({"scenes": [{"path": "bumps/matte"}, {"path": "tablet/split"}]}))
    for source in (suite, suite / "index.json"):
        assert collection.is_collection([str(source)])
        assert collection.scenes([str(source)]) == [("bumps/matte", suite / "bumps/matte"),
                                                   ("tablet/split", suite / "tablet/split")]


@pytest.mark.parametrize("index, message", [
    ("{not json", "not a suite's index"),
    ('{"scenes": [{"relief": "bumps"}]}', "not a suite's index"),
    ('{"scenes": []}', "lists no scenes"),
    ('{"scenes": [{"path": "../outside"}]}', "leaves the suite's folder"),
    ('{"scenes": [{"path": "a"}, {"path": "a"}]}', "two scenes are named 'a'"),
])
def test_bad_suites_are_refused_in_one_line(tmp_path: Path, index: str, message: str) -> None:
    (tmp_path / "index.json").write_text(index)
    with pytest.raises(RTIError, match=message):
        collection.scenes([str(tmp_path / "index.json")])


def test_two_folders_of_one_name_are_refused(tmp_path: Path) -> None:
    for parent in ("x", "y"):
        (tmp_path / parent / "scene").mkdir(parents=True)
    with pytest.raises(RTIError, match="two scenes are named 'scene'"):
        collection.scenes([str(tmp_path / "x" / "scene"), str(tmp_path / "y" / "scene")])
