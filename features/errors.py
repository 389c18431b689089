"""Errors that name what went wrong and where."""

from __future__ import annotations

from pathlib import Path


class WaypointError(Exception):
    """Base class for errors Waypoint reports to a user rather than as a traceback."""


class SourceFormatError(WaypointError):
    """A reference or HR source file is malformed; says which file, line and column."""

    def __init__(self, path: Path | str, line: int, column: int, message: str) -> None:
        self.path = Path(path)
        self.line = line
        self.column = column
        self.message = message
        super().__init__(f"{self.path}:{line}:{column}: {message}")


class MissingSourceError(WaypointError):
    """A required source file is absent."""


class OfflineError(WaypointError):
    """A network fetch was requested but the network is not reachable."""
