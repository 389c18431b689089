"""Fair re-ranking trade-offs: NDCG@10 cost against the lowest impact ratios, per setting.

``python -m training.rerank_tradeoffs [--out FILE]`` trains the two arms of `waypoint audit
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
import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inference.fairness.groups import SEX
from inference.fairness.models import iter_impact_ratios
from training.audit import AuditResult, build_audit, fit_rerank_offsets, mean_ndcg
from training.audit_compare import TARGET_RATIO, columns_for
from training.fairness_mitigation import (
    MitigationSettings,
    hr_values,
    train_pipeline,
    with_hr_fields,
)
from training.ranker import time_split

if TYPE_CHECKING:
    from training.audit_stage import AuditInputs

VARIANTS: tuple[tuple[str, Mapping[str, Any]], ...] = (
    ("model order (no re-ranking)", {"enabled": False}),
    ("floors 0.9", {"floor_ratio": 0.9}),
    ("floors 1.0", {"floor_ratio": 1.0}),
    ("floors 1.0 + ceilings", {"floor_ratio": 1.0, "ceilings": True}),
    ("floors 1.0, randomized rounding", {"floor_ratio": 1.0, "rounding": "randomized"}),
    ("offsets (target 0.95), no floors", {"fit_offsets": True, "floor_ratio": 1e-9}),  # ~0
    ("offsets (target 0.95) + floors 0.5", {"fit_offsets": True, "floor_ratio": 0.5}),
    ("offsets (target 0.95) + floors 0.8", {"fit_offsets": True, "floor_ratio": 0.8}),
    ("offsets (target 0.95) + floors 0.9", {"fit_offsets": True, "floor_ratio": 0.9}),
    ("offsets (target 0.98) + floors 0.8",
     {"fit_offsets": True, "floor_ratio": 0.8, "offset_target": 0.98}),
    ("intersection: offsets (target 0.95) + floors 0.8",
     {"dimension": "sex_x_race_ethnicity", "fit_offsets": True, "floor_ratio": 0.8}),
    ("intersection: floors 1.0, randomized rounding",
     {"dimension": "sex_x_race_ethnicity", "floor_ratio": 1.0, "rounding": "randomized"}),
)
"""(name, overrides of ``fairness.rerank``): every setting starts from ``sex``, top 20, no
ceilings, plain floors, no offsets."""


def lowest(result: AuditResult, metric: str, dimension: str) -> float | None:
    values = [f.value for f in iter_impact_ratios(result.audit)
              if f.metric == metric and f.dimension == dimension and f.value is not None
              and not f.small_group and not f.unknown]
    return min(values) if values else None


def under(result: AuditResult, target: float = TARGET_RATIO) -> int:
    return sum(1 for f in iter_impact_ratios(result.audit)
               if f.value is not None and not f.small_group and not f.unknown
               and f.value < target - 1e-9)


def tradeoff_table(inputs: AuditInputs, variants: Sequence[tuple[str, Mapping[str, Any]]] = VARIANTS
                   ) -> str:
    """The Markdown table over ``variants`` on the pipeline's artifacts."""
    params, settings = inputs.params, inputs.audit_settings
    settings = dataclasses.replace(settings, gate=settings.gate.model_copy(
        update={"significance": None}))
    wide = with_hr_fields(inputs.data, hr_values(inputs.org.employees))
    _, valid, test = time_split(wide, params.valid_fraction, params.test_fraction)
    groupings = inputs.groupings
    off = MitigationSettings(small_group_threshold=settings.small_group_threshold)
    mitigation = MitigationSettings.from_mapping(dict(settings.mitigation),
                                                 settings.small_group_threshold)
    naive, _ = train_pipeline(wide, params, groupings.get(SEX), off, screen=False)
    shipped, _ = train_pipeline(wide, params, groupings.get(SEX), mitigation, screen=True)
    baseline = build_audit(test, naive.score(columns_for(naive.feature_names, test)), groupings,
                           settings.without_rerank())
    ndcg_before = mean_ndcg(baseline.lists.served, baseline.lists.relevance, settings.k)
    test_scores = shipped.score(columns_for(shipped.feature_names, test))
    valid_scores = shipped.score(columns_for(shipped.feature_names, valid))
    base = dataclasses.replace(settings.rerank, enabled=True, dimension=SEX, k=20,
                               ceilings=False, floor_ratio=1.0, rounding="floor",
                               fit_offsets=False, offsets={}, offset_target=0.95)
    dims = ("sex", "race_ethnicity", "sex_x_race_ethnicity")
    header = ("| setting | offsets | NDCG@10 | loss | under 0.9 | "
              + " | ".join(f"min {m} {d}" for m in ("selection", "exposure") for d in dims)
              + " |")
    rows = [header, "|" + "---|" * (5 + 2 * len(dims))]
    for name, overrides in variants:
        rerank = dataclasses.replace(base, **dict(overrides))
        arm = dataclasses.replace(settings, rerank=rerank)
        if rerank.fit_offsets and rerank.enabled:
            fit = fit_rerank_offsets(valid, valid_scores, groupings[rerank.dimension], arm)
            arm = dataclasses.replace(arm, rerank=dataclasses.replace(rerank, offsets=fit.offsets))
        result = build_audit(test, test_scores, groupings, arm)
        ndcg = mean_ndcg(result.lists.served, result.lists.relevance, settings.k)
        offsets = ", ".join(f"{g} +{v:g}".replace("|", "\\|")  # Markdown cell
                            for g, v in sorted(arm.rerank.offsets.items())) or "–"
        mins = [lowest(result, f"{m}_impact_ratio", d)
                for m in ("selection", "exposure") for d in dims]
        rows.append(f"| {name} | {offsets} | {ndcg:.4f} | "
                    f"{100 * (ndcg_before - ndcg) / ndcg_before:.2f}% | {under(result)} | "
                    + " | ".join("–" if v is None else f"{v:.3f}" for v in mins) + " |")
    return (f"Unmitigated ranker, model order: NDCG@10 {ndcg_before:.4f} "
            f"({len(baseline.lists.served)} test-period lists, k = {settings.k}).\n\n"
            + "\n".join(rows) + "\n")


def seed_table(inputs: AuditInputs, seeds: Sequence[int]) -> str:
    """The shipped setting (``params.yaml``) re-trained under other ranker seeds: both arms,
    offsets re-fitted, point estimates. How much of the NDCG cost is the seed."""
    params, settings = inputs.params, inputs.audit_settings
    settings = dataclasses.replace(settings, gate=settings.gate.model_copy(
        update={"significance": None}))
    wide = with_hr_fields(inputs.data, hr_values(inputs.org.employees))
    _, valid, test = time_split(wide, params.valid_fraction, params.test_fraction)
    groupings = inputs.groupings
    off = MitigationSettings(small_group_threshold=settings.small_group_threshold)
    mitigation = MitigationSettings.from_mapping(dict(settings.mitigation),
                                                 settings.small_group_threshold)
    rows = ["| ranker seed | offsets | loss | min selection sex | min exposure sex | "
            "lowest gated ratio |", "|---|---|---|---|---|---|"]
    for seed in seeds:
        p = dataclasses.replace(params, seed=seed)
        naive, _ = train_pipeline(wide, p, groupings.get(SEX), off, screen=False)
        shipped, _ = train_pipeline(wide, p, groupings.get(SEX), mitigation, screen=True)
        before = build_audit(test, naive.score(columns_for(naive.feature_names, test)),
                             groupings, settings.without_rerank())
        arm = settings
        if settings.rerank.fit_offsets:
            fit = fit_rerank_offsets(valid, shipped.score(columns_for(shipped.feature_names,
                                                                      valid)),
                                     groupings[settings.rerank.dimension], settings)
            arm = dataclasses.replace(settings, rerank=dataclasses.replace(
                settings.rerank, offsets=fit.offsets))
        after = build_audit(test, shipped.score(columns_for(shipped.feature_names, test)),
                            groupings, arm)
        b = mean_ndcg(before.lists.served, before.lists.relevance, settings.k)
        a = mean_ndcg(after.lists.served, after.lists.relevance, settings.k)
        offsets = ", ".join(f"{g} +{v:g}" for g, v in sorted(arm.rerank.offsets.items())) or "–"
        low = after.min_impact_ratio()
        rows.append(f"| {seed} | {offsets} | {100 * (b - a) / b:.2f}% | "
                    f"{lowest(after, 'selection_impact_ratio', SEX) or 0:.3f} | "
                    f"{lowest(after, 'exposure_impact_ratio', SEX) or 0:.3f} | "
                    f"{'–' if low is None else f'{low:.3f}'} |")
    return "\n".join(rows) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    from features.settings import get_settings
    from training.audit import read_audit_settings
    from training.audit_stage import AuditInputs
    from training.ranker import read_params

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="also write the table to this file")
    parser.add_argument("--seeds", type=int, nargs="*", metavar="SEED",
                        help="instead: the shipped setting under these ranker seeds")
    args = parser.parse_args(argv)
    inputs = AuditInputs(get_settings(), read_params(), read_audit_settings())
    table = seed_table(inputs, args.seeds) if args.seeds else tradeoff_table(inputs)
    print(table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
