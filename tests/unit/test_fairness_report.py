"""The Markdown / HTML report with PNG plots."""

from __future__ import annotations

from pathlib import Path

from inference.fairness.gate import evaluate_gate
from inference.fairness.groups import INTERSECTION, SEX
from inference.fairness.metrics import (
    EmployeeRecommendations,
    RankedList,
    RecommendedOpportunity,
    audit_candidate_lists,
    audit_employee_lists,
)
from inference.fairness.models import FairnessAudit, NdcgChange
from inference.fairness.ranking_metrics import audit_rankings
from tests.support.params_factory import gate_thresholds
from training.fairness.report import mlflow_metrics, to_markdown, write_report


def _audit() -> FairnessAudit:
    lists = [RankedList.from_pairs("A", [("a1", 0.9), ("a2", 0.8), ("a3", 0.4), ("a4", 0.3)]),
             RankedList.from_pairs("B", [("b1", 0.7), ("b2", 0.6), ("b3", 0.5), ("b4", 0.2)])]
    sex = {"a1": "female", "a2": "male", "a3": "female", "a4": "male", "b1": "male",
           "b2": "male", "b3": "female"}  # b4 unknown
    inter = {k: f"{v} | Asian" for k, v in sex.items()}
    groupings = {SEX: sex, INTERSECTION: inter}
    employees = [EmployeeRecommendations(e, fit, (RecommendedOpportunity("o", level, q),))
                 for e, fit, level, q in [("a1", 0.1, 2, 0.5), ("a2", 0.2, 3, 0.6),
                                          ("a3", 0.8, 4, 0.7), ("a4", 0.9, 4, 0.7)]]
    return FairnessAudit(
        subject="ranker v7",
        candidate_lists=audit_candidate_lists(lists, groupings, k=2),
        rankings=audit_rankings(lists, groupings, k=2),
        employee_lists=audit_employee_lists(employees, groupings, n_bins=2),
        ndcg=NdcgChange(k=2, n_lists=2, before=0.9, after=0.85, delta=-0.05),
    )


def test_write_report(tmp_path: Path) -> None:
    audit = _audit()
    files = write_report(audit, tmp_path / "out", gate=evaluate_gate(audit, gate_thresholds()))
    md = files.markdown.read_text()
    page = files.html.read_text()
    assert md.startswith("# Fairness audit")
    # female 1 of 3 selected, male 3 of 4 (b4 is unknown): (1/3) / (3/4) = 0.444
    assert "## Gate: FAILED" in md and "selection impact ratio 0.44 is below 0.80" in md
    assert "| female \\| Asian |" in md  # the intersection label's "|" is escaped
    assert "<table>" in page and "female | Asian" in page
    # one plot per dimension for candidates, exposure and employee levels
    assert len(files.images) == 6
    for image in files.images:
        assert image.parent == files.markdown.parent
        assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({image.name})" in md and f'src="{image.name}"' in page
    assert "NDCG@2 over 2 lists: 0.9000 before, 0.8500 after (-0.0500)" in md


def test_report_of_empty_audit(tmp_path: Path) -> None:
    files = write_report(FairnessAudit(), tmp_path)
    assert files.images == [] and files.markdown.read_text().startswith("# Fairness audit")
    assert to_markdown([]) == "\n"


def test_mlflow_metrics_reexported() -> None:
    assert "fairness/employee_lists/sex/female/level_impact_ratio" in mlflow_metrics(_audit())
