"""Malformed and truncated source files are reported with file, line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from features.domain import OnetRatingKind
from features.errors import MissingSourceError, SourceFormatError
from features.sources import read_rows
from features.taxonomy import read_esco_skills, read_job_zones, read_onet_ratings
from tests.support.reference_factory import write_reference_dataset


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_quoted_multiline_fields_keep_the_start_line(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", 'id,labels\n1,"x\ny\nz"\n2,w\n')
    rows = list(read_rows(path, ["id", "labels"]))
    assert [(r.line, r["id"]) for r in rows] == [(2, "1"), (5, "2")]
    assert rows[0].lines_list("labels") == ("x", "y", "z")


def test_truncated_quoted_record_names_its_start_line(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", 'id,labels\n1,ok\n2,"never closed\nstill open')
    with pytest.raises(SourceFormatError) as err:
        list(read_rows(path, ["id", "labels"]))
    assert err.value.path == path
    assert err.value.line == 3
    assert str(path) in str(err.value) and ":3:" in str(err.value)


def test_short_tab_row_reports_first_missing_column(tmp_path: Path) -> None:
    path = write(tmp_path, "z.txt", "O*NET-SOC Code\tTitle\tJob Zone\n11-1011.00\tChief\t5\n"
                                   "11-1011.03\tChief Sust")
    with pytest.raises(SourceFormatError) as err:
        read_job_zones(path)
    assert (err.value.line, err.value.column) == (3, 3)
    assert "expected 3 fields, found 2" in err.value.message


def test_bad_number_names_the_column(tmp_path: Path) -> None:
    path = write(tmp_path, "z.txt", "O*NET-SOC Code\tTitle\tJob Zone\n11-1011.00\tChief\tfive\n")
    with pytest.raises(SourceFormatError) as err:
        read_job_zones(path)
    assert (err.value.line, err.value.column) == (2, 3)
    assert "'five'" in err.value.message


def test_out_of_range_job_zone_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "z.txt", "O*NET-SOC Code\tTitle\tJob Zone\n11-1011.00\tChief\t9\n")
    with pytest.raises(SourceFormatError, match="1-5"):
        read_job_zones(path)


def test_missing_column_is_reported_on_the_header(tmp_path: Path) -> None:
    path = write(tmp_path, "skills_en.csv", "conceptUri,preferredLabel\nhttp://x,y\n")
    with pytest.raises(SourceFormatError) as err:
        list(read_esco_skills(path))
    assert err.value.line == 1 and "missing column" in err.value.message


def test_invalid_utf8_reports_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", b"id,label\n1,ok\n2,caf\xe9\n")
    with pytest.raises(SourceFormatError) as err:
        list(read_rows(path, ["id", "label"]))
    assert (err.value.line, err.value.column) == (3, 6)


def test_empty_file_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourceFormatError, match="empty"):
        list(read_rows(write(tmp_path, "e.csv", ""), ["id"]))
    with pytest.raises(MissingSourceError):
        list(read_rows(tmp_path / "absent.csv", ["id"]))


def test_unknown_scale_in_ratings(tmp_path: Path) -> None:
    root = write_reference_dataset(tmp_path / "ref")
    path = root / "onet" / "Skills.txt"
    path.write_text(path.read_text().replace("\tIM\t", "\tXX\t"))
    with pytest.raises(SourceFormatError) as err:
        list(read_onet_ratings(path, OnetRatingKind.SKILL))
    assert err.value.line == 2 and err.value.column == 5


def test_ratings_pair_importance_and_level(tmp_path: Path) -> None:
    root = write_reference_dataset(tmp_path / "ref")
    ratings = list(read_onet_ratings(root / "onet" / "Skills.txt", OnetRatingKind.SKILL))
    assert len(ratings) == 1
    assert (ratings[0].importance, ratings[0].level) == (4.25, 5.12)
