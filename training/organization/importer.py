"""``waypoint import``: validate an organization folder completely, then write it in one
transaction (`features.organization.sync`), linking roles to occupations on the way.

Nothing is written unless every file is valid: every problem (up to ``limit``) is reported as
``file:line:column: column name: message`` in one `InvalidOrganization` error.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from features import tables as t
from features.errors import WaypointError
from features.organization.checks import KnownIds, check_folder
from features.organization.convert import incoming_organization
from features.organization.files import FILES
from features.organization.problems import InvalidOrganization, Problems
from features.organization.reader import read_folder
from features.organization.sync import (
    SyncResult,
    reference_uris,
    stored_ids,
    stored_links,
    sync_organization,
)
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


def folder_version(folder: Path) -> str:
    """SHA-256 over the names and bytes of the format's files present in ``folder``."""
    digest = hashlib.sha256()
    for spec in FILES:
        path = folder / spec.name
        if path.is_file():
            digest.update(spec.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _names(store: Store, matcher: TitleMatcher | None) -> OccupationNames:
    with store.engine.connect() as conn:
        esco = {str(u): str(lab) for u, lab in conn.execute(
            select(t.esco_occupations.c.uri, t.esco_occupations.c.label))}
        onet = {str(c): str(ti) for c, ti in conn.execute(
            select(t.onet_occupations.c.code, t.onet_occupations.c.title))}
    return OccupationNames.of(esco, onet, matcher)


def import_organization(folder: Path, store: Store, *, title_index: Path,
                        today: date | None = None, dry_run: bool = False,
                        replace: bool = False, limit: int = 100) -> ImportReport:
    """Validate ``folder`` and bring the store's organization to it (see the module)."""
    from inference.titles import TitleIndexUnavailable, load_matcher

    started = time.perf_counter()
    today = today or date.today()
    store.create_schema()
    skills, occupations = reference_uris(store)
    if not skills:
        raise WaypointError("the store holds no reference data: run `waypoint ingest` first")
    problems = Problems(limit=limit)
    parsed = read_folder(folder, problems)
    read = time.perf_counter()
    known = KnownIds({} if replace else stored_ids(store), skills, occupations)
    check_folder(parsed, known, today, problems)
    if problems:
        raise InvalidOrganization(problems)
    incoming = incoming_organization(parsed)
    del parsed  # the records are no longer needed: only the store rows are kept in memory
    stored = {} if replace else stored_links(store)
    matcher: TitleMatcher | None = None
    if needs_matching(incoming.roles, incoming.hints, incoming.overrides, stored) \
            or any(h.occupation_uri and not h.onet_code for h in incoming.hints.values()) \
            or incoming.overrides:
        try:
            matcher = load_matcher(title_index)
        except TitleIndexUnavailable as exc:
            if needs_matching(incoming.roles, incoming.hints, incoming.overrides, stored):
                raise WaypointError(f"roles without an occupation code need the job-title "
                                    f"index to be linked: {exc}") from None
    roles, links = link_roles(incoming.roles, incoming.hints, incoming.overrides, stored,
                              matcher, _names(store, matcher))
    incoming.roles = roles
    checked = time.perf_counter()
    version = folder_version(folder)
    result = sync_organization(store, incoming, links, version, today, dry_run=dry_run,
                               replace=replace)
    done = time.perf_counter()
    seconds = {"read": round(read - started, 2), "check_and_link": round(checked - read, 2),
               "write": round(done - checked, 2), "total": round(done - started, 2)}
    log.info("import of %s (%s): %s in %.1fs", folder, version,
             "changed" if result.changed else "no change", done - started)
    return ImportReport(str(folder), version, dry_run, result, links, seconds)
