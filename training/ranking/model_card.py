"""The model card every registered ranker version carries in its MLflow artifacts.

``waypoint train`` writes ``reports/model_card.json`` and ``reports/model_card.md`` (data
window, objective, every figure of the evaluation with its interval, the baselines, the gate,
fairness mitigation and its cost) and logs them with the run it registers; the fairness verdict
is not known yet then ("pending"). ``waypoint audit`` fills it in on the version's run
(`record_verdict`, called by `training.registry.record_fairness`).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from training.ranking.ranker import EvaluationReport, RankerParams

CARD_JSON = "model_card.json"
CARD_MD = "model_card.md"
ARTIFACT_PATH = "reports"
HEADLINE = ("applicants_outcome.ndcg", "applicants_outcome.top1", "applicants_outcome.spearman",
            "applicants_chosen.top1", "truth.spearman", "truth.top1", "retrieved.ndcg@10")


def model_card(report: EvaluationReport, *, params: RankerParams,
               data_versions: Mapping[str, str | None], mitigation: Mapping[str, Any],
               fairness_cost: Mapping[str, Any], model_name: str) -> dict[str, Any]:
    """The card as a JSON-able mapping."""
    return {
        "model_name": model_name,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "objective": {
            "labels": params.labels, "monotone_skill_features": params.monotone,
            "description": ("LambdaRank on each decision's applicant slate, graded 0 not "
                            "chosen / 1 chosen, failed / 2 chosen / 3 chosen and thrived; "
                            "retrieved non-applicants are not training rows (docs/ranking.md)"
                            if params.labels == "success" else
                            "legacy: every retrieved row, grades 3/2/1/0"),
        },
        "data_window": dict(report.split),
        "data_versions": dict(data_versions),
        "evaluation": {
            "primary_metric": report.primary_metric,
            "decisions": dict(report.counts),
            "ranker": _with_intervals(report, "ranker"),
            "baselines": {name: _with_intervals(report, name)
                          for name in report.metrics if name != "ranker"},
            "truth_available": report.truth,
            "backtest": _backtest(report.backtest),
            "gate_source": report.gate_source,
        },
        "gate": {"best_baseline": report.best_baseline,
                 "relative_improvement": report.relative_improvement,
                 "min_relative_improvement": report.min_relative_improvement,
                 "passed": report.passed,
                 "ranker_minus_baseline": {k: list(v) for k, v in report.differences.items()}},
        "features": {"gain_share": dict(list(report.importance.items())[:10]),
                     "skill_sweep": dict(report.skill_sweep)},
        "fairness": {"mitigation": dict(mitigation), "cost": dict(fairness_cost),
                     "verdict": "pending (recorded by waypoint audit)"},
        "params": params.model_dump(),
    }


def _backtest(bt: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if bt is None:
        return None
    rows = {name: {m: {"value": v, "low": bt["intervals"][name][m][0],
                       "high": bt["intervals"][name][m][1]}
                   for m, v in values.items()}
            for name, values in bt["metrics"].items()}
    return {"data_window": bt["split"], "decisions": bt["counts"], "ranker": rows["ranker"],
            "baselines": {k: v for k, v in rows.items() if k != "ranker"}}


def _with_intervals(report: EvaluationReport, name: str) -> dict[str, dict[str, float]]:
    return {m: {"value": v, "low": report.intervals[name][m][0],
                "high": report.intervals[name][m][1]}
            for m, v in report.metrics[name].items()}


def card_markdown(card: Mapping[str, Any]) -> str:
    ev = card["evaluation"]
    window = card["data_window"]
    lines = [f"# Model card: {card['model_name']}", "",
             f"Created {card['created_at']}. Objective: {card['objective']['description']}; "
             f"skill features monotone: {card['objective']['monotone_skill_features']}.", "",
             "## Data window", "",
             f"- training: {window.get('train_window')} ({window.get('train_queries')} decisions)",
             f"- validation (early stopping, fairness offsets): {window.get('valid_window')} "
             f"({window.get('valid_queries')})",
             f"- held-out test: {window.get('test_window')} ({window.get('test_queries')})",
             f"- data versions: {json.dumps(card['data_versions'])}", "",
             "## Evaluation (held-out period, 95% bootstrap intervals over decisions)", "",
             "| scorer | " + " | ".join(HEADLINE) + " |", "|---|" + "---|" * len(HEADLINE)]
    lines += _table({"ranker": ev["ranker"], **ev["baselines"]})
    bt = ev.get("backtest")
    if bt:
        lines += ["", f"Outcome backtest (same recipe, trained before "
                      f"{bt['data_window'].get('test_from')}, evaluated on "
                      f"{bt['data_window'].get('test_window')}):", "",
                  "| scorer | " + " | ".join(HEADLINE) + " |",
                  "|---|" + "---|" * len(HEADLINE)]
        lines += _table({"ranker": bt["ranker"], **bt["baselines"]})
    gate = card["gate"]
    lines += ["", "## Gate", "",
              f"{ev['primary_metric']} ({ev.get('gate_source', 'test')}): ranker vs best "
              f"baseline ({gate['best_baseline']}) "
              f"{gate['relative_improvement']:+.1%} (needs >= "
              f"{gate['min_relative_improvement']:+.1%}): "
              f"{'passed' if gate['passed'] else 'failed'}.", "",
              "## Features", "",
              "Gain share: " + ", ".join(f"{n} {v:.1%}"
                                          for n, v in card["features"]["gain_share"].items()),
              f"Skill sweep: {json.dumps(card['features']['skill_sweep'])}", "",
              "## Fairness", "",
              f"- mitigation: {json.dumps(card['fairness']['mitigation'])}",
              f"- cost on {ev['primary_metric']}: {json.dumps(card['fairness']['cost'])}",
              f"- audit verdict: {card['fairness']['verdict']}", ""]
    return "\n".join(lines)


def _table(rows: Mapping[str, Mapping[str, Mapping[str, float]]]) -> list[str]:
    out = []
    for name, values in rows.items():
        cells = []
        for m in HEADLINE:
            v = values.get(m)
            cells.append("–" if v is None else
                         f"{v['value']:.3f} [{v['low']:.3f}, {v['high']:.3f}]")
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    return out


def write_model_card(card: Mapping[str, Any], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    as_json, as_md = folder / CARD_JSON, folder / CARD_MD
    as_json.write_text(json.dumps(card, indent=2, default=str) + "\n")
    as_md.write_text(card_markdown(card))
    return [as_json, as_md]


def record_verdict(client: Any, run_id: str, passed: bool,
                   metrics: Mapping[str, float]) -> bool:
    """Fill the fairness verdict into the card logged with ``run_id`` (re-logged in place).
    False when the run has no card (a version registered before cards existed)."""
    import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        try:
            local = mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=f"{ARTIFACT_PATH}/{CARD_JSON}", dst_path=tmp)
        except Exception:
            return False
        card = json.loads(Path(local).read_text())
        card["fairness"]["verdict"] = "passed" if passed else "failed"
        card["fairness"]["audit"] = {k: float(v) for k, v in sorted(metrics.items())}
        out = Path(tmp) / "card"
        for path in write_model_card(card, out):
            client.log_artifact(run_id, str(path), artifact_path=ARTIFACT_PATH)
    return True
