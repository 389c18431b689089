"""Which texts the profiles stage sends through the engine: not those of self-naming records."""

from __future__ import annotations

from features.domain import EvidenceKind
from features.inferred_skills import SourceKind
from features.profiles import named_skills
from tests.support.factories import make_course, make_evidence, make_opportunity, make_role
from training.skills.profiles import profile_texts

A = "http://data.europa.eu/esco/skill/a"
B = "http://data.europa.eu/esco/skill/b"


def test_records_that_name_their_skills_are_not_read_but_the_others_are() -> None:
    linked = make_course(id="c1", skill_uris=(A, B), description="Numbers at work: budgets.")
    unlinked = make_course(id="c2", skill_uris=(), description="Cooking for teams.")
    evidence = [
        make_evidence(id="v1", kind=EvidenceKind.PERFORMANCE_REVIEW, skill_uri=None,
                      text="Led the budget review with care."),
        make_evidence(id="v2", kind=EvidenceKind.COURSE_COMPLETION, course_id="c1",
                      skill_uri=None, text="Completed 'Numbers at work'."),
        make_evidence(id="v3", kind=EvidenceKind.COURSE_COMPLETION, course_id="c2",
                      skill_uri=None, text="Completed 'Cooking for teams'."),
        make_evidence(id="v4", kind=EvidenceKind.MANAGER_ENDORSEMENT, skill_uri=A,
                      text="Great work on the numbers."),
        make_evidence(id="v5", kind=EvidenceKind.SELF_DECLARED, skill_uri=None,
                      text="I write SQL every day."),
    ]
    assert [named_skills(e, {"c1": (A, B)}) for e in evidence] == [(), (A, B), (), (A,), ()]
    texts = profile_texts(evidence, [linked, unlinked], [make_role(description="Runs payroll.")],
                          [make_opportunity(description="Gig: audit the books.")])
    assert texts[SourceKind.PERFORMANCE_REVIEW] == {"Led the budget review with care."}
    assert texts[SourceKind.COURSE_DESCRIPTION] == {
        "Completed 'Cooking for teams'.", "Numbers at work: budgets.", "Cooking for teams."}
    assert texts[SourceKind.SELF_DESCRIPTION] == {"I write SQL every day."}
    assert texts[SourceKind.JOB_DESCRIPTION] == {"Runs payroll.", "Gig: audit the books."}
