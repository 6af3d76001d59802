"""User-facing errors: the CLI prints them as one line and exits non-zero."""

from __future__ import annotations

from dataclasses import dataclass


class DiplostanceError(Exception):
    """A mistake in user input (file, model directory, option); never a bug."""

    exit_code = 2  # what the CLI exits with (the table is in README.md, "Exit codes")


class IncompleteRun(DiplostanceError):
    """The run finished but left inputs out: nothing could be scored, or (--strict) some
    input was skipped. The errors file says which and why."""

    exit_code = 3


@dataclass(frozen=True)
class Where:
    """A place in an input file: every record that came from a file keeps one, so an error
    about it can name the file and line without re-parsing a string."""

    path: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line is not None else self.path

    def error(self, message: str) -> "DataError":
        """DataError at this place: ``raise row["where"].error("...")``."""
        return DataError(self.path, self.line, message)


class DataError(DiplostanceError):
    """A problem at a known place in an input file: prints as ``path:line: message``."""

    def __init__(self, path, line: int | None, message: str):
        self.path, self.line, self.message = str(path), line, message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")

    def __reduce__(self):  # picklable: the reader process hands its errors to the scoring process
        return DataError, (self.path, self.line, self.message)
