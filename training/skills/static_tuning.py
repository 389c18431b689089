"""Contrastive fine-tuning of the static (model2vec) skill encoder's token table.

A model2vec model encodes a text as the mean of its tokens' vectors. Distilled from a
transformer, those vectors know the language but not ESCO: "Airflow and Spark" and a
paraphrase of a skill land wherever their words' average falls. Here the token table itself is
trained, with the same pairs as the transformer (``training.skills.encoder``: alternative label
-> preferred label, description -> label, synthetic occupation sentences, SkillSpan *train*
spans -> pseudo-labels) and the same in-batch-negatives loss (each anchor must pick its own
positive among the batch's positives, and each positive its anchor; two pairs with the same
positive are not each other's negatives). Only the rows of tokens in a batch move (sparse
gradients), so a step takes a fraction of a second on 2 CPU cores, against seconds for a
transformer step; the mean pooling and normalization are the model's own, so the tuned table
is loaded and served exactly as before.

Writes the tuned table over the distilled one (through a temporary folder, so a failure leaves
the distilled model) and ``static_tuning.json`` (steps, losses, time, where it ran).
"""

from __future__ import annotations

import json
import logging
import platform
import shutil
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from features.params import StaticTuningParams
from training.skills.encoder import Pair

log = logging.getLogger(__name__)
REPORT = "static_tuning.json"


def tune_static(model_dir: Path, pairs: Sequence[Pair], params: StaticTuningParams,
                threads: int, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Fine-tune the static model in ``model_dir`` on ``pairs`` (in order, ``batch_size`` at a
    time, ``steps`` batches) and save it in place."""
    import torch
    import torch.nn.functional as functional
    from model2vec import StaticModel

    torch.manual_seed(params.seed)
    torch.set_num_threads(threads)
    model = StaticModel.from_pretrained(model_dir, force_download=False)
    if model.weights is not None or model.token_mapping is not None:
        raise ValueError(f"{model_dir}: a vocabulary-quantized static model cannot be tuned")
    table = torch.tensor(np.asarray(model.embedding, dtype=np.float32))
    bag = torch.nn.EmbeddingBag.from_pretrained(table.clone(), freeze=False, mode="mean",
                                                sparse=True)
    optimizer = torch.optim.SparseAdam(list(bag.parameters()), lr=params.learning_rate)

    def embed(texts: list[str]) -> torch.Tensor:
        ids = model.tokenize(texts)
        lengths = [len(x) for x in ids]
        offsets = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
        flat = [token for row in ids for token in row] or [0]
        vectors = bag(torch.tensor(flat, dtype=torch.long), torch.from_numpy(offsets))
        return functional.normalize(vectors, dim=1)

    started, cpu_started = time.perf_counter(), time.process_time()
    losses: list[float] = []
    steps = min(params.steps, len(pairs) // params.batch_size)
    for step in range(steps):
        batch = pairs[step * params.batch_size:(step + 1) * params.batch_size]
        logits = params.scale * embed([a for a, _ in batch]) @ embed([p for _, p in batch]).T
        positive_ids: dict[str, int] = {}
        positive = torch.tensor([positive_ids.setdefault(p, len(positive_ids))
                                 for _, p in batch])
        same = (positive[:, None] == positive[None, :]) & ~torch.eye(len(batch), dtype=torch.bool)
        logits = logits.masked_fill(same, -1e4)
        target = torch.arange(len(batch))
        loss = (functional.cross_entropy(logits, target)
                + functional.cross_entropy(logits.T, target)) / 2
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.item()))
        if (step + 1) % 100 == 0 or step == 0:
            log.info("static tuning step %d/%d loss %.3f (%.0fs)", step + 1, steps,
                     float(np.mean(losses[-100:])), time.perf_counter() - started)
    tuned = bag.weight.detach()
    drift = float((tuned - table).norm() / table.norm())
    if steps:
        model.embedding = tuned.numpy().astype(np.asarray(model.embedding).dtype)
        _save_in_place(model, model_dir)
    report: dict[str, Any] = {
        "tuned_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": platform.node(), "device": "cpu", "torch_threads": threads,
        "seconds": round(time.perf_counter() - started, 1),
        "cpu_seconds": round(time.process_time() - cpu_started, 1),
        "steps": steps, "pairs": steps * params.batch_size,
        "loss_first_20": round(float(np.mean(losses[:20])), 4) if losses else None,
        "loss_last_20": round(float(np.mean(losses[-20:])), 4) if losses else None,
        "relative_change_of_table": round(drift, 4),
        "params": params.model_dump(), **(extra or {}),
    }
    (model_dir / REPORT).write_text(json.dumps(report, indent=2) + "\n")
    return report


def _save_in_place(model: Any, model_dir: Path) -> None:
    """Save beside ``model_dir``, then swap folders: nothing half-written is left behind.
    Files of the old folder that the model does not write (``distill.json``) are kept."""
    staging = model_dir.with_name(model_dir.name + ".tuning")
    shutil.rmtree(staging, ignore_errors=True)
    model.save_pretrained(str(staging))
    for kept in model_dir.iterdir():
        if kept.is_file() and not (staging / kept.name).exists():
            shutil.copy2(kept, staging / kept.name)
    previous = model_dir.with_name(model_dir.name + ".previous")
    shutil.rmtree(previous, ignore_errors=True)
    model_dir.rename(previous)
    staging.rename(model_dir)
    shutil.rmtree(previous, ignore_errors=True)
