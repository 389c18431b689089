"""Skills engine throughput: sentences per second of the engine that is served.

Loads the one engine the pipeline built (``models/skills/serving.json``: the engine the profiles
stage, ``POST /v1/skills/infer`` and ``waypoint skills infer`` use), with its shipped config, and
times on real job-posting sentences (SkillSpan dev, tokens joined; with ``--variant`` another
variant):

- ``batch``: ``infer_many`` over chunks of ``--batch`` texts (what the profiles stage and
  ``skills infer`` run);
- ``single``: ``infer`` on one sentence at a time (one API request each), p50 / p99 latency.

Torch and BLAS threads are set to ``--threads`` (default 2: the target is >= 150 sentences/s on
2 cores). Prints wall and CPU rates; run on an otherwise idle machine for figures to quote::

    .venv/bin/python benchmarks/bench_skills.py [--threads 2] [--sentences 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path


def dev_sentences(data_dir: Path, limit: int) -> list[str]:
    """SkillSpan dev sentences with at least four tokens, in file order, up to ``limit``."""
    out: list[str] = []
    with (data_dir / "skillspan" / "json" / "dev.json").open(encoding="utf-8") as handle:
        for line in handle:
            tokens = json.loads(line)["tokens"]
            if len(tokens) >= 4:
                out.append(" ".join(tokens))
            if len(out) >= limit:
                break
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sentences", type=int, default=2000)
    parser.add_argument("--single", type=int, default=300, help="sentences timed one by one")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--variant", help="another variant than the served engine")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(name, str(args.threads))

    import numpy as np
    import torch

    from features.inferred_skills import SourceKind
    from features.settings import get_settings
    from inference.skills.artifacts import load_engine, resolve_variant

    torch.set_num_threads(args.threads)
    settings = get_settings()
    variant = resolve_variant(settings.artifact_dir, args.variant)
    started = time.perf_counter()
    engine = load_engine(settings, variant)
    load_seconds = time.perf_counter() - started
    sentences = dev_sentences(settings.data_dir, args.sentences)
    engine.infer_many(sentences[:32], SourceKind.JOB_DESCRIPTION)  # warm-up

    best = best_cpu = float("inf")
    for _ in range(args.repeats):
        engine.forget()  # each repeat reads the sentences afresh, not from the engine's memo
        t0, c0 = time.perf_counter(), time.process_time()
        for lo in range(0, len(sentences), args.batch):
            engine.infer_many(sentences[lo:lo + args.batch], SourceKind.JOB_DESCRIPTION)
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)

    latencies = []
    engine.forget()  # one at a time, as new texts arrive
    for text in sentences[:args.single]:
        t0 = time.perf_counter()
        engine.infer(text, SourceKind.JOB_DESCRIPTION)
        latencies.append(1000 * (time.perf_counter() - t0))
    print(json.dumps({
        "variant": variant, "encoder": engine.encoder.name, "threads": args.threads,
        "load_seconds": round(load_seconds, 1), "sentences": len(sentences),
        "batch_sentences_per_s": round(len(sentences) / best, 1),
        "batch_sentences_per_cpu_s": round(len(sentences) / max(best_cpu, 1e-9), 1),
        "single_p50_ms": round(float(np.percentile(latencies, 50)), 2),
        "single_p99_ms": round(float(np.percentile(latencies, 99)), 2),
        "single_sentences_per_s": round(1000 * len(latencies) / sum(latencies), 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }, indent=2))


if __name__ == "__main__":
    main()
