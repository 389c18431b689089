"""SkillSpan pseudo-labels for encoder training: verbatim aliases, else a cheap nearest-label
encoder (no 113k-text label cache)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from features.domain import Skill
from inference.skills.catalog import SkillCatalog
from training.skills.encoder import skillspan_pairs
from training.skills.pseudo_labels import HEADER, fingerprint, nearest_labels


class BagOfWords:
    name = "bag-of-words"
    vocabulary = ("python", "programming", "customer", "service", "welding", "metal")

    @property
    def dim(self) -> int:
        return len(self.vocabulary)

    def encode(self, texts: Sequence[str], batch_size: int = 128) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                if word in self.vocabulary:
                    out[row, self.vocabulary.index(word)] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms

    def encode_spans(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]],
                     batch_size: int = 64) -> list[np.ndarray]:
        return [self.encode([text[lo:hi] for lo, hi in found]) for text, found in
                zip(texts, spans, strict=True)]


def test_spans_labelled_by_alias_or_nearest_label(tmp_path: Path) -> None:
    catalog = SkillCatalog(skills=[
        Skill(uri="urn:py", label="Python programming", alt_labels=("Python3",)),
        Skill(uri="urn:cs", label="customer service"),
        Skill(uri="urn:weld", label="metal welding"),
    ])
    rows = [
        {"tokens": ["Strong", "python3", "skills"], "tags_skill": ["O", "B", "O"],
         "tags_knowledge": ["O", "O", "O"]},
        {"tokens": ["Friendly", "customer", "service", "attitude"],
         "tags_skill": ["O", "B", "I", "O"], "tags_knowledge": ["O", "O", "O", "O"]},
        {"tokens": ["Loves", "gardening"], "tags_skill": ["O", "B"],
         "tags_knowledge": ["O", "O"]},
        {"tokens": ["Excluded", "welding", "sentence"], "tags_skill": ["O", "B", "O"],
         "tags_knowledge": ["O", "O", "O"]},
    ]
    path = tmp_path / "train.json"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    pairs, stats = skillspan_pairs(path, {"excluded welding sentence"}, catalog, BagOfWords(),
                                   min_sim=0.6, cache=None)
    assert ("Strong python3 skills", "Python programming") in pairs
    assert ("python3", "Python programming") in pairs
    assert ("Friendly customer service attitude", "customer service") in pairs
    assert not any("gardening" in a or "welding" in a for a, _ in pairs)
    assert stats["sentences"] == 3 and stats["spans"] == 3
    assert stats["pseudo_labelled_spans"] == 2 and stats["verbatim_alias_spans"] == 2


class Counting(BagOfWords):
    def __init__(self) -> None:
        self.encoded = 0

    def encode(self, texts: Sequence[str], batch_size: int = 128) -> np.ndarray:
        self.encoded += len(texts)
        return super().encode(texts, batch_size)


LABELS = ["Python programming", "customer service", "metal welding"]
SPANS = ["python code", "service desk"]


def test_a_fresh_file_is_read_and_nothing_is_encoded(tmp_path: Path) -> None:
    cache = tmp_path / "labels.tsv"
    first = Counting()
    computed, source = nearest_labels(SPANS, LABELS, first, cache, refresh=True)
    assert source == "refreshed" and first.encoded > 0
    assert cache.read_text().splitlines()[0] == HEADER + fingerprint("bag-of-words", LABELS)
    again = Counting()
    read, source = nearest_labels(SPANS, LABELS, again, cache)
    assert (source, again.encoded) == ("file", 0)
    assert read == computed
    assert read["python code"].label == "Python programming"


def test_a_stale_file_or_a_missing_span_is_computed_and_the_file_left_alone(
        tmp_path: Path) -> None:
    cache = tmp_path / "labels.tsv"
    nearest_labels(SPANS, LABELS, Counting(), cache, refresh=True)
    written = cache.read_text()
    other_catalog = [*LABELS, "gardening"]
    stale = Counting()
    found, source = nearest_labels(SPANS, other_catalog, stale, cache)
    assert source == "computed" and stale.encoded > 0
    missing = Counting()
    found, source = nearest_labels([*SPANS, "metal work"], LABELS, missing, cache)
    assert source == "computed" and found["metal work"].label == "metal welding"
    assert cache.read_text() == written


def test_a_malformed_line_names_the_file_and_line(tmp_path: Path) -> None:
    cache = tmp_path / "labels.tsv"
    cache.write_text(HEADER + fingerprint("bag-of-words", LABELS) + "\npython code only\n")
    try:
        nearest_labels(SPANS, LABELS, Counting(), cache)
    except ValueError as error:
        assert f"{cache}:2" in str(error)
    else:
        raise AssertionError("a malformed line was read")
