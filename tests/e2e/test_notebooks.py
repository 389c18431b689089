"""The notebooks run top to bottom on a small organization they build themselves.

Each is executed with nbclient (a fresh kernel, cwd = notebooks/) and must finish without an
error, with its key outputs present (a cell that hangs fails after ``CELL_TIMEOUT_S``; how
long a notebook takes is not a test: the machine is shared). They need the reference data in
``../shared/data``: skipped when it is absent and ``CI`` is unset, a failure in CI.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from features.settings import REPO_ROOT

NOTEBOOKS = REPO_ROOT / "notebooks"
CELL_TIMEOUT_S = 900

EXPECTED = {
    "ranker_evaluation.ipynb": ["train ", "valid ", "test ", "ndcg@10", "embedding_cosine",
                                "skill_coverage", "ranker vs best baseline", "query opp:"],
    "fairness_audit.ipynb": ["female", "selection IR",
                             "biased ranker: FAIL", "NDCG@10, served order",
                             "min selection impact ratio, sex", "gate"],
}


def _text(nb: nbformat.NotebookNode) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append(out.get("text", ""))
            elif "data" in out:
                parts.append(str(out["data"].get("text/plain", "")))
    return "\n".join(parts)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_notebook_executes(name: str, shared_data_dir: Path) -> None:
    path = NOTEBOOKS / name
    nb = nbformat.read(path, as_version=4)
    assert any(cell.get("outputs") for cell in nb.cells if cell.cell_type == "code"), \
        f"{name} is not saved executed"
    NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    errors = [out for cell in nb.cells for out in cell.get("outputs", [])
              if out.get("output_type") == "error"]
    assert not errors, errors
    text = _text(nb)
    for needle in EXPECTED[name]:
        assert needle in text, f"{name}: {needle!r} missing from the outputs"
