"""The latest word rule for applications, dismissals and saves (`features.choices`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from features.choices import dismissed_pairs, first_per_person, last_word, saved
from features.domain import Event, EventKind

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)


def ev(n: int, kind: EventKind, who: str = "e1", oid: str = "o1") -> Event:
    return Event(id=f"ev{n:03d}", kind=kind, employee_id=who, opportunity_id=oid,
                 occurred_at=T0 + timedelta(hours=n))


def test_the_latest_of_apply_and_dismiss_is_the_persons_word() -> None:
    events = [ev(1, EventKind.APPLICATION), ev(2, EventKind.NOT_INTERESTED),   # withdrawn
              ev(3, EventKind.NOT_INTERESTED, "e2"), ev(4, EventKind.APPLICATION, "e2"),  # back
              ev(5, EventKind.CLICK, "e3"), ev(6, EventKind.NOT_INTERESTED, "e4", "o2")]
    assert last_word(reversed(events)) == {("e1", "o1"): EventKind.NOT_INTERESTED,
                                           ("e2", "o1"): EventKind.APPLICATION,
                                           ("e4", "o2"): EventKind.NOT_INTERESTED}
    assert dismissed_pairs(events) == {("e1", "o1"), ("e4", "o2")}
    # naive (SQLite) and aware timestamps order together (both are UTC)
    naive = ev(7, EventKind.APPLICATION).model_copy(
        update={"occurred_at": (T0 + timedelta(hours=7)).replace(tzinfo=None)})
    assert dismissed_pairs([*events, naive]) == {("e4", "o2")}


def test_a_save_stands_until_a_later_dismissal() -> None:
    events = [ev(1, EventKind.SAVED, oid="o1"), ev(2, EventKind.SAVED, oid="o2"),
              ev(3, EventKind.NOT_INTERESTED, oid="o1"), ev(4, EventKind.SAVED, oid="o3"),
              ev(5, EventKind.NOT_INTERESTED, oid="o4"), ev(6, EventKind.SAVED, oid="o4"),
              ev(7, EventKind.SAVED, oid="o2")]
    assert [(e.opportunity_id, e.id) for e in saved(events)] == [
        ("o2", "ev007"), ("o4", "ev006"), ("o3", "ev004")]


def test_first_per_person_keeps_the_order() -> None:
    events = [ev(1, EventKind.APPLICATION, "e2"), ev(2, EventKind.APPLICATION, "e1"),
              ev(3, EventKind.APPLICATION, "e2")]
    assert [e.id for e in first_per_person(events)] == ["ev001", "ev002"]
