"""Fair re-ranking trade-offs: NDCG@10 cost against the lowest impact ratios, per setting.

``python -m training.fairness.tradeoffs [--out FILE]`` trains the two arms of `waypoint audit
--compare` once (the unmitigated ranker and the shipped model), then serves the shipped model's
test-period lists under each re-ranking setting of `VARIANTS` (offsets fitted on the validation
period where a variant asks for them, as `waypoint train` fits them) and prints one Markdown
row per setting: the relative NDCG@10 loss against the unmitigated ranker, the number of gated
figures under 0.9 and the lowest selection / exposure ratio per dimension. ``--seeds 1 2 3``
instead re-trains both arms under each ranker seed and reports the shipped setting's cost.
No permutation tests (point estimates only) and no employee-facing lists: those do not depend
on re-ranking.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from features.params import RerankPolicy
from inference.fairness.groups import SEX, Grouping
from inference.fairness.models import iter_impact_ratios
from training.fairness.audit import (
    AuditResult,
    AuditSettings,
    build_audit,
    mean_ndcg,
    with_fitted_offsets,
)
from training.fairness.compare import TARGET_RATIO, columns_for, offsets_words
from training.fairness.mitigation import (
    MitigationSettings,
    hr_values,
    train_pipeline,
    with_hr_fields,
)
from training.fairness.report import markdown_cell
from training.ranking.dataset import RankingDataset
from training.ranking.ranker import time_split

if TYPE_CHECKING:
    from training.fairness.stage import AuditInputs

VARIANTS: tuple[tuple[str, Mapping[str, Any]], ...] = (
    ("model order (no re-ranking)", {"enabled": False}),
    ("floors 0.9", {"floor_ratio": 0.9}),
    ("floors 1.0", {"floor_ratio": 1.0}),
    ("floors 1.0 + ceilings", {"floor_ratio": 1.0, "ceilings": True}),
    ("floors 1.0, randomized rounding", {"floor_ratio": 1.0, "rounding": "randomized"}),
    ("offsets (target 0.95), no floors", {"fit": True, "floor_ratio": 1e-9}),  # ~0
    ("offsets (target 0.95) + floors 0.5", {"fit": True, "floor_ratio": 0.5}),
    ("offsets (target 0.95) + floors 0.8", {"fit": True, "floor_ratio": 0.8}),
    ("offsets (target 0.95) + floors 0.9", {"fit": True, "floor_ratio": 0.9}),
    ("offsets (target 0.98) + floors 0.8",
     {"fit": True, "floor_ratio": 0.8, "target": 0.98}),
    ("intersection: offsets (target 0.95) + floors 0.8",
     {"dimension": "sex_x_race_ethnicity", "fit": True, "floor_ratio": 0.8}),
    ("intersection: floors 1.0, randomized rounding",
     {"dimension": "sex_x_race_ethnicity", "floor_ratio": 1.0, "rounding": "randomized"}),
)
"""(name, overrides of ``fairness.rerank``; ``fit`` and ``target`` are ``rerank.offsets``'):
every setting starts from ``sex``, top 20, no ceilings, plain floors, no offsets."""


def variant_policy(base: RerankPolicy, overrides: Mapping[str, Any]) -> RerankPolicy:
    """``base`` with a `VARIANTS` entry's overrides, validated."""
    values = base.model_dump()
    changes = dict(overrides)
    for key in ("fit", "target"):
        if key in changes:
            values["offsets"][key] = changes.pop(key)
    return RerankPolicy.model_validate({**values, **changes})


def lowest(result: AuditResult, metric: str, dimension: str) -> float | None:
    values = [f.value for f in iter_impact_ratios(result.audit)
              if f.metric == metric and f.dimension == dimension and f.value is not None
              and not f.small_group and not f.unknown]
    return min(values) if values else None


def under(result: AuditResult, target: float = TARGET_RATIO) -> int:
    return sum(1 for f in iter_impact_ratios(result.audit)
               if f.value is not None and not f.small_group and not f.unknown
               and f.value < target - 1e-9)


@dataclass(frozen=True)
class Arms:
    """The naive and the shipped ranker of `waypoint audit --compare`, trained under one seed,
    with what their audits need."""

    settings: AuditSettings
    """The audit settings with point estimates only (no permutations)."""
    valid: RankingDataset
    test: RankingDataset
    naive: Any
    shipped: Any


def train_arms(inputs: AuditInputs, seed: int | None = None) -> Arms:
    params = inputs.params if seed is None else inputs.params.model_copy(update={"seed": seed})
    settings = inputs.audit_settings
    settings = settings.model_copy(update={"gate": settings.gate.model_copy(
        update={"significance": None})})
    wide = with_hr_fields(inputs.data, hr_values(inputs.org.employees))
    _, valid, test = time_split(wide, params.valid_fraction, params.test_fraction)
    sex = inputs.groupings.get(SEX)
    off = MitigationSettings(small_group_threshold=settings.small_group_threshold)
    mitigation = MitigationSettings.from_params(settings.mitigation,
                                                settings.small_group_threshold)
    naive, _ = train_pipeline(wide, params, sex, off, screen=False)
    shipped, _ = train_pipeline(wide, params, sex, mitigation, screen=True)
    return Arms(settings=settings, valid=valid, test=test, naive=naive, shipped=shipped)


def serve_shipped(arms: Arms, groupings: Mapping[str, Grouping], rerank: RerankPolicy
                  ) -> tuple[AuditResult, AuditSettings]:
    """Audit the shipped ranker's test lists under ``rerank`` (offsets fitted on the validation
    period first when it asks for them); the settings actually used come back too."""
    shipped = arms.shipped
    arm = with_fitted_offsets(arms.settings.model_copy(update={"rerank": rerank,
                                                            "fitted_offsets": {}}), arms.valid,
                              shipped.score(columns_for(shipped.feature_names, arms.valid)),
                              groupings[rerank.dimension])
    scores = shipped.score(columns_for(shipped.feature_names, arms.test))
    return build_audit(arms.test, scores, groupings, arm), arm


def naive_ndcg(arms: Arms, groupings: Mapping[str, Grouping]) -> tuple[float, int]:
    """NDCG@k of the naive ranker's test lists in model order, and how many lists."""
    naive = arms.naive
    result = build_audit(arms.test, naive.score(columns_for(naive.feature_names, arms.test)),
                         groupings, arms.settings.without_rerank())
    k = arms.settings.k
    return mean_ndcg(result.lists.served, result.lists.relevance, k), len(result.lists.served)


def tradeoff_table(inputs: AuditInputs, variants: Sequence[tuple[str, Mapping[str, Any]]] = VARIANTS
                   ) -> str:
    """The Markdown table over ``variants`` on the pipeline's artifacts."""
    arms = train_arms(inputs)
    groupings, k = inputs.groupings, arms.settings.k
    ndcg_before, n_lists = naive_ndcg(arms, groupings)
    base = variant_policy(arms.settings.rerank, {
        "enabled": True, "dimension": SEX, "k": 20, "ceilings": False, "floor_ratio": 1.0,
        "rounding": "floor", "fit": False, "target": 0.95})
    dims = ("sex", "race_ethnicity", "sex_x_race_ethnicity")
    header = ("| setting | offsets | NDCG@10 | loss | under 0.9 | "
              + " | ".join(f"min {m} {d}" for m in ("selection", "exposure") for d in dims)
              + " |")
    rows = [header, "|" + "---|" * (5 + 2 * len(dims))]
    for name, overrides in variants:
        result, used = serve_shipped(arms, groupings, variant_policy(base, overrides))
        ndcg = mean_ndcg(result.lists.served, result.lists.relevance, k)
        mins = [lowest(result, f"{m}_impact_ratio", d)
                for m in ("selection", "exposure") for d in dims]
        words = markdown_cell(offsets_words(used.fitted_offsets))
        rows.append(f"| {markdown_cell(name)} | {words} | {ndcg:.4f} | "
                    f"{100 * (ndcg_before - ndcg) / ndcg_before:.2f}% | {under(result)} | "
                    + " | ".join("–" if v is None else f"{v:.3f}" for v in mins) + " |")
    return (f"Unmitigated ranker, model order: NDCG@10 {ndcg_before:.4f} "
            f"({n_lists} test-period lists, k = {k}).\n\n" + "\n".join(rows) + "\n")


def seed_table(inputs: AuditInputs, seeds: Sequence[int]) -> str:
    """The shipped setting (``params.yaml``) re-trained under other ranker seeds: both arms,
    offsets re-fitted, point estimates. How much of the NDCG cost is the seed."""
    rows = ["| ranker seed | offsets | loss | min selection sex | min exposure sex | "
            "lowest gated ratio |", "|---|---|---|---|---|---|"]
    for seed in seeds:
        arms = train_arms(inputs, seed)
        before, _ = naive_ndcg(arms, inputs.groupings)
        after, used = serve_shipped(arms, inputs.groupings, arms.settings.rerank)
        a = mean_ndcg(after.lists.served, after.lists.relevance, arms.settings.k)
        low = after.min_impact_ratio()
        words = markdown_cell(offsets_words(used.fitted_offsets))
        rows.append(f"| {seed} | {words} | {100 * (before - a) / before:.2f}% | "
                    f"{lowest(after, 'selection_impact_ratio', SEX) or 0:.3f} | "
                    f"{lowest(after, 'exposure_impact_ratio', SEX) or 0:.3f} | "
                    f"{'–' if low is None else f'{low:.3f}'} |")
    return "\n".join(rows) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    from features.settings import get_settings
    from training.fairness.audit import read_audit_settings
    from training.fairness.stage import AuditInputs, load_model
    from training.ranking.ranker import read_params

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="also write the table to this file")
    parser.add_argument("--seeds", type=int, nargs="*", metavar="SEED",
                        help="instead: the shipped setting under these ranker seeds")
    args = parser.parse_args(argv)
    settings = get_settings()
    inputs = AuditInputs(settings, read_params(), read_audit_settings(),
                         load_model(settings).bundle)
    table = seed_table(inputs, args.seeds) if args.seeds else tradeoff_table(inputs)
    print(table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
