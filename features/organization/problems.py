"""Problems found in an organization folder, each pinned to a file, line and column."""

from __future__ import annotations

from dataclasses import dataclass, field

from features.errors import WaypointError


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one place of one file (line 1 is the CSV header; 0: the file)."""

    file: str
    line: int
    column: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        if self.column is not None:
            where += f":{self.column}"
        what = f"{self.field}: {self.message}" if self.field else self.message
        return f"{where}: {what}"

    def as_json(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "column": self.column,
                "field": self.field, "message": self.message}


@dataclass
class Problems:
    """Collects problems up to ``limit``; counts every one found beyond it."""

    limit: int = 100
    found: list[Problem] = field(default_factory=list)
    total: int = 0

    def add(self, file: str, line: int, column: int | None, name: str | None,
            message: str) -> None:
        self.total += 1
        if len(self.found) < self.limit:
            self.found.append(Problem(file, line, column, name, message))

    def extend(self, other: Problems) -> None:
        """Add ``other``'s problems after these, as if they had been added here one by one
        (``other`` keeps its first ``limit``, so up to ``limit`` of them are kept here)."""
        room = max(0, self.limit - len(self.found))
        self.found.extend(other.found[:room])
        self.total += other.total

    @property
    def full(self) -> bool:
        return self.total >= self.limit

    def __bool__(self) -> bool:
        return self.total > 0

    def lines(self) -> list[str]:
        out = [str(p) for p in self.found]
        if self.total > len(self.found):
            out.append(f"... and {self.total - len(self.found)} more problems "
                       f"(reporting stops at {self.limit})")
        return out


class InvalidOrganization(WaypointError):
    """The folder does not hold a valid organization; nothing was written."""

    def __init__(self, problems: Problems) -> None:
        self.problems = problems
        head = f"{problems.total} problem(s) in the organization files; nothing was written"
        super().__init__("\n".join([head, *problems.lines()]))
