"""ASCII headers in front of binary data, as in ``.ptm`` and ``.rti`` files."""

from __future__ import annotations

from pathlib import Path

from ..errors import RTIError


def read_header(path: Path, tokens: int) -> tuple[list[str], bytes]:
    """The first ``tokens`` whitespace-separated header tokens (``#`` comment lines skipped) and the binary rest."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RTIError(f"{path}: cannot read ({exc.strerror})") from None
    return split_header(path, data, tokens)


def split_header(path: Path, data: bytes, tokens: int) -> tuple[list[str], bytes]:
    """The first ``tokens`` header tokens of ``data`` (read from ``path``) and what follows the line holding the
    last of them."""
    found: list[str] = []
    pos = 0
    while len(found) < tokens:
        end = data.find(b"\n", pos)
        if end < 0 or end - pos > 4096:
            raise RTIError(f"{path}: truncated or malformed header")
        line = data[pos:end].decode("ascii", errors="replace").strip()
        pos = end + 1
        if not line.startswith("#"):
            found += line.split()
    if len(found) != tokens:
        raise RTIError(f"{path}: malformed header ({' '.join(found)!r})")
    return found, data[pos:]


def numbers(path: Path, tokens: list[str], kind: type) -> list:
    """Header tokens converted to ``kind`` (int or float), or a clear error."""
    try:
        return [kind(t) for t in tokens]
    except ValueError:
        raise RTIError(f"{path}: header has a non-number among {' '.join(tokens)!r}") from None
