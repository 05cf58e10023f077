"""Outputs that appear whole or not at all.

Everything is written into a hidden temporary sibling of the target and moved into place only when complete, so a
failure (bad input, a crash, Ctrl-C) never leaves a half-written folder or file, and never destroys an older output.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import RTIError

_UMASK = os.umask(0o022)
os.umask(_UMASK)


def check_target(path: Path, force: bool) -> None:
    """Refuse to replace an existing non-empty output unless ``force`` is set; create missing parent folders."""
    if path.exists() and not (path.is_dir() and not any(path.iterdir())) and not force:
        raise RTIError(f"{path}: already exists (use --force to replace it)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RTIError(f"{path.parent}: cannot create output folder ({exc.strerror})") from None


@contextmanager
def output_dir(path: Path | str, force: bool = False) -> Iterator[Path]:
    """Yield an empty temporary folder that replaces ``path`` when the block succeeds."""
    path = Path(path)
    check_target(path, force)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    except OSError as exc:
        raise RTIError(f"{path}: cannot write here ({exc.strerror})") from None
    tmp.chmod(0o777 & ~_UMASK)
    try:
        yield tmp
        _replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def output_file(path: Path | str, force: bool = False) -> Iterator[Path]:
    """Yield a temporary file path (with the same suffix) that replaces ``path`` when the block succeeds."""
    path = Path(path)
    check_target(path, force)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    except OSError as exc:
        raise RTIError(f"{path}: cannot write here ({exc.strerror})") from None
    os.close(fd)
    tmp = Path(name)
    tmp.chmod(0o666 & ~_UMASK)
    try:
        yield tmp
        _replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


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
