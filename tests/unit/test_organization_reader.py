"""The organization reader streams: a file is read a buffer at a time and its rows validated as
they come (never all held), in chunks of any size with the same rows; the checks report in the
order of a check of the whole folder; the folder's version is the hash of its files."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from features.organization.checks import KnownIds
from features.organization.files import BY_NAME, FILES
from features.organization.problems import InvalidOrganization, Problems
from features.organization.reader import READ_BYTES, FileRows, chunked, scan_file
from features.organization.validate import folder_version, validate_folder
from tests.support.organization_factory import SMALL_COMPANY, TODAY, copy_company, line_of

EVENTS = BY_NAME["events.csv"]


def write_events(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write("id,kind,employee_id,occurred_at,opportunity_id,detail\n")
        for i in range(n):
            handle.write(f"EV{i:07d},click,E{i % 97:03d},2026-01-01T09:00:00+00:00,O-1,"
                         f"clicked the opening number {i} from the list of openings\n")


def test_a_large_file_is_read_a_buffer_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    write_events(path, 40_000)
    size = path.stat().st_size
    assert size > 3 * READ_BYTES
    rows = FileRows(path, EVENTS, Problems())
    stream = iter(rows)
    first = next(stream)
    assert first.line == 2 and first.record.id == "EV0000000"  # type: ignore[attr-defined]
    assert rows.bytes_read <= READ_BYTES < size  # the first row needed only the first buffer
    rest = sum(1 for _ in stream)
    assert rest == 39_999 and rows.bytes_read == size
    assert rows.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_chunks_of_any_size_give_the_same_rows(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    write_events(path, 1_000)
    whole = [(r.line, r.record) for r in FileRows(path, EVENTS, Problems())]
    for size in (1, 7, 1_000, 5_000):
        chunks = list(chunked(FileRows(path, EVENTS, Problems()), size))
        assert all(len(c) <= size for c in chunks)
        assert [(r.line, r.record) for c in chunks for r in c] == whole
    for spec in FILES:
        if (SMALL_COMPANY / spec.name).is_file():
            rows = list(FileRows(SMALL_COMPANY / spec.name, spec, Problems()))
            again = [r for c in chunked(FileRows(SMALL_COMPANY / spec.name, spec, Problems()), 2)
                     for r in c]
            assert rows and again == rows


def test_the_folder_version_hashes_names_and_bytes() -> None:
    digest = hashlib.sha256()
    for spec in FILES:
        path = SMALL_COMPANY / spec.name
        if path.is_file():
            digest.update(spec.name.encode())
            digest.update(path.read_bytes())
    assert folder_version(SMALL_COMPANY) == digest.hexdigest()[:16]
    assert validate_folder(SMALL_COMPANY, KnownIds(), TODAY).version == digest.hexdigest()[:16]


def test_a_bad_byte_after_a_byte_order_mark_is_placed_on_its_line(tmp_path: Path) -> None:
    path = tmp_path / "employees.csv"
    path.write_bytes(b"\xef\xbb\xbfid,name\nE1,In\xeas\n")
    assert scan_file(path).bad_byte == (2, 6, 0xEA)
    path.write_bytes(b"id,name\nE1,Ana\nE2,\xc3")  # a sequence cut at the end of the file
    assert scan_file(path).bad_byte == (3, 4, 0xC3)
    path.write_bytes(b"\xef\xbb\xbfid,name\nE1,In\xc3\xaas\n")
    assert scan_file(path).bad_byte is None


def test_a_review_text_with_a_line_separator_is_one_line(tmp_path: Path) -> None:
    """JSON lines end at a line feed only: U+2028 or U+0085 inside a text (which the export
    writes as they are) do not split the line."""
    path = tmp_path / "reviews.jsonl"
    texts = ["first part\u2028second part", "next\x85line", "plain"]
    path.write_text("".join(json.dumps({"id": f"R{i}", "employee_id": "E1",
                                        "reviewed_on": "2025-01-01", "text": text},
                                       ensure_ascii=False) + "\n"
                            for i, text in enumerate(texts)), encoding="utf-8")
    problems = Problems()
    rows = list(FileRows(path, BY_NAME["reviews.jsonl"], problems))
    assert not problems, problems.lines()
    assert [(r.line, r.record.text) for r in rows] == list(  # type: ignore[attr-defined]
        enumerate(texts, start=1))


def test_problems_come_in_the_order_of_a_whole_folder_check(tmp_path: Path) -> None:
    folder = copy_company(tmp_path / "org")
    employees = folder / "employees.csv"
    with employees.open("a", encoding="utf-8") as handle:
        handle.write("E20,Later Manager,R-DEV,2,2024-01-01,2023-01-01,D-ENG,porto,E21,,"
                     "true,false,false,\n")
        handle.write("E21,Unknown Manager,R-DEV,2,2024-01-01,2024-01-01,D-NOPE,mars,E99,,"
                     "true,false,false,\n")
        handle.write("E03,Again,R-DEV,2,2024-01-01,2024-01-01,D-ENG,porto,,,true,false,false,\n")
        handle.write("E22,Bad,R-DEV,2,2024-01-01,2024-01-01,D-ENG,porto,,,maybe,false,false,\n")
    with (folder / "moves.csv").open("a", encoding="utf-8") as handle:
        handle.write("M-09,E21,R-DEV,R-NOPE,,2027-01-01,false,,\n")
    with (folder / "course_completions.csv").open("a", encoding="utf-8") as handle:
        handle.write("REV-01,E04,C-PY,2026-01-01,\n")
    line = {e: line_of(employees, f"{e},") for e in ("E20", "E21", "E22")}
    again = line_of(employees, "E03,Again")
    first_e03 = line_of(employees, "E03,")
    moves = line_of(folder / "moves.csv", "M-09,")
    done = line_of(folder / "course_completions.csv", "REV-01,")
    with pytest.raises(InvalidOrganization) as caught:
        validate_folder(folder, KnownIds(), TODAY)
    found = [str(p) for p in caught.value.problems.found]
    assert found == [
        f"employees.csv:{line['E22']}:11: discoverable: Input should be a valid boolean, "
        "unable to interpret input (got 'maybe')",
        f"employees.csv:{again}:1: id: duplicate id 'E03' (first on line {first_e03})",
        f"course_completions.csv:{done}:1: id: id 'REV-01' is also used in reviews.jsonl "
        "(the evidence files share one id space)",
        f"employees.csv:{line['E21']}:7: department_id: unknown id 'D-NOPE' (not in "
        "departments.csv nor in the store)",
        f"employees.csv:{line['E21']}:9: manager_id: unknown id 'E99' (not in employees.csv "
        "nor in the store)",
        f"employees.csv:{line['E21']}:8: location: unknown id 'mars' (not in locations.csv "
        "nor in the store)",
        f"moves.csv:{moves}:4: to_role_id: unknown id 'R-NOPE' (not in roles.csv nor in the "
        "store)",
        f"employees.csv:{line['E20']}:6: role_since: 2023-01-01 is before hired_on 2024-01-01",
        f"moves.csv:{moves}:6: moved_on: 2027-01-01 is in the future (today is {TODAY})",
    ]
    with pytest.raises(InvalidOrganization) as limited:
        validate_folder(folder, KnownIds(), TODAY, limit=4)
    assert [str(p) for p in limited.value.problems.found] == found[:4]
    assert limited.value.problems.total == len(found)


def test_repeated_ids_are_exact_whatever_the_hashes(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Files not referenced by others keep 64-bit hashes of their ids: equal hashes send the
    file to be read again, so only ids that really repeat are reported, even when every id
    has the same hash."""
    import features.organization.duplicates as duplicates

    folder = copy_company(tmp_path / "org")
    with (folder / "events.csv").open("a", encoding="utf-8") as handle:
        handle.write("EV-02,click,E04,2026-01-01T09:00:00+00:00,,,,\n")
        handle.write("EV-77,click,E04,2026-01-01T09:00:00+00:00,,,,\n")
    with (folder / "endorsements.csv").open("a", encoding="utf-8") as handle:
        handle.write("CC-02,E04,http://data.europa.eu/esco/skill/"
                     "2b0fa1ff-2d7b-4b7a-9b8e-f4e4b6f8d4d7,2026-01-01,,\n")
    expected = [
        f"endorsements.csv:{line_of(folder / 'endorsements.csv', 'CC-02,')}:1: id: id 'CC-02' "
        "is also used in course_completions.csv (the evidence files share one id space)",
        f"events.csv:{len((folder / 'events.csv').read_text().splitlines()) - 1}:1: id: "
        f"duplicate id 'EV-02' (first on line {line_of(folder / 'events.csv', 'EV-02,')})",
    ]
    for fake in (None, lambda key: 7, lambda key: len(key)):
        if fake is not None:
            monkeypatch.setattr(duplicates, "hash", fake, raising=False)
        with pytest.raises(InvalidOrganization) as caught:
            validate_folder(folder, KnownIds(), TODAY)
        assert [str(p) for p in caught.value.problems.found] == expected
