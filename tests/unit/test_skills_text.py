"""Unit tests of the engine's text handling: segmentation, polarity cues, label matching."""

from __future__ import annotations

import pytest

from features.domain import Skill, SkillType
from features.inferred_skills import MatchKind, Polarity, SourceKind
from inference.skills.catalog import SkillCatalog, normalize
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


def _catalog(*labels: str) -> SkillCatalog:
    return SkillCatalog(skills=[
        Skill(uri=f"http://data.europa.eu/esco/skill/nested-{i}", label=label, alt_labels=(),
              description="", skill_type=SkillType.SKILL) for i, label in enumerate(labels)])


def test_a_label_inside_a_longer_label_is_not_a_match() -> None:
    catalog = _catalog("perform clinical coding procedures", "clinical coding",
                       "organise information, objects and resources", "organise information",
                       "apply knowledge of social sciences and humanities", "social sciences",
                       "monitor patients")
    text = ("Simon can perform clinical coding procedures and organise information, objects and "
            "resources; he was asked to apply knowledge of social sciences and humanities. "
            "Clinical coding is new to him; he will monitor patients and organise information.")
    found = sorted((text[m.start:m.end], catalog.skills[m.skill].label)
                   for m in find_labels(text, catalog))
    assert found == sorted([
        ("perform clinical coding procedures", "perform clinical coding procedures"),
        ("organise information, objects and resources",
         "organise information, objects and resources"),
        ("apply knowledge of social sciences and humanities",
         "apply knowledge of social sciences and humanities"),
        ("Clinical coding", "clinical coding"),  # alone, the shorter label is a match
        ("monitor patients", "monitor patients"),
        ("organise information", "organise information")])


def test_overlapping_labels_that_do_not_contain_each_other_both_match() -> None:
    catalog = _catalog("data analysis", "analysis software", "data analysis software tools")
    found = {catalog.skills[m.skill].label for m in find_labels(
        "She uses data analysis software daily.", catalog)}
    assert found == {"data analysis", "analysis software"}
