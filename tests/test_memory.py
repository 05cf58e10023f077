"""Up-front memory checks: a job that would not fit is refused before it starts, with the numbers, and writes
nothing."""

from pathlib import Path

import pytest

from core import memory
from core.cli import main
from core.errors import RTIError

from .test_cli import fails, scene  # noqa: F401 (the fixture)


def test_available_memory_is_read():
    have = memory.available()
    assert have is None or have > 0


def test_require_states_the_numbers(monkeypatch):
    monkeypatch.setattr(memory, "available", lambda: 10 * 10**9)
    memory.require(memory.Need("training", 200), photos=6 * 10**9, pixels=10**7)  # 0.4 + 6 + 2 GB fits in 10
    with pytest.raises(RTIError, match=r"training of 50\.0 MP needs about 19\.4 GB of memory \(photos 9\.0 GB\) "
                                       r"and 10\.0 GB is available"):
        memory.require(memory.Need("training", 200), photos=9 * 10**9, pixels=5 * 10**7)
    monkeypatch.setattr(memory, "available", lambda: None)  # unknown: nothing is refused
    memory.require(memory.Need("training", 200), photos=9 * 10**12, pixels=5 * 10**7)


@pytest.mark.parametrize("command", [
    ["fit", "{scene}", "-m", "hsh3", "-o", "{out}"],
    ["train", "{scene}", "-o", "{out}", "--steps", "10", "--student-steps", "10"],
    ["normals", "{scene}", "-o", "{out}"],
    ["eval", "{model}", "--test", "{scene}", "--json-out", "{out}"],
    ["report", "{model}", "--test", "{scene}", "-o", "{out}"],
])
def test_commands_refuse_what_cannot_fit_and_write_nothing(scene, tmp_path, capsys, monkeypatch,  # noqa: F811
                                                           command):
    model = tmp_path / "model"
    assert main(["fit", str(scene), "-m", "ptm", "-o", str(model), "-q"]) == 0
    capsys.readouterr()
    out = tmp_path / "out"
    monkeypatch.setattr(memory, "available", lambda: 64 << 20)  # 64 MB: not even Python itself
    argv = [part.format(scene=scene, model=model, out=out) for part in command]
    line = fails(argv, capsys, "GB of memory")
    assert "MP needs about" in line and "is available" in line
    assert not out.exists() and not Path(str(out) + ".checkpoint.pt").exists()
