"""The profiles stage's on-disk store of inferred skills per distinct text."""

from __future__ import annotations

from pathlib import Path

from features.inferred_skills import InferredSkill, SourceKind
from training.skills.inferred_texts import LOOKUP_PAGE, InferredTexts

PYTHON = InferredSkill(uri="http://data.europa.eu/esco/skill/python", label="Python",
                       score=0.8)


def test_what_is_added_comes_back_per_source_and_text(tmp_path: Path) -> None:
    with InferredTexts(tmp_path) as cache:
        review = (SourceKind.PERFORMANCE_REVIEW, "wrote Python every day")
        cache.add([(review, (PYTHON,)), ((SourceKind.JOB_DESCRIPTION, "nothing"), ())])
        found = cache.get([review, (SourceKind.JOB_DESCRIPTION, "nothing"),
                           (SourceKind.JOB_DESCRIPTION, "wrote Python every day"),  # other kind
                           (SourceKind.PERFORMANCE_REVIEW, "never added")])
        assert found == {review: (PYTHON,), (SourceKind.JOB_DESCRIPTION, "nothing"): ()}
        assert cache.count == 2
    assert list(tmp_path.iterdir()) == []  # its working file goes with it


def test_more_keys_than_one_query_takes(tmp_path: Path) -> None:
    keys = [(SourceKind.PERFORMANCE_REVIEW, f"text {i}") for i in range(2 * LOOKUP_PAGE + 7)]
    with InferredTexts(tmp_path) as cache:
        cache.add((key, (PYTHON,) if i % 2 else ()) for i, key in enumerate(keys))
        found = cache.get(reversed(keys))
    assert len(found) == len(keys)
    assert [len(found[k]) for k in keys[:4]] == [0, 1, 0, 1]
