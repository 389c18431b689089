"""Write the store's organization as an organization folder (the format `waypoint import`
reads). Files are written to a temporary folder beside the target and moved into place at the
end, so a failed export leaves no half-written folder. Rows are in primary-key order, so the
same store always exports the same bytes."""

from __future__ import annotations

import csv
import json
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Table, select

from features import tables as t
from features.domain import EvidenceKind
from features.organization.files import FILES, FileSpec
from features.store import Store

EVIDENCE_FILE = {
    EvidenceKind.PERFORMANCE_REVIEW.value: "reviews.jsonl",
    EvidenceKind.COURSE_COMPLETION.value: "course_completions.csv",
    EvidenceKind.MANAGER_ENDORSEMENT.value: "endorsements.csv",
    EvidenceKind.SELF_DECLARED.value: "self_declared_skills.csv",
}
LINK_REVIEW_FILE = "role_occupation_links.csv"
"""Written by the export for review (how every role is linked, with scores); not imported."""
LINK_REVIEW_COLUMNS = ("role_id", "title", "method", "occupation_uri", "label", "onet_code",
                       "score")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _json(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def _write(folder: Path, spec: FileSpec, rows: Iterable[dict[str, Any]]) -> int:
    columns = list(spec.record.model_fields)
    n = 0
    with (folder / spec.name).open("w", encoding="utf-8", newline="") as handle:
        if spec.format == "csv":
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(columns)
            for row in rows:
                writer.writerow([_cell(row.get(c)) for c in columns])
                n += 1
        else:
            for row in rows:
                values = {c: _json(row.get(c)) for c in columns}
                handle.write(json.dumps(values, ensure_ascii=False) + "\n")
                n += 1
    return n


def _rows(store: Store, table: Table) -> Iterator[dict[str, Any]]:
    with store.engine.connect() as conn:
        query = select(table).order_by(*table.primary_key.columns)
        for row in conn.execute(query).mappings():
            yield dict(row)


def _role_rows(store: Store) -> Iterator[dict[str, Any]]:
    links = {r["role_id"]: r for r in _rows(store, t.role_occupations)}
    for role in _rows(store, t.roles):
        link = links.get(role["id"])
        given = link is None or link["method"] == "given"
        yield {**role, "onet_code": role["onet_code"] if given else None,
               "occupation_uri": link["occupation_uri"] if link is not None and given else None}


def _employee_rows(store: Store) -> Iterator[dict[str, Any]]:
    left = {r["employee_id"]: r["left_on"] for r in _rows(store, t.employee_departures)}
    for employee in _rows(store, t.employees):
        yield {**employee, "left_on": left.get(employee["id"])}


def _evidence_rows(store: Store, kind: str) -> Iterator[dict[str, Any]]:
    names = {"performance_review": {"occurred_on": "reviewed_on", "author_id": "reviewer_id"},
             "course_completion": {"occurred_on": "completed_on"},
             "manager_endorsement": {"occurred_on": "endorsed_on", "author_id": "endorser_id"},
             "self_declared": {"occurred_on": "declared_on"}}[kind]
    for row in _rows(store, t.evidence):
        if row["kind"] == kind:
            yield {names.get(k, k): v for k, v in row.items()}


def _link_review_rows(store: Store) -> Iterator[dict[str, Any]]:
    """Every role's occupation link; a role the store holds no link for (a simulated one) is
    shown as the import would link it: ``given``, by its O*NET code."""
    links = {r["role_id"]: r for r in _rows(store, t.role_occupations)}
    with store.engine.connect() as conn:
        titles = {str(c): str(ti) for c, ti in conn.execute(
            select(t.onet_occupations.c.code, t.onet_occupations.c.title))}
    for role in _rows(store, t.roles):
        link = links.get(role["id"])
        if link is None:
            code = role["onet_code"]
            link = {"role_id": role["id"], "title": role["title"], "method": "given",
                    "occupation_uri": None, "label": titles.get(code or "", ""),
                    "onet_code": code, "score": None}
        yield link


def _locations(store: Store) -> list[dict[str, Any]]:
    stored = list(_rows(store, t.locations))
    if stored:
        return stored
    named: set[str] = set()
    for table in (t.employees, t.opportunities):
        with store.engine.connect() as conn:
            named.update(str(v) for v in conn.execute(select(table.c.location)).scalars())
    return [{"id": name, "name": name} for name in sorted(named)]


def export_organization(store: Store, out: Path, *, protected: bool = False) -> dict[str, int]:
    """Write every file of the format to ``out`` (replaced whole); rows written per file.
    Protected attributes are written only when asked (``protected``): they are for fairness
    audits of the importing deployment, and read through `features.protected`."""
    from features.protected import read_protected_attributes

    sources: dict[str, Iterable[dict[str, Any]]] = {
        "departments.csv": _rows(store, t.departments),
        "locations.csv": _locations(store),
        "roles.csv": _role_rows(store),
        "employees.csv": _employee_rows(store),
        "opportunities.csv": _rows(store, t.opportunities),
        "courses.csv": _rows(store, t.courses),
        "moves.csv": _rows(store, t.moves),
        "events.csv": _rows(store, t.events),
        "occupation_overrides.csv": (r for r in _rows(store, t.role_occupations)
                                     if r["method"] == "override"),
    }
    for kind, name in EVIDENCE_FILE.items():
        sources[name] = _evidence_rows(store, kind)
    if protected:
        found = read_protected_attributes(store.engine)
        sources["protected_attributes.csv"] = (found[k].model_dump(mode="json")
                                               for k in sorted(found))
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    counts: dict[str, int] = {}
    try:
        for spec in FILES:
            if spec.name in sources:
                counts[spec.name] = _write(staging, spec, sources[spec.name])
        with (staging / LINK_REVIEW_FILE).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(LINK_REVIEW_COLUMNS)
            for row in _link_review_rows(store):
                writer.writerow([_cell(row[c]) for c in LINK_REVIEW_COLUMNS])
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return counts
