"""The committed SkillSpan pseudo-labels (data/skillspan_pseudo_labels.tsv) are those training
would compute: made by the packaged MiniLM over today's ESCO labels, holding every span the
encoder's training needs, with similarities the encoder reproduces."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from features.settings import PACKAGED_ENCODER, Settings
from inference.skills.catalog import SkillCatalog, normalize
from inference.skills.encoder import load_encoder
from training.skills.encoder import skillspan_spans
from training.skills.evaluate import benchmark_sentences
from training.skills.pseudo_labels import PSEUDO_LABELS, fingerprint, read_pseudo_labels

REFRESH = "run `waypoint skills train-encoder --refresh-pseudo-labels`"


def test_the_committed_pseudo_labels_are_fresh_and_reproduce(shared_data_dir: Path) -> None:
    catalog = SkillCatalog.from_data_dir(shared_data_dir)
    labels = [skill.label for skill in catalog.skills]
    labeler = load_encoder(PACKAGED_ENCODER, max_seq_length=32)
    known = read_pseudo_labels(PSEUDO_LABELS, fingerprint(labeler.name, labels))
    assert known, f"{PSEUDO_LABELS} is stale or missing: {REFRESH}"

    excluded = benchmark_sentences(Settings().benchmarks_dir)
    rows = skillspan_spans(shared_data_dir / "skillspan" / "json" / "train.json", excluded)
    spans = {span for _, found in rows for span in found}
    needed = {s for s in spans if len(catalog.aliases.get(normalize(s), ())) != 1}
    assert needed <= set(known), f"{len(needed - set(known))} spans missing: {REFRESH}"

    sample = sorted(known)[:: max(1, len(known) // 40)]
    span_vectors = labeler.encode(sample)
    label_vectors = labeler.encode([known[s].label for s in sample])
    recomputed = np.sum(span_vectors * label_vectors, axis=1)
    stored = np.array([known[s].similarity for s in sample])
    assert np.allclose(recomputed, stored, atol=2e-3), list(zip(sample, recomputed, stored,
                                                              strict=True))[:5]
