"""Bad input: the one exception type (its message is a single line that names the file and the problem), and how a
command-line tool turns it into ``error: ...`` and exit status 2."""

import sys
from collections.abc import Callable


class RTIError(Exception):
    """Bad input or an impossible request; the CLI prints ``error: <message>`` and exits with status 2."""


class Stopped(Exception):
    """The run was stopped from outside, not by its input (a rank of its ``torchrun`` launch failed): the CLI prints
    ``error: <message>`` and exits with status 1."""


def exit_status(command: Callable[[], object], interrupted: str = "nothing was written") -> int:
    """Run a CLI command: 0 when it succeeds; 2 and one ``error:`` line for bad input; 1 and one line when the
    system fails it (a full disk, a lost drive: outputs are atomic, so nothing was written) or stops it; 130 on
    Ctrl-C, with ``interrupted`` saying what is left."""
    try:
        command()
    except RTIError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Stopped as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}; nothing was written", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"interrupted; {interrupted}", file=sys.stderr)
        return 130
    return 0
