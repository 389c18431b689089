"""The organization format's reader and checks: every malformed file is reported with its
file, line and column, and the committed documentation matches the models."""

from __future__ import annotations

from pathlib import Path

from features.organization.checks import KnownIds
from features.organization.docs import stale_docs
from features.organization.files import BY_NAME
from features.organization.problems import InvalidOrganization, Problem, Problems
from features.organization.reader import FileRows
from features.organization.records import EmployeeRecord
from features.organization.validate import validate_folder
from features.settings import REPO_ROOT
from tests.support.organization_factory import (
    SMALL_COMPANY,
    TODAY,
    copy_company,
    line_of,
    replace_line,
)

EMPLOYEE_COLUMNS = list(EmployeeRecord.model_fields)


def problems_of(folder: Path, limit: int = 100) -> Problems:
    try:
        validate_folder(folder, KnownIds(), TODAY, limit=limit)
    except InvalidOrganization as exc:
        return exc.problems
    return Problems(limit=limit)


def only(problems: Problems) -> Problem:
    assert problems.total == 1, problems.lines()
    return problems.found[0]


def col(name: str) -> int:
    return EMPLOYEE_COLUMNS.index(name) + 1


def test_the_small_company_is_valid() -> None:
    problems = problems_of(SMALL_COMPANY)
    assert not problems, problems.lines()


def test_unknown_manager_id(tmp_path: Path) -> None:
    folder = copy_company(tmp_path / "org")
    path = folder / "employees.csv"
    n = line_of(path, "E04,")
    replace_line(path, n, "E04,Rui Santos,R-DEV,2,2023-05-02,2023-05-02,D-ENG,porto,E99,,"
                 "true,true,false,")
    problem = only(problems_of(folder))
    assert (problem.file, problem.line, problem.column, problem.field) == \
        ("employees.csv", n, col("manager_id"), "manager_id")
    assert "'E99'" in problem.message
    assert str(problem).startswith(f"employees.csv:{n}:{col('manager_id')}: manager_id:")


def test_date_in_the_future(tmp_path: Path) -> None:
    folder = copy_company(tmp_path / "org")
    path = folder / "moves.csv"
    n = line_of(path, "M-02,")
    replace_line(path, n, "M-02,E05,R-DEV,R-ANL,,2027-06-01,true,5,true")
    problem = only(problems_of(folder))
    assert (problem.file, problem.line, problem.column, problem.field) == \
        ("moves.csv", n, 6, "moved_on")
    assert "future" in problem.message


def test_duplicate_id(tmp_path: Path) -> None:
    folder = copy_company(tmp_path / "org")
    path = folder / "employees.csv"
    first = line_of(path, "E03,")
    with path.open("a", encoding="utf-8") as handle:
        handle.write("E03,Another Ana,R-DEV,2,2024-09-09,2024-09-09,D-ENG,porto,E06,,"
                     "true,false,false,\n")
    n = len(path.read_text().splitlines())
    problem = only(problems_of(folder))
    assert (problem.file, problem.line, problem.column) == ("employees.csv", n, 1)
    assert f"first on line {first}" in problem.message


def test_bad_enum(tmp_path: Path) -> None:
    folder = copy_company(tmp_path / "org")
    path = folder / "opportunities.csv"
    n = line_of(path, "O-2026-03,")
    text = path.read_text().splitlines()[n - 1].replace(",mentorship,", ",apprenticeship,")
    replace_line(path, n, text)
    problem = only(problems_of(folder))
    assert (problem.file, problem.line, problem.column, problem.field) == \
        ("opportunities.csv", n, 2, "kind")
    assert "'mentorship'" in problem.message and "apprenticeship" in problem.message


def test_missing_required_column(tmp_path: Path) -> None:
    folder = copy_company(tmp_path / "org")
    path = folder / "employees.csv"
    lines = path.read_text().splitlines()
    drop = col("discoverable") - 1
    path.write_text("\n".join(",".join(c for i, c in enumerate(line.split(",")) if i != drop)
                              for line in lines[:2]) + "\n")
    problems = problems_of(folder)
    problem = next(p for p in problems.found if p.file == "employees.csv")
    assert (problem.line, problem.field, problem.message) == \
        (1, "discoverable", "missing required column")


def test_bad_utf8(tmp_path: Path) -> None:
    folder = copy_company(tmp_path / "org")
    path = folder / "employees.csv"
    n = line_of(path, "E05,")
    data = path.read_bytes().splitlines(keepends=True)
    data[n - 1] = data[n - 1].replace("Inês".encode(), "In\xeas".encode("latin-1"))
    path.write_bytes(b"".join(data))
    problem = only(problems_of(folder))
    assert (problem.file, problem.line, problem.column) == ("employees.csv", n, len("E05,In") + 1)
    assert "UTF-8" in problem.message


def test_bad_json_line_and_bad_value(tmp_path: Path) -> None:
    folder = copy_company(tmp_path / "org")
    path = folder / "reviews.jsonl"
    replace_line(path, 2, '{"id": "REV-02", "employee_id": "E04"')
    replace_line(path, 4, path.read_text().splitlines()[3].replace('"rating": 4', '"rating": 9'))
    problems = problems_of(folder)
    found = {(p.file, p.line, p.field) for p in problems.found}
    assert found == {("reviews.jsonl", 2, None), ("reviews.jsonl", 4, "rating")}


def test_unknown_column_and_required_value(tmp_path: Path) -> None:
    folder = copy_company(tmp_path / "org")
    path = folder / "departments.csv"
    path.write_text("id,name,cost_center\nD-ENG,Engineering,1\n")
    problem = only(problems_of(folder))
    assert (problem.file, problem.line, problem.column, problem.field) == \
        ("departments.csv", 1, 3, "cost_center")
    path.write_text("id,name\nD-ENG,Engineering\nD-FIN,\n")
    problem = only(problems_of(folder))
    assert (problem.file, problem.line, problem.column) == ("departments.csv", 3, 2)


def test_every_problem_is_reported_up_to_the_limit(tmp_path: Path) -> None:
    folder = copy_company(tmp_path / "org")
    path = folder / "employees.csv"
    rows = path.read_text().splitlines()
    path.write_text("\n".join([rows[0], *(r.replace(",D-ENG,", ",D-NOPE,") for r in rows[1:])])
                    + "\n")
    engineers = sum(",D-ENG," in r for r in rows[1:])
    assert problems_of(folder).total == engineers
    limited = problems_of(folder, limit=3)
    assert len(limited.found) == 3 and limited.total >= 3
    assert "more problems" in limited.lines()[-1]


def test_a_missing_required_file(tmp_path: Path) -> None:
    folder = copy_company(tmp_path / "org")
    (folder / "departments.csv").unlink()
    problems = problems_of(folder)
    assert any(p.file == "departments.csv" and p.line == 0 for p in problems.found)


def test_committed_data_format_docs_match_the_models() -> None:
    stale = stale_docs(REPO_ROOT / "docs")
    assert stale == [], f"run `waypoint data-format`: {stale}"


def test_the_time_commitment_column_is_optional_and_checked(tmp_path: Path) -> None:
    folder = copy_company(tmp_path / "org")
    path = folder / "opportunities.csv"
    lines = path.read_text().splitlines()
    hours = ["hours_per_week", "40", "", "61", "7.5", "lots"]
    path.write_text("\n".join(f"{line},{h}" for line, h in zip(lines, hours, strict=True))
                    + "\n")
    problems = problems_of(folder)
    assert sorted((p.file, p.line, p.column, p.field) for p in problems.found) == [
        ("opportunities.csv", 4, 15, "hours_per_week"),
        ("opportunities.csv", 6, 15, "hours_per_week")], problems.lines()
    without = copy_company(tmp_path / "without") / "opportunities.csv"
    rows = list(FileRows(without, BY_NAME["opportunities.csv"], Problems(limit=10)))
    assert rows and all(r.record.hours_per_week is None  # type: ignore[attr-defined]
                        for r in rows)
