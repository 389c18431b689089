"""A served profile updated with new observations equals the profile built from all of them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from features.live_profiles import add_observations
from features.profiles import Observation, ObservationSource, build_employee_profile
from tests.support.factories import SKILLS
from tests.support.params_factory import profile_params

AS_OF = date(2026, 11, 1)


def obs(i: int, uri: str, source: ObservationSource, level: float, days: int,
        score: float = 1.0) -> Observation:
    return Observation(evidence_id=f"ev-{i}", skill_uri=uri, source=source, level=level,
                       occurred_on=AS_OF - timedelta(days=days), score=score)


OLD = [obs(1, SKILLS[0], ObservationSource.REVIEW, 0.7, 200, 0.8),
       obs(2, SKILLS[0], ObservationSource.CURRENT_ROLE, 0.5, 700, 0.9),
       obs(3, SKILLS[1], ObservationSource.COURSE, 0.6, 30),
       obs(4, SKILLS[2], ObservationSource.ENDORSEMENT, 0.8, 400)]
NEW = [obs(5, SKILLS[0], ObservationSource.SELF_DECLARED, 0.6, 0),
       obs(6, SKILLS[3], ObservationSource.REVIEW, 0.9, 0, 0.7),
       obs(7, SKILLS[1], ObservationSource.ENDORSEMENT, 0.8, 0)]


def test_adding_equals_rebuilding_from_everything() -> None:
    params = profile_params()
    served = build_employee_profile("me", AS_OF, OLD, params)
    updated = add_observations(served, NEW, params)
    rebuilt = build_employee_profile("me", AS_OF, [*OLD, *NEW], params)
    got = {e.skill_uri: e for e in updated.entries}
    want = {e.skill_uri: e for e in rebuilt.entries}
    assert got.keys() == want.keys()
    for uri, entry in want.items():
        assert got[uri].proficiency == pytest.approx(entry.proficiency, abs=2e-3)
        assert got[uri].confidence == pytest.approx(entry.confidence, abs=2e-3)
        assert got[uri].evidence_ids == entry.evidence_ids
    assert [e.skill_uri for e in updated.entries] == [e.skill_uri for e in rebuilt.entries]


def test_evidence_dated_after_the_profile_counts_without_decay() -> None:
    params = profile_params()
    served = build_employee_profile("me", AS_OF, OLD, params)
    later = Observation(evidence_id="ev-live", skill_uri=SKILLS[5],
                        source=ObservationSource.SELF_DECLARED, level=0.6,
                        occurred_on=AS_OF + timedelta(days=30))
    updated = add_observations(served, [later], params)
    same_day = add_observations(served, [later.model_copy(update={"occurred_on": AS_OF})],
                                params)
    assert updated == same_day
    assert SKILLS[5] in {e.skill_uri for e in updated.entries}
    assert add_observations(served, [], params) is served
