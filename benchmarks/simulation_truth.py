"""The simulator's hidden true skills, for the report scripts only (evaluation, never a feature).

``models/simulation_truth.json.gz`` (written by ``waypoint simulate``) holds, per employee, the
skills they truly hold as indices into ``skill_uris`` with the day they held each from.
"""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path


def true_skills(path: Path, as_of: date) -> dict[str, frozenset[str]]:
    """Employee id -> URIs of the skills they truly hold on ``as_of``."""
    with gzip.open(path, "rt") as handle:
        payload = json.load(handle)
    uris: list[str] = payload["skill_uris"]
    day = as_of.isoformat()
    return {emp_id: frozenset(uris[i] for i, since in zip(row["skill"], row["since"],
                                                          strict=True) if since <= day)
            for emp_id, row in payload["employees"].items()}


def split_half(employee_id: str) -> str:
    """``tune`` or ``report``: a fixed split of the employees by the parity of their number,
    so what is tuned on is never what is reported."""
    digits = "".join(ch for ch in employee_id if ch.isdigit())
    return "tune" if digits and int(digits) % 2 == 0 else "report"
