"""An opportunity's time commitment (hours a week): what the domain accepts, and what the
simulator gives each kind without touching any other draw of the simulation."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from features.domain import MAX_HOURS_PER_WEEK, Opportunity, OpportunityKind, OpportunityStatus
from training.simulation.postings import COMMITMENT, time_commitment

BASE: dict[str, Any] = {
    "id": "o1", "kind": OpportunityKind.GIG, "title": "Gig", "description": "",
    "department_id": "d", "location": "Lisbon", "level": 2,
    "status": OpportunityStatus.OPEN, "posted_on": date(2026, 1, 5)}


@pytest.mark.parametrize("hours", [0.5, 4, 37.5, MAX_HOURS_PER_WEEK])
def test_a_stated_commitment_within_the_range_is_kept(hours: float) -> None:
    assert Opportunity(**BASE, hours_per_week=hours).hours_per_week == hours


def test_no_commitment_means_not_stated() -> None:
    assert Opportunity(**BASE).hours_per_week is None
    assert Opportunity(**BASE, hours_per_week=None).hours_per_week is None


@pytest.mark.parametrize("hours", [0, -1, 60.01, float("nan"), float("inf"), "lots"])
def test_a_commitment_out_of_range_is_refused(hours: Any) -> None:
    with pytest.raises(ValidationError, match="hours_per_week"):
        Opportunity(**BASE, hours_per_week=hours)


def test_the_simulated_commitment_is_in_the_kind_range_and_fixed_by_seed_and_id() -> None:
    for kind, (low, high) in COMMITMENT.items():
        drawn = [time_commitment(kind, f"O{i:06d}", 7) for i in range(300)]
        assert all(low <= h <= high and (h * 2).is_integer() for h in drawn), kind
        assert len(set(drawn)) > 1, kind
        assert drawn == [time_commitment(kind, f"O{i:06d}", 7) for i in range(300)]
        assert drawn != [time_commitment(kind, f"O{i:06d}", 8) for i in range(300)]
    assert time_commitment(OpportunityKind.ROTATION, "O000001", 1) >= 35  # full time
    assert time_commitment(OpportunityKind.GIG, "O000001", 1, stated=8.0) == 8.0


def test_a_simulated_gig_states_the_hours_its_text_says(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    import numpy as np

    from training.simulation import postings

    monkeypatch.setattr(postings, "_top_skills", lambda catalog, spec, count: ["s1"])
    monkeypatch.setattr(postings, "_labels", lambda catalog, uris: ["reporting"])
    spec = SimpleNamespace(tasks=("Review the monthly reports.",), technologies=(), level=3,
                           role=SimpleNamespace(title="Analyst"))
    for seed in range(5):
        posting = postings.gig_posting(None, spec, "Finance",  # type: ignore[arg-type]
                                       np.random.default_rng(seed))
        said = re.search(r"about (\d+) hours a week", posting.description)
        assert said is not None and posting.hours_per_week == float(said.group(1))
