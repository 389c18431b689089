"""Figures on data the configuration never saw: each benchmark set is scored with re-scoring
knobs and calibration tuned on the *other* sets only (TECH with a config tuned on HOUSE, and the
reverse); throughput is that of the shipped configuration, on the served path (``infer_many``,
what the profiles stage and the API run) and on the benchmark's rank-all path.

The shipped ``engine.json`` is tuned on both sets (``skills index``); these figures estimate how
that procedure does on unseen text. What no configuration ever tunes on, and no training ever
reads, is the test split (not distributed) and any third set.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import numpy as np

from features.inferred_skills import SourceKind
from inference.skills.catalog import SkillCatalog
from inference.skills.encoder import TextEncoder
from inference.skills.engine import SkillEngine
from training.skills.evaluate import (
    BenchmarkSet,
    SetResult,
    VariantResult,
    mrr_rp5,
    tune_config,
)

log = logging.getLogger(__name__)


def infer_rate(engine: SkillEngine, sentences: Sequence[str], repeats: int = 2,
               ) -> tuple[float, float]:
    """Sentences per second (wall, and per CPU-second of this process) of ``infer_many`` with
    the engine's own config: best of ``repeats``."""
    engine.infer_many(list(sentences[:8]), SourceKind.JOB_DESCRIPTION)
    best = best_cpu = float("inf")
    for _ in range(repeats):
        engine.forget()  # each repeat reads the sentences afresh
        started, cpu = time.perf_counter(), time.process_time()
        engine.infer_many(list(sentences), SourceKind.JOB_DESCRIPTION)
        best = min(best, time.perf_counter() - started)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return len(sentences) / best, len(sentences) / max(best_cpu, 1e-9)


def evaluate_held_apart(engine: SkillEngine, sets: Sequence[BenchmarkSet], variant: str,
                        repeats: int = 2, notes: str = "") -> VariantResult:
    """Each set scored by the config tuned on the others; speed of the shipped config."""
    shipped = engine.config
    results: dict[str, SetResult] = {}
    all_sentences = [s for bench in sets for s in bench.sentences]
    try:
        wall, cpu = infer_rate(engine, all_sentences, repeats)
        for bench in sets:
            others = [b for b in sets if b.name != bench.name]
            config, _ = tune_config(engine, others, base=shipped)
            engine.config = config
            started = time.perf_counter()
            scores = engine.rank_all(bench.sentences)
            rank_rate = len(bench.sentences) / (time.perf_counter() - started)
            mrr, rp5 = mrr_rp5(scores, bench.gold)
            results[bench.name] = SetResult(round(mrr, 4), round(rp5, 4), len(bench.sentences),
                                            round(wall, 1), round(cpu, 1))
            log.info("%s on %s (tuned on %s): MRR %.3f RP@5 %.3f, rank-all %.0f/s", variant,
                     bench.name, "+".join(b.name for b in others), mrr, rp5, rank_rate)
            engine.config = shipped
    finally:
        engine.config = shipped
    return VariantResult(variant, engine.encoder.name, results, notes)


def evaluate_off_the_shelf(catalog: SkillCatalog, encoder: TextEncoder,
                           sets: Sequence[BenchmarkSet]) -> VariantResult:
    """The published baseline protocol, nothing tuned: the whole sentence against every ESCO
    preferred label by cosine (13.9k labels encoded here; no label cache needed)."""
    labels = encoder.encode([skill.label for skill in catalog.skills], batch_size=256)
    results: dict[str, SetResult] = {}
    for bench in sets:
        started, cpu = time.perf_counter(), time.process_time()
        scores = np.asarray(encoder.encode(bench.sentences) @ labels.T, dtype=np.float32)
        elapsed, cpu_elapsed = time.perf_counter() - started, time.process_time() - cpu
        mrr, rp5 = mrr_rp5(scores, bench.gold)
        results[bench.name] = SetResult(round(mrr, 4), round(rp5, 4), len(bench.sentences),
                                        round(len(bench.sentences) / elapsed, 1),
                                        round(len(bench.sentences) / max(cpu_elapsed, 1e-9), 1))
    return VariantResult("off-the-shelf MiniLM (labels only)", encoder.name, results,
                         "sentence vs ESCO preferred labels by cosine; no engine, nothing tuned")
