"""The employee-side pipeline on hand-built opportunities: what it keeps out of a slate."""

from __future__ import annotations

from datetime import date

import numpy as np

from features.domain import EmployeeProfile, Opportunity, OpportunityKind
from features.params import ListMixParams, load_params
from features.ranking import EmployeeContext, employee_context, target_from_opportunity
from features.ranking_history import history_before
from inference.ranking.pipeline import (
    ListFilter,
    OpportunityCatalog,
    mixed_order,
    rank_opportunities,
)
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


def _catalog(opportunities: list[Opportunity]) -> OpportunityCatalog:
    requirements = [make_requirements(o.id) for o in opportunities]
    return OpportunityCatalog(
        opportunities, requirements, [target_from_opportunity(o) for o in opportunities],
        SkillProfileVectorizer().requirement_profiles(requirements), load_params().serving.index)


def _me_ctx(level: int = 3) -> EmployeeContext:
    me = make_employee(id="me", level=level, role_id="role-me")
    profile = EmployeeProfile(employee_id="me", as_of=AS_OF)
    return employee_context(me, profile, history_before(AS_OF), AS_OF,
                            vector=SkillProfileVectorizer().employee(profile))


def _by_id(x: np.ndarray) -> np.ndarray:
    return np.arange(len(x), dtype=float)[::-1]  # earlier retrieved rows score higher


def test_filters_and_dismissals_act_before_the_depth_is_cut() -> None:
    opportunities = [
        *(make_opportunity(id=f"lis-{i}", title=f"Lisbon {i}", location="Lisbon", level=3,
                           department_id="dept-eng") for i in range(30)),
        make_opportunity(id="osl-3", title="Oslo three", location="Oslo", level=3,
                         department_id="dept-ops"),
        make_opportunity(id="osl-4", title="Oslo four", location="Oslo", level=4,
                         department_id="dept-eng", kind=OpportunityKind.PROJECT),
        make_opportunity(id="osl-far", title="Oslo five", location="Oslo", level=1),
    ]
    catalog, ctx = _catalog(opportunities), _me_ctx()
    # a depth of 5 would hold only Lisbon items if the filter came after retrieval
    oslo = rank_opportunities(catalog, ctx, _by_id, 5,
                              wanted=ListFilter(locations=frozenset({"Oslo"})))
    assert {opportunities[r].id for r in oslo.rows} == {"osl-3", "osl-4"}  # level window kept
    level = rank_opportunities(catalog, ctx, _by_id, 5, wanted=ListFilter(
        locations=frozenset({"Oslo"}), levels=frozenset({4})))
    assert [opportunities[r].id for r in level.rows] == ["osl-4"]
    dept = rank_opportunities(catalog, ctx, _by_id, 50,
                              wanted=ListFilter(departments=frozenset({"dept-ops"})))
    assert [opportunities[r].id for r in dept.rows] == ["osl-3"]
    kind = rank_opportunities(catalog, ctx, _by_id, 50,
                              wanted=ListFilter(kinds=frozenset({OpportunityKind.PROJECT})))
    assert [opportunities[r].id for r in kind.rows] == ["osl-4"]
    everything = rank_opportunities(catalog, ctx, _by_id, 50)
    dismissed = rank_opportunities(catalog, ctx, _by_id, 50, dismissed={"lis-0", "osl-3"})
    assert {opportunities[r].id for r in everything.rows} - {
        opportunities[r].id for r in dismissed.rows} == {"lis-0", "osl-3"}
    assert len(dismissed.rows) == len(everything.rows) - 2


def test_the_mix_caps_a_kind_in_the_top_and_drops_nothing() -> None:
    mix = ListMixParams(top=10, max_per_kind=4)
    gigs, roles = OpportunityKind.GIG, OpportunityKind.OPEN_ROLE
    kinds = [gigs] * 12 + [roles] * 3 + [OpportunityKind.PROJECT] * 3
    order = mixed_order(kinds, mix)
    assert sorted(order) == list(range(len(kinds)))  # a permutation
    head = [kinds[i] for i in order[:10]]
    assert head.count(gigs) == 4 and head.count(roles) == 3
    assert order[:4] == [0, 1, 2, 3]  # the best items keep their places
    rest = order[10:]
    assert rest == sorted(rest)  # the deferred follow in score order
    # with too few other kinds the cap gives way rather than leave the top short
    assert mixed_order([gigs] * 12, mix) == list(range(12))
    assert mixed_order([gigs] * 8 + [roles] * 6, mix)[:10] == [0, 1, 2, 3, 4, 5, 8, 9, 10, 11]


def test_the_pipeline_applies_the_shipped_mix_unless_one_kind_is_asked_for() -> None:
    mix = load_params().serving.mix
    opportunities = [
        *(make_opportunity(id=f"gig-{i}", title=f"Gig {i}", kind=OpportunityKind.GIG)
          for i in range(15)),
        *(make_opportunity(id=f"role-{i}", title=f"Role {i}") for i in range(3)),
        *(make_opportunity(id=f"project-{i}", title=f"Project {i}",
                           kind=OpportunityKind.PROJECT) for i in range(3))]
    catalog, ctx = _catalog(opportunities), _me_ctx()

    def ties(x: np.ndarray) -> np.ndarray:
        return np.zeros(len(x))  # ties go by id: every gig ("gig-*") first

    plain = rank_opportunities(catalog, ctx, ties, 50)
    assert {opportunities[r].kind for r in plain.rows[:10]} == {OpportunityKind.GIG}
    mixed = rank_opportunities(catalog, ctx, ties, 50, mix=mix)
    assert mixed.rows == [plain.rows[j] for j in mixed_order(
        [opportunities[r].kind for r in plain.rows], mix)]
    top = [opportunities[r].kind for r in mixed.rows[:mix.top]]
    assert top.count(OpportunityKind.GIG) == mix.max_per_kind
    assert top.count(OpportunityKind.OPEN_ROLE) == 3
    only_gigs = rank_opportunities(catalog, ctx, ties, 50, mix=mix,
                                   wanted=ListFilter(kinds=frozenset({OpportunityKind.GIG})))
    assert only_gigs.rows == [r for r in plain.rows
                              if opportunities[r].kind is OpportunityKind.GIG]
