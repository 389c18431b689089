"""Point-in-time views of an employee: what was known strictly before a date.

The store holds each employee's *current* snapshot (role, level, role_since) and the full
history of evidence and moves. Training a ranker on past decisions needs the employee as they
were on the decision date; these pure functions rebuild that view and drop everything dated on
or after it, so no feature can read the future by construction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from features.domain import (
    Course,
    Employee,
    EmployeeProfile,
    Evidence,
    EvidenceKind,
    Move,
    Opportunity,
    ProfileEntry,
    Requirement,
    RequirementProfile,
    Role,
)


@dataclass(frozen=True)
class EmployeeHistory:
    """One employee's evidence and moves, each strictly before ``as_of``, oldest first."""

    as_of: date
    evidence: tuple[Evidence, ...] = ()
    moves: tuple[Move, ...] = ()


def history_before(as_of: date, evidence: Iterable[Evidence] = (),
                   moves: Iterable[Move] = ()) -> EmployeeHistory:
    """Keep only what happened strictly before ``as_of``."""
    return EmployeeHistory(
        as_of=as_of,
        evidence=tuple(sorted((e for e in evidence if e.occurred_on < as_of),
                              key=lambda e: (e.occurred_on, e.id))),
        moves=tuple(sorted((m for m in moves if m.moved_on < as_of),
                           key=lambda m: (m.moved_on, m.id))),
    )


def records_begin(moves: Iterable[Move], opportunities: Iterable[Opportunity] = ()
                  ) -> date | None:
    """The first day the store's records of moves and openings cover (None when it has none):
    the earliest move or opening. Before it, who held which role since when is not recorded."""
    days = [m.moved_on for m in moves] + [o.posted_on for o in opportunities]
    return min(days) if days else None


def employee_as_of(employee: Employee, moves: Iterable[Move], roles: Mapping[str, Role],
                   as_of: date, records_since: date | None = None) -> Employee | None:
    """The employee as they were on ``as_of`` (role, level, role_since, department).

    Returns None when they had not been hired yet. Moves on or after ``as_of`` are undone: the
    role then is the ``from_role_id`` of the first such move. The aspiration text is blanked:
    the store keeps only today's, undated, and it is written from the job the person holds now
    ("I enjoy my work as <today's role> ..."), so on a past date it would tell which move they
    went on to make (docs/ranking.md, "What a past decision could know").

    ``role_since`` is counted from ``records_since`` at the earliest (`records_begin`), for
    everyone alike. The store keeps the start of the role a person holds *today*; the start
    of an earlier role is known only from a recorded move into it. For a person who later
    moved and has no earlier move on record, taking the hire date instead would make their
    time in role on a past date longer than everyone else's (a role held since hire, for
    exactly the people who went on to move): a feature that tells who will be chosen.
    """
    if employee.hired_on >= as_of:
        return None
    own = sorted((m for m in moves if m.employee_id == employee.id),
                 key=lambda m: (m.moved_on, m.id))
    later = [m for m in own if m.moved_on >= as_of]
    update: dict[str, object] = {"aspirations": ""}
    role_since = employee.role_since
    if later:
        earlier = [m for m in own if m.moved_on < as_of]
        role_id = later[0].from_role_id
        role_since = earlier[-1].moved_on if earlier else employee.hired_on
        update["role_id"] = role_id
        role = roles.get(role_id)
        if role is not None:
            update["level"] = role.level
            update["department_id"] = role.department_id
    update["role_since"] = role_since
    return role_counted_from(employee.model_copy(update=update), records_since)


def role_counted_from(employee: Employee, records_since: date | None) -> Employee:
    """``employee`` with time in role counted from ``records_since`` at the earliest: the rule
    of `employee_as_of`, which serving applies to today's employee too (one meaning of
    ``years_in_role`` in training and in a list)."""
    if records_since is None or employee.role_since >= records_since:
        return employee
    return employee.model_copy(update={"role_since": records_since})


def basic_profile(employee_id: str, history: EmployeeHistory,
                  courses: Mapping[str, Course] | None = None,
                  as_of: date | None = None) -> EmployeeProfile:
    """A simple evidence-count profile, a stand-in until the skills engine's profiles are wired.

    Each piece of evidence naming a skill (or a completed course's skills) adds to that skill;
    proficiency grows with the mean rating, confidence with the number of pieces. Only the
    history's (already filtered) evidence is read.
    """
    courses = courses or {}
    ratings: dict[str, list[float]] = {}
    ids: dict[str, list[str]] = {}
    for ev in history.evidence:
        uris: tuple[str, ...] = ()
        if ev.skill_uri:
            uris = (ev.skill_uri,)
        elif (ev.kind is EvidenceKind.COURSE_COMPLETION and ev.course_id is not None
              and ev.course_id in courses):
            uris = courses[ev.course_id].skill_uris
        for uri in uris:
            ratings.setdefault(uri, []).append(float(ev.rating or 3))
            ids.setdefault(uri, []).append(ev.id)
    entries = tuple(
        ProfileEntry(skill_uri=uri, proficiency=min(1.0, sum(r) / len(r) / 5.0),
                     confidence=min(1.0, 0.3 + 0.2 * len(r)), evidence_ids=tuple(ids[uri]))
        for uri, r in sorted(ratings.items()))
    return EmployeeProfile(employee_id=employee_id, as_of=as_of or history.as_of, entries=entries)


def basic_requirements(opportunity: Opportunity) -> RequirementProfile:
    """Requirements from the skills the poster named (a stand-in for inferred profiles)."""
    n = len(opportunity.skill_uris)
    return RequirementProfile(subject_id=opportunity.id, requirements=tuple(
        Requirement(skill_uri=uri, importance=1.0 - 0.5 * i / max(n, 1), level=0.6,
                    essential=i < 2)
        for i, uri in enumerate(opportunity.skill_uris)))
