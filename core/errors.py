"""The one exception type for bad input: its message is a single line that names the file and the problem."""


class RTIError(Exception):
    """Bad input or an impossible request; the CLI prints ``error: <message>`` and exits with status 2."""
