"""User-facing errors: the CLI prints them as one line and exits non-zero."""


class DiplostanceError(Exception):
    """A mistake in user input (file, model directory, option); never a bug."""


class DataError(DiplostanceError):
    """A problem at a known place in an input file: prints as ``path:line: message``."""

    def __init__(self, path, line: int | None, message: str):
        self.path, self.line, self.message = str(path), line, message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")
