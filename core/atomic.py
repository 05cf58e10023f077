"""Outputs that appear whole or not at all.

Everything is written into a hidden temporary sibling of the target and moved into place only when complete, so a
failure (bad input, a crash, Ctrl-C) never leaves a half-written folder or file, and never destroys an older output.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import RTIError


def check_target(path: Path, force: bool) -> None:
    """Refuse to replace an existing non-empty output unless ``force`` is set; create missing parent folders."""
    if path.exists() and not (path.is_dir() and not any(path.iterdir())) and not force:
        raise RTIError(f"{path}: already exists (use --force to replace it)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RTIError(f"{path.parent}: cannot create output folder ({exc.strerror})") from None


class Staged:
    """An output folder built in a hidden temporary sibling (``tmp``): :meth:`commit` moves it onto ``path``,
    :meth:`discard` drops it. For outputs made over many calls (a render driven one image at a time)."""

    def __init__(self, path: Path | str, force: bool = False):
        self.path = Path(path)
        check_target(self.path, force)
        self.tmp = _sibling(self.path)
        try:
            self.tmp.mkdir()
        except OSError as exc:
            raise RTIError(f"{self.path}: cannot write here ({exc.strerror})") from None

    def commit(self) -> None:
        _replace(self.tmp, self.path)

    def discard(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


@contextmanager
def output_dir(path: Path | str, force: bool = False) -> Iterator[Path]:
    """Yield an empty temporary folder that replaces ``path`` when the block succeeds."""
    staged = Staged(path, force)
    try:
        yield staged.tmp
        staged.commit()
    finally:
        staged.discard()


@contextmanager
def output_file(path: Path | str, force: bool = False) -> Iterator[Path]:
    """Yield a temporary file path (with the same suffix) that replaces ``path`` when the block succeeds."""
    path = Path(path)
    check_target(path, force)
    tmp = _sibling(path)
    try:
        tmp.open("xb").close()
    except OSError as exc:
        raise RTIError(f"{path}: cannot write here ({exc.strerror})") from None
    try:
        yield tmp
        _replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _sibling(path: Path) -> Path:
    """A hidden, unused name beside ``path`` that keeps its suffix (writers pick the format by suffix)."""
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp{path.suffix}")


def _replace(tmp: Path, path: Path) -> None:
    """Move ``tmp`` onto ``path``; an older ``path`` is removed only once the new one is in place."""
    if path.is_dir():
        old = path.with_name(f".{path.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        path.rename(old)
        tmp.rename(path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, path)
