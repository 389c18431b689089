"""``waypoint import``: validate an organization folder completely, then write it in one
transaction (`features.organization.sync`), linking roles to occupations on the way.

Two streamed passes over the files. The first (`features.organization.validate`) validates
every row and keeps only id sets and the roles: nothing is written unless every file is valid,
and every problem (up to ``limit``) is reported as ``file:line:column: column name: message``
in one `InvalidOrganization` error. The second reads the files again in chunks of
``chunk_size`` rows and writes them. Memory grows with the number of ids, not of rows.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from features import tables as t
from features.errors import WaypointError
from features.organization.checks import KnownIds
from features.organization.convert import hint, role
from features.organization.sync import (
    CHUNK,
    Incoming,
    SyncResult,
    reference_uris,
    stored_ids,
    stored_links,
    sync_organization,
)
from features.organization.validate import folder_version, validate_folder
from features.store import Store
from inference.titles import TitleMatcher
from training.organization.linking import OccupationNames, link_roles, needs_matching

log = logging.getLogger(__name__)


@dataclass
class ImportReport:
    folder: str
    version: str
    dry_run: bool
    result: SyncResult
    links: list[dict[str, Any]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        methods: dict[str, int] = {}
        for link in self.links:
            methods[link["method"]] = methods.get(link["method"], 0) + 1
        return {
            "folder": self.folder, "version": self.version, "dry_run": self.dry_run,
            "changed": self.result.changed, "replaced": self.result.replaced,
            "tables": {k: v.as_json() for k, v in self.result.tables.items()},
            "newly_left": len(self.result.newly_left), "returned": len(self.result.returned),
            "role_links": methods,
            "linked_by_title": [{k: link[k] for k in ("role_id", "title", "occupation_uri",
                                                      "label", "onet_code", "score", "method")}
                                for link in self.links
                                if link["method"] in ("title_match", "unlinked")],
            "seconds": self.seconds,
        }


__all__ = ["ImportReport", "folder_version", "import_organization"]


def _names(store: Store, matcher: TitleMatcher | None) -> OccupationNames:
    with store.engine.connect() as conn:
        esco = {str(u): str(lab) for u, lab in conn.execute(
            select(t.esco_occupations.c.uri, t.esco_occupations.c.label))}
        onet = {str(c): str(ti) for c, ti in conn.execute(
            select(t.onet_occupations.c.code, t.onet_occupations.c.title))}
    return OccupationNames.of(esco, onet, matcher)


def import_organization(folder: Path, store: Store, *, title_index: Path,
                        today: date | None = None, dry_run: bool = False,
                        replace: bool = False, limit: int = 100, chunk_size: int = CHUNK,
                        progress: bool = False) -> ImportReport:
    """Validate ``folder`` and bring the store's organization to it (see the module);
    ``progress``: a progress bar per file and pass."""
    from inference.titles import TitleIndexUnavailable, load_matcher

    started = time.perf_counter()
    today = today or date.today()
    store.create_schema()
    skills, occupations = reference_uris(store)
    if not skills:
        raise WaypointError("the store holds no reference data: run `waypoint ingest` first")
    known = KnownIds({} if replace else stored_ids(store), skills, occupations)
    valid = validate_folder(folder, known, today, limit=limit, progress=progress)
    del known
    read = time.perf_counter()
    roles = [role(r) for r in valid.roles]
    hints = {r.id: hint(r) for r in valid.roles}
    overrides = valid.overrides
    stored = {} if replace else stored_links(store)
    matcher: TitleMatcher | None = None
    if needs_matching(roles, hints, overrides, stored) \
            or any(h.occupation_uri and not h.onet_code for h in hints.values()) \
            or overrides:
        try:
            matcher = load_matcher(title_index)
        except TitleIndexUnavailable as exc:
            if needs_matching(roles, hints, overrides, stored):
                raise WaypointError(f"roles without an occupation code need the job-title "
                                    f"index to be linked: {exc}") from None
    linked, links = link_roles(roles, hints, overrides, stored, matcher,
                               _names(store, matcher))
    checked = time.perf_counter()
    incoming = Incoming(folder, valid.files, valid.sha256, linked, links, valid.employee_ids)
    result = sync_organization(store, incoming, valid.version, today, dry_run=dry_run,
                               replace=replace, chunk_size=chunk_size, progress=progress)
    done = time.perf_counter()
    seconds = {"read": round(read - started, 2), "check_and_link": round(checked - read, 2),
               "write": round(done - checked, 2), "total": round(done - started, 2)}
    log.info("import of %s (%s): %s in %.1fs", folder, valid.version,
             "changed" if result.changed else "no change", done - started)
    return ImportReport(str(folder), valid.version, dry_run, result, links, seconds)
