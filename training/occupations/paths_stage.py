"""``waypoint paths build`` and ``waypoint paths evaluate``: fit, evaluate and ship the path model.

Both compute the signals from the reference data, and cross-validate the blended model on the
related-occupations validation set (5 folds across source occupations); ``build`` then fits it
on every validation source and writes the occupation graph serving loads
(``models/occupations/paths``) with the evaluation next to it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from features.errors import WaypointError
from features.settings import PACKAGED_ENCODER, Settings
from training.occupations.path_model import (
    PathEvaluation,
    SignalStack,
    build_graph,
    cross_validate,
    fit_blend,
    read_related_occupations,
)
from training.occupations.reference import OccupationReference, read_occupation_reference
from training.occupations.signals import Encode, compute_signals

log = logging.getLogger(__name__)
RELATED_FILE = Path("related-occupations") / "validation.txt"
EVAL_FILE = "evaluation.json"


def _stack(settings: Settings, encoder: str | None) -> tuple[OccupationReference, SignalStack]:
    ref = read_occupation_reference(settings.data_dir)
    encode: Encode | None = None
    if encoder:
        from inference.skills.encoder import load_encoder

        model = load_encoder(encoder, max_seq_length=128)

        def encode(texts: Sequence[str]) -> np.ndarray:
            return model.encode(texts, batch_size=64)
    return ref, SignalStack(ref.codes, compute_signals(ref, encode))


def _gold(settings: Settings) -> dict[str, set[str]]:
    path = settings.benchmarks_dir / RELATED_FILE
    if not path.is_file():
        raise WaypointError(f"{path} not found: the related-occupations validation set")
    return read_related_occupations(path)


def evaluation_table(ev: PathEvaluation) -> str:
    """Markdown: the blended model (cross-validated) and every single-signal baseline."""
    lines = [f"RP@10 on {ev.sources} validation source occupations "
             f"({ev.folds}-fold cross-validation across sources for the model; the "
             "single signals have nothing to fit)", "",
             "| ranker | RP@10 |", "|---|---|",
             f"| **path model** (blend, held-out folds) | **{ev.model:.3f}** |"]
    for name, value in sorted(ev.baselines.items(), key=lambda kv: -kv[1]):
        lines.append(f"| {name} | {value:.3f} |")
    lines.append("")
    lines.append("Per fold: " + ", ".join(f"{v:.3f}" for v in ev.model_per_fold))
    return "\n".join(lines) + "\n"


def evaluate(settings: Settings, encoder: str | None = PACKAGED_ENCODER) -> PathEvaluation:
    _, stack = _stack(settings, encoder)
    return cross_validate(stack, _gold(settings))


def build(settings: Settings, out: Path,
          encoder: str | None = PACKAGED_ENCODER) -> dict[str, object]:
    """Fit on every validation source, write the graph and its evaluation to ``out``."""
    started = time.monotonic()
    ref, stack = _stack(settings, encoder)
    gold = _gold(settings)
    ev = cross_validate(stack, gold)
    sources = sorted(s for s in gold if s in stack.index)
    weights = fit_blend(stack, gold, sources)
    digest = hashlib.sha256(json.dumps(weights.as_json(), sort_keys=True).encode()).hexdigest()
    meta: dict[str, object] = {"version": f"paths-{digest[:12]}", "encoder": encoder,
                               "fitted_on_sources": len(sources), **weights.as_json()}
    graph = build_graph(ref, stack, weights, meta)
    graph.save(out)
    report = {"rp_at_10": {"model_cross_validated": ev.model, "per_fold": ev.model_per_fold,
                           "baselines": ev.baselines},
              "sources": ev.sources, "folds": ev.folds, "model": meta,
              "seconds": round(time.monotonic() - started, 1)}
    (out / EVAL_FILE).write_text(json.dumps(report, indent=2) + "\n")
    (out / "evaluation.md").write_text(evaluation_table(ev))
    log.info("path model %s: RP@10 %.3f (cross-validated) in %.0f s", meta["version"], ev.model,
             report["seconds"])
    return report
