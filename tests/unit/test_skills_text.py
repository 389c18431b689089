"""Unit tests of the engine's text handling: segmentation, polarity cues, label matching."""

from __future__ import annotations

import pytest

from features.inferred_skills import MatchKind, Polarity, SourceKind
from inference.skills.catalog import normalize
from inference.skills.matching import find_labels
from inference.skills.polarity import clause_polarity, is_developmental
from inference.skills.segment import Level, segment
from tests.support.skills_factory import make_skill_catalog


def test_segments_carry_exact_offsets() -> None:
    text = "Great with Python and SQL, but needs to improve reporting. Led AWS migration.\n- Coach"
    result = segment(text)
    assert result.segments
    for seg in result.segments:
        assert text[seg.start:seg.end] == seg.text
    levels = {seg.text: seg.level for seg in result.segments}
    assert levels["Great with Python and SQL"] is Level.CLAUSE
    assert levels["SQL"] is Level.PHRASE
    assert levels["Led AWS migration"] is Level.SENTENCE
    assert "Coach" in levels


def test_contrast_splits_clauses_and_multi_clause_sentence_is_not_a_segment() -> None:
    text = "Excellent at Python, but needs to improve stakeholder communication."
    result = segment(text)
    clauses = [text[lo:hi] for lo, hi in result.clauses]
    assert clauses == ["Excellent at Python", "but needs to improve stakeholder communication"]
    assert all(seg.level is not Level.SENTENCE for seg in result.segments)


def test_empty_and_whitespace_give_no_segments() -> None:
    assert segment("").segments == []
    assert segment("   \n\t ").segments == []


@pytest.mark.parametrize("clause", [
    "needs to improve stakeholder communication", "should work on time management",
    "would benefit from more coaching", "lacks confidence in public speaking",
    "struggles with prioritising tasks", "an area for development is negotiation",
    "is not yet able to lead a team", "room for improvement in report writing",
])
def test_developmental_cues(clause: str) -> None:
    assert is_developmental(clause)
    assert clause_polarity(clause, SourceKind.PERFORMANCE_REVIEW) is Polarity.DEVELOPMENT_NEED


@pytest.mark.parametrize("clause", [
    "communicates clearly with stakeholders", "an excellent Python developer",
    "led the migration to the cloud", "improved the reporting pipeline substantially",
])
def test_praise_is_strength(clause: str) -> None:
    assert not is_developmental(clause)
    assert clause_polarity(clause, SourceKind.PERFORMANCE_REVIEW) is Polarity.STRENGTH


def test_polarity_only_for_review_like_sources() -> None:
    assert clause_polarity("needs to improve SQL", SourceKind.JOB_DESCRIPTION) is None
    assert clause_polarity("needs to improve SQL", SourceKind.SELF_DESCRIPTION) is not None


def test_normalize() -> None:
    assert normalize("  Python (computer programming) ") == "python computer programming"
    assert normalize("C++ / C#") == "c++ c#"
    assert normalize("Node.js.") == "node.js"


def test_label_matching_exact_alias_and_case_rules() -> None:
    catalog = make_skill_catalog()
    text = "Knows SQL, stakeholder communication and JS; ml is lowercase here, ML is not."
    found = {(catalog.skills[m.skill].label, m.kind, text[m.start:m.end])
             for m in find_labels(text, catalog)}
    assert ("SQL", MatchKind.EXACT, "SQL") in found
    assert ("communicate with stakeholders", MatchKind.ALIAS,
            "stakeholder communication") in found
    assert ("JavaScript", MatchKind.ALIAS, "JS") in found
    assert ("machine learning", MatchKind.ALIAS, "ML") in found
    assert ("machine learning", MatchKind.ALIAS, "ml") not in found  # short: case must match


def test_function_words_never_match() -> None:
    catalog = make_skill_catalog()
    assert all(catalog.skills[m.skill].label != "manage a team"
               for m in find_labels("the team will work", catalog))
