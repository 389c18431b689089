"""Ingest: idempotent, transactional, and correct on the real reference data."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from features import tables as t
from features.errors import MissingSourceError, SourceFormatError
from features.store import Store
from features.taxonomy import ReferenceData, read_reference_data
from tests.support.reference_factory import ESCO_SKILLS, write_reference_dataset
from training.ingest import data_version, ingest_reference_data

pytestmark = pytest.mark.store


def snapshot(store: Store) -> dict[str, list[tuple[object, ...]]]:
    with store.engine.connect() as conn:
        return {
            table.name: sorted(
                tuple(str(v) for v in row)
                for row in conn.execute(select(*[c for c in table.columns if c.name != "id"]))
            )
            for table in t.REFERENCE_TABLES
        }


def test_ingest_loads_every_table(tmp_path: Path, store_url: str) -> None:
    root = write_reference_dataset(tmp_path / "ref")
    store = Store(store_url)
    result = ingest_reference_data(root, store)
    assert result.changed
    assert result.counts == {
        "skills": 3, "esco_occupations": 1, "occupation_skills": 2, "skill_broader": 1,
        "skill_groups": 1, "onet_occupations": 2, "onet_tasks": 2, "onet_technology": 1,
        "onet_ratings": 2, "onet_alt_titles": 1, "career_changers": 1,
    }
    counts = store.counts()
    assert (counts.skills, counts.occupations, counts.onet_occupations) == (3, 1, 2)
    with store.engine.connect() as conn:
        alt = conn.execute(select(t.skills.c.alt_labels).where(t.skills.c.uri == ESCO_SKILLS[2][1]))
        assert alt.scalar_one() == ["liaise with stakeholders", "brief stakeholders"]
    store.dispose()


def test_ingest_twice_changes_nothing(tmp_path: Path, store_url: str) -> None:
    root = write_reference_dataset(tmp_path / "ref")
    store = Store(store_url)
    first = ingest_reference_data(root, store)
    before = snapshot(store)
    second = ingest_reference_data(root, store)
    assert not second.changed and second.version == first.version
    assert snapshot(store) == before
    forced = ingest_reference_data(root, store, force=True)
    assert forced.changed and snapshot(store) == before
    store.dispose()


def test_malformed_file_leaves_previous_data_intact(tmp_path: Path, store_url: str) -> None:
    root = write_reference_dataset(tmp_path / "ref")
    store = Store(store_url)
    ingest_reference_data(root, store)
    before = snapshot(store)
    tasks = root / "onet" / "Task Statements.txt"
    tasks.write_text(tasks.read_text() + "15-1252.00\tSoftware Developers\tnot-a-number\t"
                     "Write code.\tCore\t\t08/2023\tIncumbent\n")
    with pytest.raises(SourceFormatError) as err:
        ingest_reference_data(root, store)
    assert err.value.path == tasks and err.value.line == 4 and err.value.column == 3
    assert snapshot(store) == before
    store.dispose()


class ExplodingList(list):  # type: ignore[type-arg]
    """A source that fails half-way through being written, like a crash mid-ingest."""

    def __iter__(self):  # type: ignore[no-untyped-def]
        yield from list.__iter__(self)
        raise RuntimeError("disk full")


def test_failure_mid_write_rolls_back(tmp_path: Path, store_url: str) -> None:
    root = write_reference_dataset(tmp_path / "ref")
    store = Store(store_url)
    ingest_reference_data(root, store)
    before = snapshot(store)
    version = store.dataset_version("reference")
    data = read_reference_data(root)
    broken = ReferenceData(**{**vars(data), "career_changers": ExplodingList(data.career_changers)})
    with pytest.raises(RuntimeError, match="disk full"):
        store.replace_reference_data(broken, "new-version")
    assert snapshot(store) == before
    assert store.dataset_version("reference") == version
    store.dispose()


def test_missing_file_is_named(tmp_path: Path, sqlite_url: str) -> None:
    root = write_reference_dataset(tmp_path / "ref")
    (root / "onet" / "Skills.txt").unlink()
    with pytest.raises(MissingSourceError, match=r"Skills\.txt"):
        data_version(root)


@pytest.mark.data
def test_real_reference_data(shared_data_dir: Path, reference_data: ReferenceData,
                             store_url: str) -> None:
    assert len(reference_data.skills) == 13_896
    assert len(reference_data.occupations) == 3_007
    assert len(reference_data.occupation_skills) == 123_855
    assert len(reference_data.onet_occupations) == 1_016
    assert len(reference_data.onet_tasks) == 18_796
    assert len(reference_data.onet_technology) == 32_681
    assert len({task.code for task in reference_data.onet_tasks}) == 923
    assert all(skill.uri.startswith("http://data.europa.eu/esco/skill/")
               for skill in reference_data.skills)
    store = Store(store_url)
    store.create_schema()
    counts = store.replace_reference_data(reference_data, data_version(shared_data_dir))
    assert counts["skills"] == 13_896 and counts["occupation_skills"] == 123_855
    assert store.counts().onet_occupations == 1_016
    store.dispose()
