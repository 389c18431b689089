"""The employee-side pipeline on hand-built opportunities: what it keeps out of a slate."""

from __future__ import annotations

from datetime import date

import numpy as np

from features.domain import EmployeeProfile, OpportunityKind
from features.params import load_params
from features.ranking import employee_context, target_from_opportunity
from features.ranking_history import history_before
from inference.ranking.pipeline import OpportunityCatalog, rank_opportunities
from inference.retrieval.indexes import SkillProfileVectorizer
from tests.support.factories import make_employee, make_opportunity, make_requirements

AS_OF = date(2024, 6, 1)


def test_no_duplicate_titles_no_junior_mentors_nothing_of_ones_own() -> None:
    me = make_employee(id="me", level=3, role_id="role-it-manager")
    opportunities = [
        make_opportunity(id="a1", title="Data Engineer", level=3),
        make_opportunity(id="a2", title="data engineer", level=3),  # a second opening
        make_opportunity(id="m-junior", kind=OpportunityKind.MENTORSHIP, level=3,
                         title="Mentorship with an IT Manager", mentor_id="junior"),
        make_opportunity(id="m-peer", kind=OpportunityKind.MENTORSHIP, level=3,
                         title="Mentorship with a peer IT Manager", mentor_id="peer"),
        make_opportunity(id="m-senior", kind=OpportunityKind.MENTORSHIP, level=4,
                         title="Mentorship with a Director", mentor_id="senior"),
        make_opportunity(id="mine", title="My project", kind=OpportunityKind.PROJECT,
                         level=3, owner_id="me"),
    ]
    requirements = [make_requirements(o.id) for o in opportunities]
    vectorizer = SkillProfileVectorizer()
    vectors = vectorizer.requirement_profiles(requirements)
    catalog = OpportunityCatalog(
        opportunities, requirements, [target_from_opportunity(o) for o in opportunities],
        vectors, load_params().serving.index,
        mentors={"junior": (2, "role-it-manager"), "peer": (3, "role-it-manager"),
                 "senior": (5, "role-director")})
    profile = EmployeeProfile(employee_id="me", as_of=AS_OF)
    ctx = employee_context(me, profile, history_before(AS_OF), AS_OF,
                           vector=vectorizer.employee(profile))
    slate = rank_opportunities(catalog, ctx, lambda x: np.arange(len(x), dtype=float), 50)
    shown = [opportunities[r].id for r in slate.rows]
    assert "m-senior" in shown
    assert not {"m-junior", "m-peer", "mine"} & set(shown)
    assert len({"a1", "a2"} & set(shown)) == 1  # one of the two openings, the better scored
    assert list(slate.scores) == sorted(slate.scores, reverse=True)
