"""Checks across rows and files: duplicate ids, references to ids that exist nowhere, dates in
the future or out of order. An id referenced by a file may exist in the same import or already
in the store (``known``): an incremental import need not repeat unchanged files.

`FolderCheck` sees the valid rows one at a time, file after file in `FILES` order (every
reference points at an earlier file, or at the same one: a manager later in employees.csv), and
keeps only the id sets of the files other rows reference (repeated ids elsewhere are found from
hashes, `features.organization.duplicates`). Its problems come out
in the order a check of the whole folder at once would report them (the reader's first, then
duplicates, then unknown references column by column, then the date and vocabulary checks),
each group keeping its first ``limit``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from features.organization.duplicates import Duplicates
from features.organization.files import EVIDENCE_FILES, FILES, FileSpec
from features.organization.problems import Problems
from features.organization.reader import FileRows, Row
from features.organization.records import EmployeeRecord, OpportunityRecord


@dataclass(frozen=True)
class KnownIds:
    """Ids already in the store, by entity, and the reference data's URIs (empty: unchecked)."""

    ids: Mapping[str, frozenset[str]] = field(default_factory=dict)
    skill_uris: frozenset[str] = frozenset()
    occupation_uris: frozenset[str] = frozenset()


# (file, column) -> the file whose ids it references.
REFERENCES: dict[tuple[str, str], str] = {
    ("roles.csv", "department_id"): "departments.csv",
    ("employees.csv", "role_id"): "roles.csv",
    ("employees.csv", "department_id"): "departments.csv",
    ("employees.csv", "manager_id"): "employees.csv",
    ("employees.csv", "location"): "locations.csv",
    ("protected_attributes.csv", "employee_id"): "employees.csv",
    ("opportunities.csv", "department_id"): "departments.csv",
    ("opportunities.csv", "location"): "locations.csv",
    ("opportunities.csv", "role_id"): "roles.csv",
    ("opportunities.csv", "owner_id"): "employees.csv",
    ("opportunities.csv", "mentor_id"): "employees.csv",
    ("reviews.jsonl", "employee_id"): "employees.csv",
    ("reviews.jsonl", "reviewer_id"): "employees.csv",
    ("course_completions.csv", "employee_id"): "employees.csv",
    ("course_completions.csv", "course_id"): "courses.csv",
    ("endorsements.csv", "employee_id"): "employees.csv",
    ("endorsements.csv", "endorser_id"): "employees.csv",
    ("self_declared_skills.csv", "employee_id"): "employees.csv",
    ("moves.csv", "employee_id"): "employees.csv",
    ("moves.csv", "from_role_id"): "roles.csv",
    ("moves.csv", "to_role_id"): "roles.csv",
    ("moves.csv", "opportunity_id"): "opportunities.csv",
    ("events.csv", "employee_id"): "employees.csv",
    ("events.csv", "opportunity_id"): "opportunities.csv",
    ("occupation_overrides.csv", "role_id"): "roles.csv",
}
TARGETS = frozenset(REFERENCES.values())
"""Files whose ids other rows reference (their exact id sets are kept to the end)."""

# Dates that describe the past: after ``today`` they are an error.
PAST_DATES: dict[str, tuple[str, ...]] = {
    "employees.csv": ("hired_on", "role_since", "left_on"),
    "opportunities.csv": ("posted_on",),
    "reviews.jsonl": ("reviewed_on",),
    "course_completions.csv": ("completed_on",),
    "endorsements.csv": ("endorsed_on",),
    "self_declared_skills.csv": ("declared_on",),
    "moves.csv": ("moved_on",),
    "events.csv": ("occurred_at",),
}

SKILL_COLUMNS: dict[str, str] = {
    "opportunities.csv": "skill_uris", "courses.csv": "skill_uris",
    "endorsements.csv": "skill_uri", "self_declared_skills.csv": "skill_uri",
}
OCCUPATION_FILES = ("roles.csv", "occupation_overrides.csv")
_REFERENCES_OF: dict[str, list[tuple[str, str]]] = {}
for (_source, _column), _target in REFERENCES.items():
    _REFERENCES_OF.setdefault(_source, []).append((_column, _target))
_ORDER = {spec.name: i for i, spec in enumerate(FILES)}
_LAST_EVIDENCE = max(_ORDER[name] for name in EVIDENCE_FILES)


class FolderCheck:
    """Every cross-row check, fed the valid rows of one file after another (see the module):
    `row` for each, `end` after each file, `problems` at the end."""

    def __init__(self, folder: Path, known: KnownIds, today: date, limit: int) -> None:
        self.known, self.today, self.limit = known, today, limit
        self.keys: dict[str, set[str]] = {}
        """The ids of the valid rows of each file read that other rows reference (`TARGETS`)."""
        self.present: set[str] = set()
        self.unreadable: set[str] = set()
        self.invalid: dict[str, set[str]] = {}
        self.duplicates = Duplicates(folder, limit)
        self._last_line = 0
        self._references = {pair: Problems(limit) for pair in REFERENCES}
        self._employees = Problems(limit)
        self._opportunities = Problems(limit)
        self._dates = Problems(limit)
        self._skills = Problems(limit)
        self._occupations = Problems(limit)
        self._pending: list[tuple[int, int | None, str, str]] = []
        """References to the file being read, to be checked once all its ids are known."""
        self._targets: dict[str, tuple[frozenset[str] | set[str], ...] | None] = {}
        self._columns: dict[str, int] = {}

    def begin(self, spec: FileSpec) -> None:
        self.present.add(spec.name)
        if spec.name in TARGETS:
            self.keys[spec.name] = set()
        self._last_line = 0

    def _target(self, name: str) -> tuple[frozenset[str] | set[str], ...] | None:
        """The id sets of ``name`` in this import and the store; None when references to it are
        not checked: the file was unreadable, or neither the import nor the store has the
        entity at all (locations: a company that sends no locations file has free-text
        locations; any other entity: every reference to it is unknown)."""
        if name in self._targets:
            return self._targets[name]
        stored = self.known.ids.get(name)
        found: tuple[frozenset[str] | set[str], ...] | None
        if name in self.unreadable:
            found = None
        elif name not in self.present and stored is None:
            found = None if name == "locations.csv" else ()
        else:
            found = (self.keys.get(name, set()), self.invalid.get(name, set()),
                     stored or frozenset())
        self._targets[name] = found
        return found

    def _unknown(self, name: str, line: int, column: str, value: str, target: str) -> None:
        self._references[(name, column)].add(
            name, line, self._columns.get(column), column,
            f"unknown id {value!r} (not in {target} nor in the store)")

    def row(self, spec: FileSpec, row: Row, columns: dict[str, int] | None) -> None:
        """Check one valid row of ``spec`` (``columns``: the CSV header positions)."""
        name, record, line = spec.name, row.record, row.line
        self._columns = columns or {}
        col = self._columns.get
        key = getattr(record, spec.key)
        self._last_line = line
        keys = self.keys.get(name)
        if keys is not None:
            self.duplicates.exact(spec, key, line, col(spec.key), keys)
        else:
            self.duplicates.hashed(key)
        for column, target in _REFERENCES_OF.get(name, ()):
            value = getattr(record, column)
            if value is None:
                continue
            if target == name:
                if keys is None or value not in keys:
                    self._pending.append((line, col(column), column, value))
                continue
            valid = self._target(target)
            if valid is not None and not any(value in ids for ids in valid):
                self._unknown(name, line, column, value, target)
        if name == "employees.csv":
            self._employee(record, line)  # type: ignore[arg-type]
        elif name == "opportunities.csv":
            opp: OpportunityRecord = record  # type: ignore[assignment]
            if opp.closes_on is not None and opp.closes_on < opp.posted_on:
                self._opportunities.add(name, line, col("closes_on"), "closes_on",
                                        f"{opp.closes_on} is before posted_on {opp.posted_on}")
        for column in PAST_DATES.get(name, ()):
            value = getattr(record, column)
            day = value.date() if isinstance(value, datetime) else value
            if day is not None and day > self.today:
                self._dates.add(name, line, col(column), column,
                                f"{value} is in the future (today is {self.today})")
        if self.known.skill_uris and name in SKILL_COLUMNS:
            column = SKILL_COLUMNS[name]
            value = getattr(record, column)
            uris: Iterable[str] = (value,) if isinstance(value, str) else value
            for uri in uris:
                if uri not in self.known.skill_uris:
                    self._skills.add(name, line, col(column), column,
                                     f"unknown ESCO skill {uri!r}")
        if self.known.occupation_uris and name in OCCUPATION_FILES:
            occupation = getattr(record, "occupation_uri", None)
            if occupation is not None and occupation not in self.known.occupation_uris:
                self._occupations.add(name, line, col("occupation_uri"), "occupation_uri",
                                      f"unknown ESCO occupation {occupation!r}")

    def _employee(self, emp: EmployeeRecord, line: int) -> None:
        name, col = "employees.csv", self._columns.get
        if emp.manager_id == emp.id:
            self._employees.add(name, line, col("manager_id"), "manager_id",
                                "an employee cannot be their own manager")
        if emp.role_since < emp.hired_on:
            self._employees.add(name, line, col("role_since"), "role_since",
                                f"{emp.role_since} is before hired_on {emp.hired_on}")
        if emp.left_on is not None and emp.left_on < emp.hired_on:
            self._employees.add(name, line, col("left_on"), "left_on",
                                f"{emp.left_on} is before hired_on {emp.hired_on}")

    def end(self, spec: FileSpec, rows: FileRows | None) -> None:
        """``spec`` was read (``rows``: how; None: not at all): its references to itself and
        the repeats of its hashed ids are checked."""
        name = spec.name
        if rows is None or rows.unreadable:
            self.unreadable.add(name)
        if rows is not None and rows.invalid_ids:
            self.invalid[name] = rows.invalid_ids
        pending, self._pending = self._pending, []
        valid = self._target(name)
        for line, column_at, column, value in pending:
            if valid is not None and not any(value in ids for ids in valid):
                self._references[(name, column)].add(
                    name, line, column_at, column,
                    f"unknown id {value!r} (not in {name} nor in the store)")
        if name not in TARGETS:
            later = _ORDER[name] < _LAST_EVIDENCE
            self.duplicates.end(spec, self._last_line, name in EVIDENCE_FILES and later)
            if not later:
                self.duplicates.end_evidence()

    def problems(self, read: Problems) -> Problems:
        """Every problem: ``read`` (the reader's), then each check's, in the order of a check
        of the whole folder at once."""
        out = Problems(self.limit)
        out.extend(read)
        out.extend(self.duplicates.problems())
        for pair in REFERENCES:
            out.extend(self._references[pair])
        for group in (self._employees, self._opportunities, self._dates, self._skills,
                      self._occupations):
            out.extend(group)
        return out
