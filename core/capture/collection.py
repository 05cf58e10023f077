"""Several captures in one command: a synth suite's ``index.json`` (or its folder), or a list of MLIC folders; each
scene has a name, the folder its results go to under the command's output."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import RTIError

INDEX = "index.json"


def is_collection(sources: list[str]) -> bool:
    """Whether ``sources`` name several scenes: more than one, or a suite (its ``index.json`` or folder)."""
    return len(sources) > 1 or _index(Path(sources[0])) is not None


def scenes(sources: list[str]) -> list[tuple[str, Path]]:
    """(name, MLIC or split folder) of every scene: a suite's scenes by their paths in its index, or each source by
    its folder's name (an ``.lp`` file's folder); two scenes of one name are refused."""
    index = _index(Path(sources[0])) if len(sources) == 1 else None
    if index is not None:
        try:
            listed = json.loads(index.read_text())["scenes"]
            found = [(str(scene["path"]), index.parent / str(scene["path"])) for scene in listed]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise RTIError(f"{index}: not a suite's index ({exc})") from None
    else:
        found = [((path.parent if path.suffix.lower() == ".lp" else path).resolve().name, path)
                 for path in map(Path, sources)]
    names = [name for name, _ in found]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise RTIError(f"two scenes are named {twice[0]!r}: give folders of different names")
    if not found:
        raise RTIError(f"{sources[0]}: the suite lists no scenes")
    for name, _ in found:
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise RTIError(f"{index}: scene path {name!r} leaves the suite's folder")
    return found


def _index(source: Path) -> Path | None:
    if source.name == INDEX and source.is_file():
        return source
    return source / INDEX if (source / INDEX).is_file() else None
