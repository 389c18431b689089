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
                                   min_sim=0.6)
    assert ("Strong python3 skills", "Python programming") in pairs
    assert ("python3", "Python programming") in pairs
    assert ("Friendly customer service attitude", "customer service") in pairs
    assert not any("gardening" in a or "welding" in a for a, _ in pairs)
    assert stats["sentences"] == 3 and stats["spans"] == 3
    assert stats["pseudo_labelled_spans"] == 2 and stats["verbatim_alias_spans"] == 2
