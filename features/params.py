"""Read one section of ``params.yaml`` (pipeline hyper-parameters), with code defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from features.errors import WaypointError
from features.settings import REPO_ROOT

DEFAULT_PARAMS = REPO_ROOT / "params.yaml"


def load_section(name: str, path: Path | None = None,
                 defaults: dict[str, Any] | None = None) -> dict[str, Any]:
    """``defaults`` overlaid by ``params.yaml``'s ``name`` section (absent file: defaults)."""
    path = path or DEFAULT_PARAMS
    merged = dict(defaults or {})
    if not path.is_file():
        return merged
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise WaypointError(f"{where}: invalid YAML: {exc}") from None
    section = document.get(name) or {}
    if not isinstance(section, dict):
        raise WaypointError(f"{path}: section {name!r} must be a mapping")
    merged.update(section)
    return merged
