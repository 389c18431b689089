"""``waypoint skills infer``: JSON lines in, skills out, clear errors naming the line."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from inference.skills.engine import SkillEngine
from waypoint.cli import main

pytestmark = pytest.mark.model


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
            small_skill_engine: SkillEngine) -> Any:
    import inference.skills.artifacts as artifacts

    monkeypatch.setattr(artifacts, "load_engine", lambda settings, variant=None:
                        small_skill_engine)

    def run(stdin: str, *args: str) -> tuple[int, list[dict[str, Any]], str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(["skills", "infer", *args])
        out, err = capsys.readouterr()
        return code, [json.loads(line) for line in out.splitlines() if line.strip()], err

    return run


def test_infer_writes_one_line_per_input_best_first(run_cli: Any) -> None:
    stdin = "\n".join(json.dumps(r) for r in [
        {"id": 1, "text": "Writes SQL and Python."}, {"id": "b", "text": ""},
        {"id": 3, "text": "Needs to improve stakeholder communication."}]) + "\n"
    code, rows, _ = run_cli(stdin, "--source", "performance_review")
    assert code == 0
    assert [r["id"] for r in rows] == [1, "b", 3]
    assert {s["label"] for s in rows[0]["skills"]} >= {"SQL", "Python (computer programming)"}
    assert rows[1]["skills"] == []
    assert rows[2]["skills"][0]["polarity"] == "development_need"
    for row in rows:
        scores = [s["score"] for s in row["skills"]]
        assert scores == sorted(scores, reverse=True)
        assert all({"uri", "label", "score", "spans"} <= set(s) for s in row["skills"])


def test_top_k_returns_k_without_threshold(run_cli: Any) -> None:
    code, rows, _ = run_cli('{"id": 1, "text": "cooking"}\n', "--source", "job_description",
                            "--top-k", "5")
    assert code == 0 and len(rows[0]["skills"]) == 5


@pytest.mark.parametrize(("line", "message"), [
    ("{not json", "line 2: not valid JSON"),
    ('{"id": 1}', 'line 2: expected an object with "id" and "text"'),
    ('{"id": 1, "text": 5}', 'line 2: "text" must be a string'),
    ("[1, 2]", "line 2: expected an object"),
])
def test_bad_line_is_a_clear_error(run_cli: Any, line: str, message: str) -> None:
    code, rows, err = run_cli('{"id": 0, "text": "SQL"}\n' + line + "\n",
                              "--source", "job_description")
    assert code == 2
    assert message in err
    assert rows == []  # nothing is written before the input is known to be valid


def test_help_lists_every_variant_including_profiles(
        capsys: pytest.CaptureFixture[str]) -> None:
    from inference.skills.artifacts import VARIANT_CHOICES

    with pytest.raises(SystemExit) as exit_info:
        main(["skills", "infer", "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for name in VARIANT_CHOICES:
        assert name in text
    assert "the one engine the profiles stage, the API and this command use" in text
