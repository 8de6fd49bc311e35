"""The one exception type for bad input: scripts print its message as one line and exit 2."""


class InputError(Exception):
    """Bad input from the user or the file system (missing file, wrong shape, bad flag)."""
