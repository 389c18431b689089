"""``POST /v1/events``: feedback and interaction events from the signed-in employee.

Who: any signed-in employee, for themself only (the admin accounts are not employees: 403; a
body ``employee_id`` naming someone else: 403). Kinds: ``impression``, ``click``,
``application``, ``accepted_move``, ``not_interested``, ``saved`` (these name an
``opportunity_id``),
``skill_rejected`` (names a ``skill_uri``: "this skill is wrong"), ``feedback`` (free text in
``detail``, optionally about an opportunity).

Idempotency: a client-chosen key is required, in the ``Idempotency-Key`` header or the body's
``idempotency_key`` (both: they must agree). Keys are scoped to the caller (stored as
``"<employee id>:<key>"``), so one person's key never returns another person's event. A new
event answers 201; a repeat of the same key answers 200 with the stored event; the same key with
a different event answers 409. A client that got no answer, or a 503 (store unreachable), retries
with the same key and the event is stored exactly once.

Effects: a ``skill_rejected`` event removes the skill from the person's profile at serving time
at once in this worker (``Recommender.forget_employee``) and within ``live_refresh_seconds`` in
others (a ``skill_rejected`` live change row; ``REJECTED_TTL_S`` as the backstop).
``application`` and ``accepted_move`` events are the training labels that
``training.ranking.dataset.historical_queries`` reads from ``store.organization().events``, so
they are guarded: an ``application`` is taken only for an opportunity that is open and not the
caller's own (409 / 403), and ``accepted_move`` is never taken from an employee (403): accepted
moves come from HR's records (ingested with the organization), so no one can write themself a
"moved" label. A ``not_interested`` after an ``application`` withdraws it (the owner's
applicant list and the next training set leave the person out: `features.choices`); it can only
withdraw the caller's own application. ``saved`` keeps an item for later
(``GET /v1/employees/{id}/saved``); it is not a label.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError

from api.deps import StoreDep
from api.ratelimit import rate_limited
from api.security import Principal, forbidden, get_current_principal
from api.security.objects import not_found
from features.domain import Event, EventKind, OpportunityStatus
from features.live_store import record_change

router = APIRouter(prefix="/v1/events", tags=["events"],
                   dependencies=[Depends(get_current_principal)])

KEY_PATTERN = r"^[A-Za-z0-9._:~-]{1,63}$"
OPPORTUNITY_KINDS = frozenset({EventKind.IMPRESSION, EventKind.CLICK, EventKind.APPLICATION,
                               EventKind.ACCEPTED_MOVE, EventKind.NOT_INTERESTED,
                               EventKind.SAVED})


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: EventKind
    employee_id: str | None = Field(default=None, max_length=64,
                                    description="Optional; must be the caller's own id.")
    opportunity_id: str | None = Field(default=None, min_length=1, max_length=64)
    skill_uri: str | None = Field(default=None, min_length=1, max_length=255)
    detail: str = Field(default="", max_length=4000)
    idempotency_key: str | None = Field(default=None, pattern=KEY_PATTERN,
                                        description="Or the Idempotency-Key header.")


class EventRecord(BaseModel):
    id: str
    kind: EventKind
    employee_id: str
    occurred_at: datetime
    opportunity_id: str | None
    skill_uri: str | None
    detail: str
    idempotency_key: str
    """The client's key (without the caller scope)."""

    @classmethod
    def of(cls, event: Event, key: str) -> EventRecord:
        moment = event.occurred_at  # SQLite hands back naive datetimes; all are UTC
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
        return cls(id=event.id, kind=event.kind, employee_id=event.employee_id,
                   occurred_at=moment, opportunity_id=event.opportunity_id,
                   skill_uri=event.skill_uri, detail=event.detail, idempotency_key=key)


def _key(header: str | None, body: str | None) -> str:
    if header is not None and not re.fullmatch(KEY_PATTERN, header):
        raise HTTPException(422, "Idempotency-Key must be 1-63 characters of A-Z a-z 0-9 . _ : ~ -")
    if header is not None and body is not None and header != body:
        raise HTTPException(422, "the Idempotency-Key header and the body's idempotency_key "
                                 "differ")
    key = header if header is not None else body
    if key is None:
        raise HTTPException(422, "an idempotency key is required (Idempotency-Key header or "
                                 "body idempotency_key), so that a retry is stored once")
    return key


def _same(stored: Event, new: Event) -> bool:
    return (stored.kind, stored.employee_id, stored.opportunity_id, stored.skill_uri,
            stored.detail) == (new.kind, new.employee_id, new.opportunity_id, new.skill_uri,
                               new.detail)


def _validate(body: EventIn, store: StoreDep, employee_id: str) -> None:
    if body.kind in OPPORTUNITY_KINDS and body.opportunity_id is None:
        raise HTTPException(422, f"a {body.kind.value} event needs an opportunity_id")
    if body.kind is EventKind.SKILL_REJECTED and body.skill_uri is None:
        raise HTTPException(422, "a skill_rejected event needs the skill_uri that is wrong")
    if body.kind is EventKind.FEEDBACK and not (body.detail.strip() or body.opportunity_id):
        raise HTTPException(422, "a feedback event needs a detail or an opportunity_id")
    opportunity = None if body.opportunity_id is None else store.opportunity(body.opportunity_id)
    if body.opportunity_id is not None and opportunity is None:
        raise not_found("opportunity", body.opportunity_id)
    # The two label events are guarded: they become training labels.
    if body.kind is EventKind.ACCEPTED_MOVE:
        raise forbidden("accepted moves are recorded from HR's move records, not by employees")
    if body.kind is EventKind.APPLICATION and opportunity is not None:
        if opportunity.owner_id == employee_id:
            raise forbidden("you cannot apply to an opportunity you own")
        if opportunity.status is not OpportunityStatus.OPEN:
            raise HTTPException(409, f"opportunity {opportunity.id!r} is "
                                     f"{opportunity.status.value}: applications are taken only "
                                     "while it is open")


@router.post("", response_model=EventRecord, status_code=status.HTTP_201_CREATED,
             responses={200: {"model": EventRecord, "description": "a repeat: the stored event"},
                        409: {"description": "the key was used for a different event, or "
                                             "an application names an opportunity that is "
                                             "not open"},
                        503: {"description": "the store is unreachable; retry with the key"}})
def create_event(
    body: EventIn, request: Request, response: Response, store: StoreDep,
    principal: Annotated[Principal, Depends(rate_limited("events.create", 600))],
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> EventRecord:
    """Record one event about yourself (201), or return the one already stored under the same
    idempotency key (200)."""
    if principal.employee_id is None:
        raise forbidden("events are recorded by employees about themselves")
    if body.employee_id is not None and body.employee_id != principal.employee_id:
        raise forbidden("you may record events only about yourself")
    key = _key(idempotency_key, body.idempotency_key)
    employee_id = principal.employee_id
    scoped = f"{employee_id}:{key}"
    new = Event(id=f"ev-{uuid.uuid4().hex}", kind=body.kind, employee_id=employee_id,
                occurred_at=datetime.now(UTC), opportunity_id=body.opportunity_id,
                skill_uri=body.skill_uri, detail=body.detail, idempotency_key=scoped)
    # A repeat is answered from what was stored (it was valid then, even if, say, the
    # opportunity has closed since); only a new event is validated.
    previous = store.event_by_key(scoped)
    if previous is not None:
        stored = previous
    else:
        _validate(body, store, employee_id)
        try:
            stored = store.add_event(new)
        except IntegrityError:  # a concurrent request with the same key won the insert
            found = store.event_by_key(scoped)
            if found is None:
                raise
            stored = found
    if stored.id != new.id:
        if not _same(stored, new):
            raise HTTPException(409, "this idempotency key was already used for a different "
                                     "event; use a new key for a new event")
        response.status_code = status.HTTP_200_OK
    elif stored.kind is EventKind.SKILL_REJECTED:
        record_change(store, "skill_rejected", employee_id)  # other workers re-read it
        serving = getattr(request.app.state, "serving_model", None)
        current = getattr(serving, "current", None)
        if current is not None:
            current.forget_employee(employee_id)
    return EventRecord.of(stored, key)
