"""The employee-side pipeline on hand-built opportunities: what it keeps out of a slate."""

from __future__ import annotations

from datetime import date

import numpy as np

from features.domain import Opportunity, OpportunityKind
from features.params import ListMixParams, load_params
from features.ranking import (
    FEATURE_NAMES,
    EmployeeContext,
    employee_context,
    target_from_opportunity,
)
from features.ranking_history import history_before
from inference.ranking.pipeline import (
    ASPIRATION_RELEVANT,
    ListFilter,
    OpportunityCatalog,
    common_skills,
    meets_a_requirement,
    meets_a_telling_requirement,
    mixed_order,
    rank_opportunities,
    relevant_rows,
    requirements_met,
    shares_enough,
)
from inference.retrieval.indexes import SkillProfileVectorizer
from tests.support.factories import (
    SKILLS,
    make_employee,
    make_opportunity,
    make_profile,
    make_requirements,
    make_role,
)

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
    profile = make_profile("me", AS_OF)  # holds the factory requirements' skills
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
    profile = make_profile("me", AS_OF)  # holds the factory requirements' skills
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
    mix = ListMixParams(top=10, max_per_kind=4, max_aspiration_only=10)
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


def test_the_mix_caps_items_shown_for_an_aspiration_alone() -> None:
    # Items that share no required skill with the person (shown because they match an
    # aspiration) may hold at most `max_aspiration_only` of the first ten, whatever their
    # kind, when items that do share a skill can take the places; nothing is dropped.
    mix = ListMixParams(top=10, max_per_kind=10, max_aspiration_only=2)
    roles = OpportunityKind.OPEN_ROLE
    only = [True] * 5 + [False] * 10
    order = mixed_order([roles] * 15, mix, aspiration_only=only)
    assert sorted(order) == list(range(15))
    assert sum(only[i] for i in order[:10]) == 2
    assert order[:10] == [0, 1, 5, 6, 7, 8, 9, 10, 11, 12]
    assert order[10:] == [2, 3, 4, 13, 14]
    # with too few skill-sharing items the cap gives way rather than leave the top short
    few = [True] * 8 + [False] * 3
    head = mixed_order([roles] * 11, mix, aspiration_only=few)[:10]
    assert head == [0, 1, 2, 3, 4, 5, 6, 8, 9, 10]
    # and it applies when one kind is asked for (no cap by kind then)
    assert mixed_order([roles] * 15, mix, aspiration_only=only, by_kind=False) == order


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


def test_an_item_sharing_no_skill_is_shown_only_for_a_real_aspiration() -> None:
    other = {SKILLS[30]: (1.0, 0.5, True)}
    opportunities = [
        make_opportunity(id="shared", title="Data Engineer", level=3),
        make_opportunity(id="unrelated", title="Cardiologist", level=3),
        make_opportunity(id="wished", title="Microbiologist", level=3,
                         description="Virology research lab."),
        make_opportunity(id="template", title="Oncology Nurse", level=3,
                         description="We especially enjoy nursing."),
    ]
    requirements = [make_requirements(o.id, None if o.id == "shared" else other)
                    for o in opportunities]
    catalog = OpportunityCatalog(
        opportunities, requirements, [target_from_opportunity(o) for o in opportunities],
        SkillProfileVectorizer().requirement_profiles(requirements), load_params().serving.index)
    me = make_employee(id="me", level=3, role_id="role-me", aspirations=(
        "I enjoy my work as a Data Engineer and want to grow towards Microbiologist, "
        "especially virology."))
    profile = make_profile("me", AS_OF)
    ctx = employee_context(me, profile, history_before(AS_OF), AS_OF,
                           current_role=make_role(id="role-me", title="Data Engineer"),
                           vector=SkillProfileVectorizer().employee(profile))
    # phrasing words ("enjoy", "especially") and the person's current job are not a wish
    assert ctx.aspiration_tokens == {"microbiologist", "virology"}
    slate = rank_opportunities(catalog, ctx, _by_id, 50)
    assert {opportunities[r].id for r in slate.rows} == {"shared", "wished"}


def test_relevant_rows_reads_coverage_and_on_the_employee_side_aspirations() -> None:
    x = np.zeros((3, len(FEATURE_NAMES)))
    x[0, FEATURE_NAMES.index("skill_coverage")] = 0.2
    x[1, FEATURE_NAMES.index("aspiration_match")] = ASPIRATION_RELEVANT
    x[2, FEATURE_NAMES.index("aspiration_match")] = ASPIRATION_RELEVANT / 2
    assert relevant_rows(x, aspirations=True).tolist() == [True, True, False]
    assert relevant_rows(x, aspirations=False).tolist() == [True, False, False]
    assert relevant_rows(np.zeros((0, len(FEATURE_NAMES))), aspirations=True).tolist() == []


def test_an_item_is_relevant_when_one_requirement_is_met_at_its_level() -> None:
    # Holding a required skill only below its level, or a skill no requirement names, does
    # not make an item relevant: its card could name no skill the person already has.
    reqs = make_requirements("r", {"uri:a": (0.8, 0.6, True), "uri:b": (0.5, 0.4, False)})
    assert meets_a_requirement({"uri:a": (0.7, 0.9)}, reqs)
    assert meets_a_requirement({"uri:b": (0.4, 0.2)}, reqs)
    assert not meets_a_requirement({"uri:a": (0.5, 0.9), "uri:c": (1.0, 1.0)}, reqs)
    assert not meets_a_requirement({}, reqs)
    x = np.zeros((3, len(FEATURE_NAMES)))
    x[:, FEATURE_NAMES.index("skill_coverage")] = [0.4, 0.4, 0.0]
    x[2, FEATURE_NAMES.index("aspiration_match")] = 1.0
    meets = np.array([True, False, False])
    assert relevant_rows(x, aspirations=False, meets=meets).tolist() == [True, False, False]
    assert relevant_rows(x, aspirations=True, meets=meets).tolist() == [True, False, True]


def test_a_candidate_is_listed_on_two_shared_skills_or_all_of_fewer() -> None:
    # One shared skill of many ("communication" for a speech-language opening) is a
    # coincidence, not a fit: the recruiter's list asks for two (or every one of fewer).
    reqs = make_requirements("r", {"uri:a": (0.8, 0.5, True), "uri:b": (0.5, 0.4, False),
                                   "uri:c": (0.5, 0.4, False)})
    one = {"uri:a": (0.7, 0.9), "uri:b": (0.2, 0.9)}          # b below its level
    two = {"uri:a": (0.7, 0.9), "uri:c": (0.6, 0.3)}
    assert requirements_met(one, reqs) == 1 and requirements_met(two, reqs) == 2
    assert not shares_enough(one, reqs, 2) and shares_enough(two, reqs, 2)
    assert shares_enough(one, reqs, 1)
    single = make_requirements("s", {"uri:a": (0.8, 0.5, True)})
    assert shares_enough(one, single, 2)                      # all of the one requirement
    assert shares_enough({}, make_requirements("none", {}), 2)  # nothing known: no rule


def test_common_skills_are_those_a_share_of_the_roles_require() -> None:
    roles = [make_requirements(f"role-{i}", {SKILLS[0]: (1.0, 0.5, True),
                                             SKILLS[10 + i]: (1.0, 0.5, True)})
             for i in range(10)]
    roles.append(make_requirements("role-x", {SKILLS[10]: (1.0, 0.5, True)}))
    assert common_skills(roles, 0.5) == frozenset({SKILLS[0]})             # 10 of 11
    assert common_skills(roles, 0.15) == frozenset({SKILLS[0], SKILLS[10]})  # 2 of 11
    assert common_skills([], 0.05) == frozenset()
    assert common_skills(roles, 0.15, min_profiles=3) == frozenset({SKILLS[0]})  # 2 < 3
    common = frozenset({SKILLS[0]})
    held = {SKILLS[0]: (0.7, 0.8), SKILLS[1]: (0.7, 0.8)}
    only_common = make_requirements("o", {SKILLS[0]: (1.0, 0.5, True), SKILLS[30]: (1.0, 0.5,
                                                                                   True)})
    assert not meets_a_telling_requirement(held, only_common, common)
    assert meets_a_requirement(held, only_common)
    assert meets_a_telling_requirement(held, make_requirements("o", {
        SKILLS[0]: (1.0, 0.5, True), SKILLS[1]: (1.0, 0.5, True)}), common)  # two met
    assert meets_a_telling_requirement(held, make_requirements("o", {
        SKILLS[1]: (1.0, 0.5, True)}), common)                              # one, not common
    assert not meets_a_telling_requirement(held, make_requirements("o", {
        SKILLS[1]: (1.0, 0.9, True)}), common)                              # below its level


def test_one_common_skill_lists_an_item_only_near_the_persons_occupation() -> None:
    """A courier holding *office software* (the common one here) and one other skill: an
    opening that shares only the common skill is listed when it is in the courier's SOC minor
    group or an O*NET career move from it, not otherwise."""
    common, other, missing = SKILLS[0], SKILLS[1], SKILLS[30]
    mine = make_role(id="role-me", title="Courier and Messenger", onet_code="43-5021.00")
    roles = {r.id: r for r in (
        mine,
        make_role(id="role-far", title="Software Developer", onet_code="15-1252.00"),
        make_role(id="role-near", title="Postal Clerk", onet_code="43-5051.00"),
        make_role(id="role-moved", title="Dispatcher", onet_code="43-6014.00"))}
    spec = {"far": ("role-far", {common: (1.0, 0.5, True), missing: (1.0, 0.5, True)}),
            "near": ("role-near", {common: (1.0, 0.5, True), missing: (1.0, 0.5, True)}),
            "moved": ("role-moved", {common: (1.0, 0.5, True), missing: (1.0, 0.5, True)}),
            "two": ("role-far", {common: (1.0, 0.5, True), other: (1.0, 0.5, True)}),
            "telling": ("role-far", {other: (1.0, 0.5, True), missing: (1.0, 0.5, True)})}
    opportunities = [make_opportunity(id=k, title=k, role_id=role, level=3)
                     for k, (role, _) in spec.items()]
    requirements = [make_requirements(k, skills) for k, (_, skills) in spec.items()]
    catalog = OpportunityCatalog(
        opportunities, requirements,
        [target_from_opportunity(o, roles) for o in opportunities],
        SkillProfileVectorizer().requirement_profiles(requirements), load_params().serving.index,
        common_skills=frozenset({common}))
    me = make_employee(id="me", level=3, role_id="role-me")
    profile = make_profile("me", AS_OF, skills={common: 0.7, other: 0.7})
    ctx = employee_context(me, profile, history_before(AS_OF), AS_OF, current_role=mine,
                           vector=SkillProfileVectorizer().employee(profile))
    adjacency = {("43-5021.00", "43-6014.00"): 3}  # O*NET: couriers move to dispatching
    slate = rank_opportunities(catalog, ctx, _by_id, 50, adjacency=adjacency)
    assert {opportunities[r].id for r in slate.rows} == {"near", "moved", "two", "telling"}
    # without the common-skill rule (an empty set) every item that shares a skill is listed
    plain = OpportunityCatalog(opportunities, requirements, catalog.targets, catalog.vectors,
                               load_params().serving.index)
    assert len(rank_opportunities(plain, ctx, _by_id, 50, adjacency=adjacency).rows) == 5
