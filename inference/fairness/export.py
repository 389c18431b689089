"""Flatten audit figures into MLflow-compatible metrics: ``{name: float}``.

Names use only ``[A-Za-z0-9_./ -]``: ``fairness/<section>/<dimension>/<group>/<field>``, with
any other character of a group label replaced by ``_`` (and ``/`` too, so a label never adds a
path level). Flags become 0/1; undefined values are left out.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from inference.fairness.models import FairnessAudit

_BAD = re.compile(r"[^A-Za-z0-9_. -]")
ALLOWED_NAME = re.compile(r"^[A-Za-z0-9_./ -]+$")


def metric_segment(label: str) -> str:
    """A label made safe for one path segment of an MLflow metric name."""
    cleaned = _BAD.sub("_", label.strip()).strip()
    return cleaned or "_"


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    return None


def _scalars(model: BaseModel, prefix: str, out: dict[str, float]) -> None:
    for name, value in model:
        number = _number(value)
        if number is not None:
            out[f"{prefix}/{name}"] = number


def _put_groups(groups: list[Any], prefix: str, out: dict[str, float]) -> None:
    used: set[str] = set()
    for g in groups:
        seg = metric_segment(g.group)
        base, n = seg, 2
        while seg in used:  # two labels that clean to the same segment stay apart
            seg, n = f"{base}_{n}", n + 1
        used.add(seg)
        _scalars(g, f"{prefix}/{seg}", out)


def mlflow_metrics(audit: FairnessAudit, prefix: str = "fairness") -> dict[str, float]:
    """Every numeric figure of ``audit`` as ``{name: float}`` for ``mlflow.log_metrics``."""
    out: dict[str, float] = {}
    if audit.candidate_lists is not None:
        base = f"{prefix}/candidate_lists"
        _scalars(audit.candidate_lists, base, out)
        for dim in audit.candidate_lists.dimensions:
            _scalars(dim, f"{base}/{metric_segment(dim.dimension)}", out)
            _put_groups(dim.groups, f"{base}/{metric_segment(dim.dimension)}", out)
    if audit.rankings is not None:
        base = f"{prefix}/rankings"
        _scalars(audit.rankings, base, out)
        for rdim in audit.rankings.dimensions:
            _scalars(rdim, f"{base}/{metric_segment(rdim.dimension)}", out)
            _put_groups(rdim.groups, f"{base}/{metric_segment(rdim.dimension)}", out)
    if audit.employee_lists is not None:
        base = f"{prefix}/employee_lists"
        _scalars(audit.employee_lists, base, out)
        for odim in audit.employee_lists.dimensions:
            _scalars(odim, f"{base}/{metric_segment(odim.dimension)}", out)
            _put_groups(odim.groups, f"{base}/{metric_segment(odim.dimension)}", out)
    if audit.ndcg is not None:
        _scalars(audit.ndcg, f"{prefix}/ndcg", out)
    bad = [name for name in out if not ALLOWED_NAME.match(name)]
    if bad:  # pragma: no cover - guarded by metric_segment
        raise ValueError(f"invalid metric names: {bad[:3]}")
    return out
