"""Skill profiles: pure functions of evidence and an as-of date, checked by hand-computed values."""

from __future__ import annotations

import math
from datetime import date

import pytest

from features.domain import EvidenceKind, RelationType, Requirement, RequirementProfile
from features.inferred_skills import InferredSkill, Polarity, TextSpan
from features.profiles import (
    Observation,
    ObservationSource,
    OnetSkillRating,
    build_employee_profile,
    build_requirements,
    decay,
    evidence_observations,
    held_titles,
    outside_titles,
    review_level,
    role_observations,
)
from tests.support.factories import make_employee, make_evidence, make_move
from tests.support.params_factory import profile_params

A = "http://data.europa.eu/esco/skill/a"
B = "http://data.europa.eu/esco/skill/b"
C = "http://data.europa.eu/esco/skill/c"
D = "http://data.europa.eu/esco/skill/d"


def obs(evidence_id: str, uri: str, on: date, level: float, score: float = 1.0,
        source: ObservationSource = ObservationSource.REVIEW) -> Observation:
    return Observation(evidence_id=evidence_id, skill_uri=uri, occurred_on=on, source=source,
                       level=level, score=score)


def inferred(uri: str, score: float, polarity: Polarity | None = None) -> InferredSkill:
    return InferredSkill(uri=uri, label=uri[-1], score=score, polarity=polarity)


def test_weighted_mean_and_confidence_by_hand() -> None:
    params = profile_params(half_life_days=365, saturation=1.0)
    as_of = date(2024, 1, 1)
    observations = [obs("e1", A, date(2024, 1, 1), 0.8),          # weight 1.0
                    obs("e2", A, date(2023, 1, 1), 0.2)]          # weight 0.5 (one half-life)
    profile = build_employee_profile("emp", as_of, observations, params)
    (entry,) = profile.entries
    assert entry.proficiency == pytest.approx((1.0 * 0.8 + 0.5 * 0.2) / 1.5, abs=1e-4)
    assert entry.confidence == pytest.approx(1 - math.exp(-1.5), abs=1e-4)
    assert entry.evidence_ids == ("e1", "e2")


def test_evidence_after_as_of_is_ignored() -> None:
    observations = [obs("old", A, date(2022, 6, 1), 0.7), obs("future", A, date(2024, 6, 1), 0.1),
                    obs("future-only", B, date(2024, 6, 1), 0.9)]
    profile = build_employee_profile("emp", date(2024, 1, 1), observations)
    assert [e.skill_uri for e in profile.entries] == [A]
    assert profile.entries[0].evidence_ids == ("old",)
    assert profile.entries[0].proficiency == pytest.approx(0.7)
    later = build_employee_profile("emp", date(2025, 1, 1), observations)
    assert {e.skill_uri for e in later.entries} == {A, B}


def test_recency_half_life() -> None:
    assert decay(0, 100) == 1.0
    assert decay(100, 100) == pytest.approx(0.5)
    assert decay(-5, 100) == 1.0  # same-day or clock skew never up-weights
    recent = build_employee_profile("e", date(2024, 1, 1), [obs("x", A, date(2023, 12, 1), 0.5)])
    stale = build_employee_profile("e", date(2024, 1, 1), [obs("x", A, date(2018, 12, 1), 0.5)])
    assert recent.entries[0].confidence > stale.entries[0].confidence


def test_source_reliability_weights() -> None:
    params = profile_params()
    review = build_employee_profile("e", date(2024, 1, 1), [obs("r", A, date(2024, 1, 1), 0.5)])
    claimed = build_employee_profile("e", date(2024, 1, 1), [
        obs("s", A, date(2024, 1, 1), 0.5, source=ObservationSource.SELF_DECLARED)])
    assert params.reliability["review"] > params.reliability["self_declared"]
    assert review.entries[0].confidence > claimed.entries[0].confidence


def test_development_need_lowers_proficiency() -> None:
    params = profile_params()
    assert review_level(Polarity.DEVELOPMENT_NEED, 5, params) == params.development_need_level
    assert review_level(Polarity.STRENGTH, 5, params) > review_level(Polarity.STRENGTH, 2, params)
    review = make_evidence(kind=EvidenceKind.PERFORMANCE_REVIEW, rating=4, skill_uri=None,
                           occurred_on=date(2023, 1, 1))
    observations = evidence_observations(
        review, [inferred(A, 0.9, Polarity.STRENGTH), inferred(B, 0.8,
                                                               Polarity.DEVELOPMENT_NEED)],
        {}, params)
    levels = {o.skill_uri: o.level for o in observations}
    assert levels[A] > 0.5 > levels[B]
    assert {o.evidence_id for o in observations} == {review.id}


def test_endorsement_course_and_self_declared_observations() -> None:
    params = profile_params()
    endorsement = make_evidence(kind=EvidenceKind.MANAGER_ENDORSEMENT, skill_uri=A, text="")
    course = make_evidence(kind=EvidenceKind.COURSE_COMPLETION, course_id="c1", skill_uri=None,
                           text="")
    declared = make_evidence(kind=EvidenceKind.SELF_DECLARED, skill_uri=C, text="")
    assert [(o.skill_uri, o.source) for o in evidence_observations(endorsement, [], {}, params)
            ] == [(A, ObservationSource.ENDORSEMENT)]
    assert {o.skill_uri for o in evidence_observations(course, [], {"c1": (A, B)}, params)
            } == {A, B}
    assert evidence_observations(declared, [], {}, params)[0].level == \
        params.self_declared_level


def test_a_development_need_alone_never_puts_a_skill_in_the_profile() -> None:
    params = profile_params()
    review = make_evidence(kind=EvidenceKind.PERFORMANCE_REVIEW, rating=4, skill_uri=None,
                           occurred_on=date(2023, 1, 1))
    need = evidence_observations(review, [inferred(B, 0.8, Polarity.DEVELOPMENT_NEED)], {},
                                 params)
    assert [o.need for o in need] == [True]
    assert build_employee_profile("e", date(2024, 1, 1), need, params).entries == ()
    strength = obs("r2", B, date(2023, 6, 1), 0.7)
    alone = build_employee_profile("e", date(2024, 1, 1), [strength], params)
    both = build_employee_profile("e", date(2024, 1, 1), [strength, *need], params)
    assert [e.skill_uri for e in both.entries] == [B]       # held, by the strength
    assert both.entries[0].proficiency < alone.entries[0].proficiency  # the need pulls it down
    declared = make_evidence(kind=EvidenceKind.SELF_DECLARED, skill_uri=None,
                             text="I want to get better at b.")
    wish = evidence_observations(declared, [inferred(B, 0.7, Polarity.DEVELOPMENT_NEED)], {},
                                 params)
    assert [(o.need, o.level) for o in wish] == [(True, params.development_need_level)]


def test_a_record_naming_its_skills_is_evidence_of_those_not_of_its_text() -> None:
    params = profile_params()
    course = make_evidence(kind=EvidenceKind.COURSE_COMPLETION, course_id="c1", skill_uri=None,
                           text="Completed the course 'Numbers at work' (12 hours).")
    text_skills = [inferred(D, 0.6)]
    observed = evidence_observations(course, text_skills, {"c1": (A, B, C)}, params)
    assert {o.skill_uri: o.score for o in observed} == pytest.approx(
        {A: 1 / 3, B: 1 / 3, C: 1 / 3})                     # one completion, three skills
    single = evidence_observations(course, text_skills, {"c1": (A,)}, params)
    assert [(o.skill_uri, o.score) for o in single] == [(A, 1.0)]
    unlinked = evidence_observations(course, text_skills, {}, params)
    assert [(o.skill_uri, o.score) for o in unlinked] == [(D, 0.6)]  # no link: the text says
    endorsement = make_evidence(kind=EvidenceKind.MANAGER_ENDORSEMENT, skill_uri=A,
                                text="Great work on the numbers.")
    assert [o.skill_uri for o in evidence_observations(endorsement, text_skills, {}, params)
            ] == [A]
    comment = make_evidence(kind=EvidenceKind.MANAGER_ENDORSEMENT, skill_uri=None,
                            text="Great work on the numbers.")
    assert [o.skill_uri for o in evidence_observations(comment, text_skills, {}, params)
            ] == [D]
    # a three-skill course gives each skill a third of one completion's confidence (and alone
    # it is not enough to list them: test_a_share_of_a_course_alone_waits_for_corroboration)
    lenient = profile_params(corroborating_score=0.0)
    one = build_employee_profile("e", date(2024, 1, 1), single, lenient).entries[0]
    third = build_employee_profile("e", date(2024, 1, 1), observed, lenient).entries[0]
    assert third.confidence < one.confidence


def test_requirements_reconcile_sources_by_hand() -> None:
    profile = build_requirements(
        "role-1", inferred=[inferred(A, 0.6), inferred(C, 0.3)],
        esco_relations={A: RelationType.ESSENTIAL, B: RelationType.OPTIONAL,
                        C: RelationType.OPTIONAL},
        onet=[OnetSkillRating(skill_uri=C, importance=4.0, level=3.5),
              OnetSkillRating(skill_uri=D, importance=5.0, level=6.0)], org_level=3)
    found = {r.skill_uri: r for r in profile.requirements}
    assert found[A].essential and found[A].importance == pytest.approx(0.9)  # 0.8 + agreement
    assert found[A].level == pytest.approx(0.55)                            # org level 3
    assert found[C].importance == pytest.approx(0.85)                       # (4-1)/4 + 0.1
    assert found[C].level == pytest.approx(0.5)                             # 3.5 / 7
    assert B not in found            # an optional ESCO skill the description does not name
    assert D not in found            # O*NET rates the skills that are there; it adds none
    assert [r.skill_uri for r in profile.requirements] == [A, C]


def test_requirements_are_essential_first_and_capped() -> None:
    many = [inferred(f"http://data.europa.eu/esco/skill/x{i:02d}", 0.95) for i in range(30)]
    profile = build_requirements("role-2", many, {D: RelationType.ESSENTIAL}, [], org_level=2,
                                 max_requirements=5)
    assert len(profile.requirements) == 5
    assert profile.requirements[0].skill_uri == D and profile.requirements[0].essential
    assert profile_params().max_requirements == len(build_requirements(
        "role-3", many, {}, [], org_level=2,
        max_requirements=profile_params().max_requirements).requirements)


def test_role_evidence_is_essential_only_and_past_roles_need_corroboration() -> None:
    reqs = RequirementProfile(subject_id="role-1", requirements=(
        Requirement(skill_uri=A, importance=0.9, level=0.5, essential=True),
        Requirement(skill_uri=B, importance=0.9, level=0.5, essential=False)))
    current = role_observations("role-1", date(2023, 1, 1), reqs, 3, current=True)
    assert [o.skill_uri for o in current] == [A]
    params = profile_params(needs_corroboration=["past_role"])
    past = role_observations("role-0", date(2020, 1, 1), RequirementProfile(
        subject_id="role-0", requirements=(Requirement(skill_uri=C, importance=0.9, level=0.5,
                                                       essential=True),)), 3, current=False)
    alone = build_employee_profile("e", date(2024, 1, 1), [*current, *past], params)
    assert {e.skill_uri for e in alone.entries} == {A}      # C: a past role only
    seen = build_employee_profile("e", date(2024, 1, 1),
                                  [*current, *past, obs("r", C, date(2023, 6, 1), 0.6)], params)
    assert {e.skill_uri for e in seen.entries} == {A, C}    # a review corroborates C
    everything = build_employee_profile("e", date(2024, 1, 1), [*current, *past],
                                        profile_params(needs_corroboration=[]))
    assert {e.skill_uri for e in everything.entries} == {A, C}


def test_explicit_skills_are_fully_important() -> None:
    profile = build_requirements("opp", [], {}, [], org_level=1, explicit=[B])
    assert profile.requirements[0].skill_uri == B
    assert profile.requirements[0].importance == 1.0


def test_a_share_of_a_course_alone_waits_for_corroboration() -> None:
    params = profile_params(corroborating_score=0.6)
    on = date(2023, 6, 1)
    pair = make_evidence(id="c-pair", kind=EvidenceKind.COURSE_COMPLETION, course_id="pair",
                         skill_uri=None, occurred_on=on)
    single = make_evidence(id="c-one", kind=EvidenceKind.COURSE_COMPLETION, course_id="one",
                           skill_uri=None, occurred_on=on)
    courses = {"pair": (A, B), "one": (C,)}
    observed = [*evidence_observations(pair, [], courses, params),
                *evidence_observations(single, [], courses, params)]
    alone = build_employee_profile("e", date(2024, 1, 1), observed, params)
    assert {e.skill_uri for e in alone.entries} == {C}      # half a course is not enough alone
    reviewed = build_employee_profile("e", date(2024, 1, 1),
                                      [*observed, obs("r", A, on, 0.6)], params)
    a = {e.skill_uri: e for e in reviewed.entries}[A]
    assert set(a.evidence_ids) == {"c-pair", "r"}           # beside a review it adds its weight
    assert B not in {e.skill_uri for e in reviewed.entries}
    # the rule is about course shares: a review skill the engine kept counts alone at any score
    faint = build_employee_profile("e", date(2024, 1, 1), [obs("r", D, on, 0.6, score=0.35)],
                                   params)
    assert [e.skill_uri for e in faint.entries] == [D]
    lenient = build_employee_profile("e", date(2024, 1, 1), observed,
                                     profile_params(corroborating_score=0.5))
    assert {e.skill_uri for e in lenient.entries} == {A, B, C}


def test_a_faint_reading_of_a_review_waits_for_corroboration() -> None:
    params = profile_params(asserted_engine_score=0.3)
    on = date(2023, 6, 1)
    faint = obs("r1", A, on, 0.6, score=0.2)
    alone = build_employee_profile("e", date(2024, 1, 1), [faint], params)
    assert alone.entries == ()                               # shown to a person, not asserted
    endorsed = obs("n1", A, on, 0.7, source=ObservationSource.ENDORSEMENT)
    both = build_employee_profile("e", date(2024, 1, 1), [faint, endorsed], params)
    only = build_employee_profile("e", date(2024, 1, 1), [endorsed], params)
    (entry,) = both.entries
    assert set(entry.evidence_ids) == {"r1", "n1"}           # beside other evidence it counts
    assert entry.confidence > only.entries[0].confidence
    strong = build_employee_profile("e", date(2024, 1, 1), [obs("r2", B, on, 0.6, score=0.3)],
                                    params)
    assert [e.skill_uri for e in strong.entries] == [B]


def test_a_faint_reading_of_a_description_is_not_a_requirement() -> None:
    profile = build_requirements("role", [inferred(A, 0.9), inferred(B, 0.2)], {}, [],
                                 org_level=2, min_inferred_score=0.3)
    assert [r.skill_uri for r in profile.requirements] == [A]
    lenient = build_requirements("role", [inferred(A, 0.9), inferred(B, 0.2)], {}, [],
                                 org_level=2)
    assert {r.skill_uri for r in lenient.requirements} == {A, B}


def test_a_reading_of_the_persons_own_job_title_is_not_evidence() -> None:
    text = ("Chiara had a strong year as Environmental Engineering Technologist. Chiara can "
            "advise on environmental remediation; environmental engineering is next.")
    title = "Environmental Engineering Technologist"

    def reading(uri: str, *phrases: str) -> InferredSkill:
        spans = []
        for phrase in phrases:
            start = text.index(phrase)
            spans.append(TextSpan(start=start, end=start + len(phrase), text=phrase))
        return InferredSkill(uri=uri, label=phrases[0], score=0.55, spans=tuple(spans),
                             polarity=Polarity.STRENGTH)

    only_title = reading(A, "Environmental Engineering")
    also_elsewhere = reading(B, "Environmental Engineering", "environmental engineering")
    elsewhere = reading(C, "advise on environmental remediation")
    no_spans = InferredSkill(uri=D, label="d", score=0.55)
    readings = [only_title, also_elsewhere, elsewhere, no_spans]
    assert outside_titles(readings, text, [title.lower(), ""]) == readings[1:]
    assert outside_titles(readings, text, ["Marine Biologist"]) == readings
    elsewhere_text = InferredSkill(  # offsets into another text (a course's description)
        uri=A, label="a", score=0.55,
        spans=(TextSpan(start=28, end=53, text="welding inspection"),))
    assert outside_titles([elsewhere_text], text, [title]) == [elsewhere_text]
    review = make_evidence(kind=EvidenceKind.PERFORMANCE_REVIEW, text=text, skill_uri=None)
    observed = {o.skill_uri for o in evidence_observations(review, readings, {},
                                                           profile_params(), [title])}
    assert observed == {B, C, D}
    assert {o.skill_uri for o in evidence_observations(review, readings, {},
                                                       profile_params())} == {A, B, C, D}


def test_held_titles_are_the_current_role_and_every_move() -> None:
    stayer = make_employee(id="s", role_id="r1")
    mover = make_employee(id="m", role_id="r3")
    moves = {"m": [make_move(employee_id="m", from_role_id="r2", to_role_id="r3")]}
    titles = {"r1": "Cook", "r2": "Baker", "r3": "Head Baker"}
    assert held_titles([stayer, mover], moves, titles) == {
        "s": ("Cook",), "m": ("Baker", "Head Baker")}
