"""Behavioural tests of the skills engine with the real packaged encoder (no model mocks)."""

from __future__ import annotations

import pytest

from features.inferred_skills import MatchKind, Polarity, SkillInference, SourceKind
from inference.skills.engine import SkillEngine
from tests.support.skills_factory import uri_of

pytestmark = pytest.mark.model
REVIEW = SourceKind.PERFORMANCE_REVIEW
JOB = SourceKind.JOB_DESCRIPTION


def labels(result: SkillInference) -> list[str]:
    return [s.label for s in result.skills]


def top(engine: SkillEngine, text: str, source: SourceKind = JOB, k: int = 1) -> list[str]:
    return labels(engine.infer(text, source, top_k=k))


@pytest.mark.parametrize(("texts", "skill"), [
    (["Builds data pipelines in Python.", "Writes Python code every day.",
      "Develops software in the Python language."], "Python (computer programming)"),
    (["Leads a team of six engineers.", "Manages a small team.",
      "Supervises and motivates the staff of the unit."], "manage a team"),
    (["Keeps stakeholders informed.", "Communicates well with stakeholders.",
      "Liaises with stakeholders on progress."], "communicate with stakeholders"),
    (["Analyses the company's financial statements.", "Performs financial analysis.",
      "Reviews balance sheets to assess the financial health of firms."], "financial analysis"),
])
def test_paraphrases_keep_the_skill(small_skill_engine: SkillEngine, texts: list[str],
                                    skill: str) -> None:
    for text in texts:
        assert top(small_skill_engine, text) == [skill], text


def test_developmental_remark_is_a_need_not_a_strength(small_skill_engine: SkillEngine) -> None:
    result = small_skill_engine.infer("Needs to improve stakeholder communication.", REVIEW)
    found = {s.label: s for s in result.skills}
    assert "communicate with stakeholders" in found
    assert found["communicate with stakeholders"].polarity is Polarity.DEVELOPMENT_NEED
    assert all(s.polarity is not Polarity.STRENGTH for s in result.skills)


def test_mixed_review_keeps_each_polarity(small_skill_engine: SkillEngine) -> None:
    text = "Excellent at Python and SQL, but should work on stakeholder communication."
    found = {s.label: s for s in small_skill_engine.infer(text, REVIEW).skills}
    assert found["Python (computer programming)"].polarity is Polarity.STRENGTH
    assert found["SQL"].polarity is Polarity.STRENGTH
    assert found["communicate with stakeholders"].polarity is Polarity.DEVELOPMENT_NEED


def test_praise_credits_a_strength(small_skill_engine: SkillEngine) -> None:
    result = small_skill_engine.infer("Outstanding at project management.", REVIEW, top_k=1)
    assert result.skills[0].label == "project management"
    assert result.skills[0].polarity is Polarity.STRENGTH


def test_job_descriptions_have_no_polarity(small_skill_engine: SkillEngine) -> None:
    result = small_skill_engine.infer("You will improve our SQL reporting.", JOB, top_k=3)
    assert all(s.polarity is None for s in result.skills)


def test_an_added_mention_adds_its_skill(small_skill_engine: SkillEngine) -> None:
    base = "Experienced Python developer."
    before = set(labels(small_skill_engine.infer(base, JOB)))
    after = set(labels(small_skill_engine.infer(base + " Also negotiates contracts.", JOB)))
    assert "Python (computer programming)" in before
    assert "negotiate contracts" not in before
    assert after >= before | {"negotiate contracts"}


def test_spans_point_into_the_text(small_skill_engine: SkillEngine) -> None:
    text = "We need someone fluent in SQL\x00 and in machine learning.\n- Team management"
    result = small_skill_engine.infer(text, JOB)
    assert result.skills
    for skill in result.skills:
        assert skill.spans
        for span in skill.spans:
            assert text[span.start:span.end].replace("\x00", " ") == span.text
    sql = next(s for s in result.skills if s.label == "SQL")
    assert sql.match is MatchKind.EXACT
    assert [span.text for span in sql.spans] == ["SQL"]
    assert sql.uri == uri_of(small_skill_engine, "SQL")


def test_scores_are_calibrated_and_sorted(small_skill_engine: SkillEngine) -> None:
    result = small_skill_engine.infer("Python, SQL and cloud computing on AWS.", JOB, top_k=10)
    scores = [s.score for s in result.skills]
    assert len(scores) == 10  # top-k: no threshold
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    thresholded = small_skill_engine.infer("Python, SQL and cloud computing on AWS.", JOB)
    assert all(s.score >= small_skill_engine.config.min_score for s in thresholded.skills)
    assert len(thresholded.skills) < 10


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t"])
def test_empty_text_gives_the_documented_empty_result(small_skill_engine: SkillEngine,
                                                     text: str) -> None:
    assert small_skill_engine.infer(text, JOB).skills == ()
    assert small_skill_engine.infer(text, JOB, top_k=5).skills == ()


@pytest.mark.parametrize("text", [
    "\x00\x01\x02\xff\xfe" * 50, bytes(range(256)).decode("latin-1") * 4, "1234 5678 %%% ###",
])
def test_binary_or_garbage_gives_an_empty_result(small_skill_engine: SkillEngine,
                                                 text: str) -> None:
    assert small_skill_engine.infer(text, JOB, top_k=5).skills == ()


def test_non_english_text_does_not_crash(small_skill_engine: SkillEngine) -> None:
    for text in ["Wir suchen einen erfahrenen Koch.", "需要优秀的沟通能力。", "Привет, мир"]:
        result = small_skill_engine.infer(text, JOB)
        assert isinstance(result, SkillInference)


def test_huge_text_is_truncated_not_fatal(small_skill_engine: SkillEngine) -> None:
    text = "Writes SQL reports. " * 20_000  # 400k characters
    result = small_skill_engine.infer(text, JOB)
    assert "SQL" in labels(result)
    assert all(span.end <= small_skill_engine.config.max_chars
               for s in result.skills for span in s.spans)


def test_batch_inference_matches_single(small_skill_engine: SkillEngine) -> None:
    texts = ["Leads a team.", "", "Writes Python and SQL.", "Leads a team."]
    batch = small_skill_engine.infer_many(texts, JOB)
    assert [labels(r) for r in batch] == [labels(small_skill_engine.infer(t, JOB))
                                          for t in texts]


def test_rank_all_agrees_with_infer(small_skill_engine: SkillEngine) -> None:
    text = "Plans and controls projects to deliver on time."
    scores = small_skill_engine.rank_all([text])[0]
    best = small_skill_engine.catalog.skills[int(scores.argmax())].label
    assert best == top(small_skill_engine, text)[0]
