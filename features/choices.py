"""People's own choices about an opportunity: apply, "not interested" and save, read the same
way by serving (an opening's applicants, a person's saved list) and by the training set
(`training.ranking.dataset.historical_queries`).

The rule: for each (person, opportunity) the **latest** of their ``application`` and
``not_interested`` events is their word. "Not interested" after applying withdraws the
application (the owner no longer sees it; the next training set does not count the person as
considered); applying after "not interested" is a change of mind and counts. Only the person
writes either event (``POST /v1/events`` takes events about the caller only), so a choice can
withdraw a person's own label and nobody else's.
"""

from __future__ import annotations

from collections.abc import Iterable

from features.domain import Event, EventKind

PURSUIT = frozenset({EventKind.APPLICATION, EventKind.NOT_INTERESTED})
"""The events that say whether a person pursues an opportunity."""


def _order(event: Event) -> tuple[str, str]:
    return (event.occurred_at.replace(tzinfo=None).isoformat(), event.id)


def last_word(events: Iterable[Event]) -> dict[tuple[str, str], EventKind]:
    """``(employee id, opportunity id)`` -> the kind of the person's latest ``application`` or
    ``not_interested`` event on it (other events are ignored)."""
    found: dict[tuple[str, str], Event] = {}
    for event in events:
        if event.kind not in PURSUIT or event.opportunity_id is None:
            continue
        pair = (event.employee_id, event.opportunity_id)
        seen = found.get(pair)
        if seen is None or _order(event) >= _order(seen):
            found[pair] = event
    return {pair: event.kind for pair, event in found.items()}


def dismissed_pairs(events: Iterable[Event]) -> frozenset[tuple[str, str]]:
    """``(employee id, opportunity id)`` whose latest word is "not interested" (a dismissal,
    and a withdrawal of any earlier application)."""
    return frozenset(pair for pair, kind in last_word(events).items()
                     if kind is EventKind.NOT_INTERESTED)


def first_per_person(events: Iterable[Event]) -> list[Event]:
    """The first event per person, in the order given (oldest first in, oldest first out)."""
    first: dict[str, Event] = {}
    for event in events:
        first.setdefault(event.employee_id, event)
    return list(first.values())


def saved(events: Iterable[Event]) -> list[Event]:
    """A person's ``saved`` events still standing, one per opportunity (the latest), newest
    first: a save is undone by a later "not interested" on the same opportunity."""
    latest: dict[str, Event] = {}
    dismissed: dict[str, Event] = {}
    for event in events:
        if event.opportunity_id is None:
            continue
        into = latest if event.kind is EventKind.SAVED else (
            dismissed if event.kind is EventKind.NOT_INTERESTED else None)
        if into is None:
            continue
        seen = into.get(event.opportunity_id)
        if seen is None or _order(event) >= _order(seen):
            into[event.opportunity_id] = event
    standing = [e for oid, e in latest.items()
                if oid not in dismissed or _order(dismissed[oid]) < _order(e)]
    return sorted(standing, key=_order, reverse=True)
