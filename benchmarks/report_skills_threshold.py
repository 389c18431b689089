"""What a person is shown by `waypoint skills infer`, held apart: the served threshold's effect.

MRR and RP@5 rank every skill and never see the threshold. Here each validation set is read
through the served path (`SkillEngine.infer_many`, no ``top_k``: the threshold decides) with the
calibration and threshold tuned on the *other* set only (`training.skills.evaluate.tune_config`,
as `training/skills/held_apart.py` does for the rank metrics), under two rules for the
threshold: the one shipped (`choose_threshold`: the lowest within one standard error of the best
F1) and the best-F1 threshold alone (the rule before). Per set and rule: the threshold, the share
of sentences shown at least one skill, skills shown per sentence, and precision / recall / F1 of
the shown skills against the gold labels (incomplete lists: precision is a lower bound).

    PYTHONPATH=. .venv/bin/python benchmarks/report_skills_threshold.py
"""

from __future__ import annotations

import json
from dataclasses import replace

from features.inferred_skills import SourceKind
from features.params import load_params
from features.settings import get_settings
from inference.skills.artifacts import load_engine
from inference.skills.engine import SkillEngine
from training.skills.evaluate import BenchmarkSet, load_benchmarks, tune_config


def shown_figures(engine: SkillEngine, bench: BenchmarkSet) -> dict[str, float]:
    ids = {skill.uri: i for i, skill in enumerate(engine.catalog.skills)}
    results = engine.infer_many(bench.sentences, SourceKind.JOB_DESCRIPTION)
    shown = hit = nonempty = 0
    for result, gold in zip(results, bench.gold, strict=True):
        found = {ids[s.uri] for s in result.skills}
        shown += len(found)
        hit += len(found & gold)
        nonempty += bool(found)
    wanted = sum(len(g) for g in bench.gold)
    precision = hit / shown if shown else 0.0
    recall = hit / wanted if wanted else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"threshold": engine.config.min_score,
            "sentences_shown_a_skill": round(nonempty / len(results), 3),
            "skills_per_sentence": round(shown / len(results), 2),
            "precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3)}


def main() -> None:
    settings = get_settings()
    engine = load_engine(settings)
    shipped = engine.config
    two_stage = load_params().skills_engine.two_stage_search
    sets = load_benchmarks(settings.benchmarks_dir, engine.catalog)
    out: dict[str, object] = {"engine_threshold_shipped": shipped.min_score}
    try:
        for bench in sets:
            others = [b for b in sets if b.name != bench.name]
            engine.config = replace(shipped, two_stage_search=False)
            tuned, figures = tune_config(engine, others, base=engine.config)
            rules = {"shipped (one standard error)": tuned.min_score,
                     "best F1": figures["best_f1_threshold"]}
            per_rule = {}
            for name, threshold in rules.items():
                engine.config = replace(tuned, min_score=float(threshold),
                                        two_stage_search=two_stage)
                per_rule[name] = shown_figures(engine, bench)
            out[f"{bench.name} (tuned on {'+'.join(b.name for b in others)})"] = per_rule
    finally:
        engine.config = shipped
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
