"""The published O*NET -> ESCO occupation mapping and the HR admin's overrides, as CSV files.

- **Mapping** (``models/crosswalk/onet_esco.csv``, written by ``waypoint simulate``): one row per
  O*NET occupation with task statements, with the matched ESCO occupation (empty when none),
  its score, the title and content scores behind it and the method (``content``, ``override``
  or ``unmapped``); sorted by code, for review. The profiles stage reads the role -> ESCO
  occupation links from it.
- **Overrides** (``data/crosswalk_overrides.csv``, or ``WAYPOINT_CROSSWALK_OVERRIDES``): columns
  ``onet_code,esco_uri,note``; ``esco_uri`` is an ESCO occupation URI or ``none`` (no ESCO
  occupation: the role's requirements come from its own description). An override wins over
  the matcher wherever the mapping is used: the simulated company, the profiles stage, the
  occupation signals. ``waypoint crosswalk set CODE URI|none --note ...`` edits the file.

Both are written atomically (to a temporary file, then renamed); a malformed override file is
an error naming the file and line.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path

from features.errors import WaypointError
from features.sources import read_rows
from training.simulation.crosswalk import OccupationMatch

ESCO_OCCUPATION_PREFIX = "http://data.europa.eu/esco/occupation/"
ONET_CODE = re.compile(r"^\d{2}-\d{4}\.\d{2}$")
OVERRIDE_COLUMNS = ("onet_code", "esco_uri", "note")
MAPPING_COLUMNS = ("onet_code", "onet_title", "esco_uri", "esco_label", "score", "title_score",
                   "content_score", "method")
NO_MATCH = "none"


def _write_atomically(path: Path, header: tuple[str, ...], rows: list[dict[str, str]]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(header), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(buffer.getvalue())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_overrides(path: Path) -> dict[str, str | None]:
    """O*NET code -> ESCO occupation URI, or ``None`` for "no ESCO occupation"; an absent file
    means no overrides."""
    if not path.is_file():
        return {}
    out: dict[str, str | None] = {}
    for row in read_rows(path, OVERRIDE_COLUMNS):
        code = row.required("onet_code")
        if not ONET_CODE.match(code):
            raise row.error("onet_code", f"not an O*NET-SOC code: {code!r}")
        uri = row.required("esco_uri")
        if uri != NO_MATCH and not uri.startswith(ESCO_OCCUPATION_PREFIX):
            raise row.error("esco_uri", f"expected an ESCO occupation URI or 'none', got {uri!r}")
        if code in out:
            raise row.error("onet_code", f"{code} is overridden twice")
        out[code] = None if uri == NO_MATCH else uri
    return out


def set_override(path: Path, code: str, esco_uri: str | None, note: str) -> None:
    """Add or replace the override of ``code`` (the rest of the file kept, sorted by code)."""
    if not ONET_CODE.match(code):
        raise WaypointError(f"not an O*NET-SOC code: {code!r}")
    if esco_uri is not None and not esco_uri.startswith(ESCO_OCCUPATION_PREFIX):
        raise WaypointError(f"not an ESCO occupation URI: {esco_uri!r}")
    rows: dict[str, dict[str, str]] = {}
    if path.is_file():
        read_overrides(path)  # refuse to rewrite a malformed file
        rows = {row.required("onet_code"): {c: row[c] for c in OVERRIDE_COLUMNS}
                for row in read_rows(path, OVERRIDE_COLUMNS)}
    rows[code] = {"onet_code": code, "esco_uri": esco_uri or NO_MATCH, "note": note}
    _write_atomically(path, OVERRIDE_COLUMNS, [rows[c] for c in sorted(rows)])


def write_mapping(path: Path, matches: Mapping[str, OccupationMatch],
                  onet_titles: Mapping[str, str], esco_labels: Mapping[str, str]) -> None:
    """The reviewable mapping, one row per O*NET code."""
    rows = [{"onet_code": code, "onet_title": onet_titles.get(code, ""),
             "esco_uri": m.esco_uri or "", "esco_label": esco_labels.get(m.esco_uri or "", ""),
             "score": f"{m.score:.4f}", "title_score": f"{m.title_score:.4f}",
             "content_score": f"{m.content_score:.4f}", "method": m.method.value}
            for code, m in sorted(matches.items())]
    _write_atomically(path, MAPPING_COLUMNS, rows)


def read_mapping(path: Path) -> dict[str, str | None]:
    """O*NET code -> ESCO occupation URI (``None``: no match) from a published mapping."""
    out: dict[str, str | None] = {}
    for row in read_rows(path, MAPPING_COLUMNS):
        uri = row["esco_uri"].strip()
        out[row.required("onet_code")] = uri or None
    return out
