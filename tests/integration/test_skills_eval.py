"""The benchmark protocol and its metrics, checked against hand-computed values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.support.skills_factory import make_skill_catalog
from training.skills.evaluate import load_benchmark, load_benchmarks, mrr_rp5


def test_mrr_and_rp5_by_hand() -> None:
    scores = np.array([
        [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3],   # gold {1}: rank 2 -> RR 1/2, RP@5 1/1
        [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7],   # gold {0, 6}: first gold at rank 1; top5 has 6
    ])
    mrr, rp5 = mrr_rp5(scores, [{1}, {0, 6}])
    assert mrr == pytest.approx((0.5 + 1.0) / 2)
    assert rp5 == pytest.approx((1.0 + 0.5) / 2)


def test_rp5_divides_by_five_at_most() -> None:
    scores = np.arange(10, 0, -1, dtype=float)[None, :]
    gold = [set(range(8))]  # 8 gold, top-5 all gold -> 5 / min(5, 8) = 1
    assert mrr_rp5(scores, gold) == (1.0, 1.0)


def test_load_benchmark_groups_by_sentence_and_drops_non_labels(tmp_path: Path) -> None:
    path = tmp_path / "bench.csv"
    path.write_text(
        "sentence,span,sub_span,label\n"
        "Python and SQL,Python,,Python (computer programming)\n"
        "Python and SQL,SQL,,SQL\n"
        "Python and SQL,and,,UNDERSPECIFIED\n"
        "Only noise,noise,,LABEL NOT PRESENT\n"
        "Old label,x,,some label removed in v1.1.1\n")
    catalog = make_skill_catalog()
    bench = load_benchmark(path, catalog, "T")
    assert bench.sentences == ["Python and SQL"]
    assert bench.gold == [{catalog.label_to_index["Python (computer programming)"],
                           catalog.label_to_index["SQL"]}]
    assert bench.rows == 5 and bench.labelled_rows == 3
    assert bench.unmatched_labels == ["some label removed in v1.1.1"]


@pytest.mark.data
def test_real_benchmark_labels_match_esco_v111(shared_data_dir: Path) -> None:
    from features.settings import get_settings
    from inference.skills.catalog import SkillCatalog
    from tests.conftest import require

    benchmarks = get_settings().benchmarks_dir
    require((benchmarks / "skill-extraction").is_dir(), f"no benchmarks at {benchmarks}")
    catalog = SkillCatalog.from_data_dir(shared_data_dir)
    sets = {b.name: b for b in load_benchmarks(benchmarks, catalog)}
    assert len(sets["TECH"].sentences) == 75 and len(sets["HOUSE"].sentences) == 61
    assert all(not b.unmatched_labels for b in sets.values())
    assert len(catalog) == 13_896
    assert len(catalog.texts) > 100_000
