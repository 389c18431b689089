"""Store access for live changes: opportunities posted and edited through the API, their
inferred requirements, the change counter every API worker polls, people's dismissals and the
applications an opportunity received, the items they saved. Tables: `features.live_tables`.

Every write is one transaction: the opportunity row, its requirements, a ``live_changes`` row
and the idempotency key land together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.exc import IntegrityError

from features import live_tables as lt
from features import tables as t
from features.choices import PURSUIT, dismissed_pairs, first_per_person, saved
from features.domain import Event, EventKind, Evidence, Opportunity, RequirementProfile
from features.errors import WaypointError
from features.profiles import Observation
from features.store import Store, _plain, add_missing_columns


class KeyReused(WaypointError):
    """An idempotency key was already used for a different request (409)."""


@dataclass(frozen=True)
class KeptWrite:
    """What an idempotency key recorded: the kind of write and the id it made."""

    kind: str
    subject_id: str
    request: dict[str, Any]


LIVE_TABLES = (lt.opportunity_requirements, lt.live_changes, lt.write_keys,
               lt.live_observations, lt.employee_preferences)


def ensure_live_tables(store: Store) -> None:
    """Create the live tables in a store made before they existed, and the columns added
    since (`features.store.ADDED_COLUMNS`: an API-posted opportunity's time commitment);
    idempotent."""
    t.metadata.create_all(store.engine, tables=list(LIVE_TABLES), checkfirst=True)
    add_missing_columns(store.engine)


def change_counter(store: Store) -> int:
    """The id of the latest live change (0 before any): a worker's cue to refresh."""
    with store.engine.connect() as conn:
        found = conn.execute(select(func.max(lt.live_changes.c.id))).scalar_one_or_none()
    return int(found or 0)


def changes_since(store: Store, after: int) -> list[tuple[str, str]]:
    """``(kind, subject id)`` of the live changes after change ``after``, oldest first."""
    c = lt.live_changes.c
    query = select(c.kind, c.subject_id).where(c.id > after).order_by(c.id)
    with store.engine.connect() as conn:
        return [(str(k), str(s)) for k, s in conn.execute(query)]


def record_change(store: Store, kind: str, subject_id: str) -> None:
    """A change other workers must pick up (e.g. a skill someone rejected)."""
    with store.engine.begin() as conn:
        _changed(conn, kind, subject_id, datetime.now(UTC))


def live_observations(store: Store, employee_ids: Any = None) -> dict[str, list[Observation]]:
    """Observations of the evidence written through the API, by employee (everyone's, or the
    given employees')."""
    c = lt.live_observations.c
    query = select(c.employee_id, c.observations).order_by(c.created_at, c.evidence_id)
    if employee_ids is not None:
        query = query.where(c.employee_id.in_(sorted(employee_ids)))
    out: dict[str, list[Observation]] = {}
    with store.engine.connect() as conn:
        for eid, rows in conn.execute(query):
            out.setdefault(str(eid), []).extend(Observation.model_validate(r) for r in rows)
    return out


def add_evidence(store: Store, evidence: Evidence, observations: list[Observation], key: str,
                 request: dict[str, Any]) -> tuple[Evidence, bool]:
    """Store evidence about a person once per idempotency key, with its observations and a
    ``profile`` change; returns the stored evidence and whether this call created it."""
    kept = kept_write(store, key)
    if kept is None:
        now = datetime.now(UTC)
        try:
            with store.engine.begin() as conn:
                conn.execute(lt.write_keys.insert(), [{
                    "key": key, "kind": "evidence", "subject_id": evidence.id,
                    "request": request, "created_at": now}])
                conn.execute(t.evidence.insert(), [
                    {k: _plain(v) for k, v in evidence.__dict__.items()}])
                conn.execute(lt.live_observations.insert(), [{
                    "evidence_id": evidence.id, "employee_id": evidence.employee_id,
                    "observations": [o.model_dump(mode="json") for o in observations],
                    "created_at": now}])
                _changed(conn, "profile", evidence.employee_id, now)
            return evidence, True
        except IntegrityError:
            kept = kept_write(store, key)
            if kept is None:
                raise
    if kept.kind != "evidence" or kept.request != request:
        raise KeyReused("this idempotency key was already used for a different request; "
                        "use a new key for new evidence")
    found = [e for e in store.evidence(str(request.get("employee_id", ""))) if e.id ==
             kept.subject_id]
    if not found:  # pragma: no cover - the key and the row are written together
        raise WaypointError(f"idempotency key {key!r} names missing evidence")
    return found[0], False


def live_requirements(store: Store) -> dict[str, RequirementProfile]:
    """Requirements of the opportunities posted or edited through the API, by id."""
    c = lt.opportunity_requirements.c
    with store.engine.connect() as conn:
        rows = conn.execute(select(c.opportunity_id, c.requirements)).all()
    return {str(oid): RequirementProfile.model_validate(reqs) for oid, reqs in rows}


def dismissed_ids(store: Store, employee_id: str) -> frozenset[str]:
    """Opportunities the employee marked "not interested" (``not_interested`` events)."""
    c = t.events.c
    query = select(c.opportunity_id).where(
        c.employee_id == employee_id, c.kind == EventKind.NOT_INTERESTED.value,
        c.opportunity_id.is_not(None))
    with store.engine.connect() as conn:
        return frozenset(str(o) for o in conn.execute(query).scalars())


def applications(store: Store, opportunity_id: str) -> list[Event]:
    """``application`` events for the opportunity, oldest first, one per person (the first),
    without the people who withdrew ("not interested" after applying: `features.choices`)."""
    c = t.events.c
    query = select(t.events).where(c.opportunity_id == opportunity_id,
                                   c.kind.in_([k.value for k in PURSUIT])
                                   ).order_by(c.occurred_at, c.id)
    with store.engine.connect() as conn:
        events = [Event.model_validate(dict(r)) for r in conn.execute(query).mappings()]
    withdrawn = dismissed_pairs(events)
    return first_per_person(e for e in events if e.kind is EventKind.APPLICATION
                            and (e.employee_id, opportunity_id) not in withdrawn)


def saved_events(store: Store, employee_id: str) -> list[Event]:
    """The employee's standing ``saved`` events, newest first (`features.choices.saved`)."""
    c = t.events.c
    query = select(t.events).where(
        c.employee_id == employee_id,
        c.kind.in_([EventKind.SAVED.value, EventKind.NOT_INTERESTED.value]))
    with store.engine.connect() as conn:
        return saved([Event.model_validate(dict(r)) for r in conn.execute(query).mappings()])


def owned_opportunities(store: Store, owner_id: str) -> list[Opportunity]:
    """Every opportunity the employee owns, whatever its status, newest first."""
    c = t.opportunities.c
    query = select(t.opportunities).where(c.owner_id == owner_id).order_by(
        c.posted_on.desc(), c.id)
    with store.engine.connect() as conn:
        return [Opportunity.model_validate(dict(r)) for r in conn.execute(query).mappings()]


def kept_write(store: Store, key: str) -> KeptWrite | None:
    """What the (caller-scoped) idempotency key recorded, if it was used."""
    c = lt.write_keys.c
    with store.engine.connect() as conn:
        row = conn.execute(select(c.kind, c.subject_id, c.request).where(c.key == key)).first()
    return None if row is None else KeptWrite(str(row[0]), str(row[1]), dict(row[2]))


def _row(opportunity: Opportunity) -> dict[str, Any]:
    return {name: _plain(value) for name, value in opportunity.__dict__.items()}


def _changed(conn: Connection, kind: str, subject_id: str, now: datetime) -> None:
    conn.execute(lt.live_changes.insert(), [{"kind": kind, "subject_id": subject_id,
                                             "changed_at": now}])


def _set_requirements(conn: Connection, requirements: RequirementProfile, now: datetime) -> None:
    c = lt.opportunity_requirements.c
    conn.execute(lt.opportunity_requirements.delete().where(
        c.opportunity_id == requirements.subject_id))
    conn.execute(lt.opportunity_requirements.insert(), [{
        "opportunity_id": requirements.subject_id,
        "requirements": requirements.model_dump(mode="json"), "updated_at": now}])


def post_opportunity(store: Store, opportunity: Opportunity, requirements: RequirementProfile,
                     key: str, request: dict[str, Any]) -> tuple[Opportunity, bool]:
    """Store a new opportunity with its requirements once per idempotency key; returns the
    stored opportunity and whether this call created it. `KeyReused` when the key was used
    for another request."""
    kept = kept_write(store, key)
    if kept is None:
        now = datetime.now(UTC)
        try:
            with store.engine.begin() as conn:
                conn.execute(lt.write_keys.insert(), [{
                    "key": key, "kind": "opportunity", "subject_id": opportunity.id,
                    "request": request, "created_at": now}])
                conn.execute(t.opportunities.insert(), [_row(opportunity)])
                _set_requirements(conn, requirements, now)
                _changed(conn, "opportunity_posted", opportunity.id, now)
            return opportunity, True
        except IntegrityError:  # a concurrent request with the same key won
            kept = kept_write(store, key)
            if kept is None:
                raise
    if kept.kind != "opportunity" or kept.request != request:
        raise KeyReused("this idempotency key was already used for a different request; "
                        "use a new key for a new opportunity")
    stored = store.opportunity(kept.subject_id)
    if stored is None:  # pragma: no cover - the key and the row are written together
        raise WaypointError(f"idempotency key {key!r} names a missing opportunity")
    return stored, False


def update_opportunity(store: Store, opportunity: Opportunity,
                       requirements: RequirementProfile | None) -> Opportunity:
    """Replace the stored opportunity (same id) and, when given, its requirements."""
    now = datetime.now(UTC)
    values = _row(opportunity)
    with store.engine.begin() as conn:
        conn.execute(t.opportunities.update().where(t.opportunities.c.id == opportunity.id)
                     .values(**{k: v for k, v in values.items() if k != "id"}))
        if requirements is not None:
            _set_requirements(conn, requirements, now)
        _changed(conn, "opportunity_edited", opportunity.id, now)
    return opportunity


def preferred_locations(store: Store, employee_id: str) -> list[str]:
    """Where the employee would like to work (empty: not said)."""
    c = lt.employee_preferences.c
    with store.engine.connect() as conn:
        found = conn.execute(select(c.locations).where(c.employee_id == employee_id)
                             ).scalar_one_or_none()
    return [str(v) for v in (found or [])]


def set_preferences(store: Store, employee_id: str, *, aspirations: str | None,
                    locations: list[str] | None) -> None:
    """Update the employee's aspirations and / or preferred locations, with a ``preferences``
    change so every worker re-reads the person (aspirations are a ranking feature)."""
    now = datetime.now(UTC)
    with store.engine.begin() as conn:
        if aspirations is not None:
            conn.execute(t.employees.update().where(t.employees.c.id == employee_id)
                         .values(aspirations=aspirations))
        if locations is not None:
            conn.execute(lt.employee_preferences.delete().where(
                lt.employee_preferences.c.employee_id == employee_id))
            conn.execute(lt.employee_preferences.insert(), [{
                "employee_id": employee_id, "locations": locations, "updated_at": now}])
        _changed(conn, "preferences", employee_id, now)
