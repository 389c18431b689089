"""The profiles stage over two local processes (`training.batch.InProcesses`, the default of
`waypoint skills profiles` on a 2-core machine) writes what it writes in this process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from inference.skills.engine import SkillEngine
from tests.integration.test_batch_on_ray import profiles_with, unpacked
from tests.support.organization_factory import SMALL_COMPANY, TODAY, reference_store
from training.batch import IN_PROCESS, BatchRunner, InProcesses, runner_for
from training.organization.importer import import_organization

pytestmark = pytest.mark.model


def test_profiles_over_two_processes_match_in_process(
        tmp_path: Path, sqlite_url: str, small_skill_engine: SkillEngine) -> None:
    store, index = reference_store(sqlite_url, tmp_path)
    try:
        import_organization(SMALL_COMPANY, store, title_index=index, today=TODAY)
        local = profiles_with(IN_PROCESS, store, small_skill_engine, tmp_path)
        spawned = profiles_with(InProcesses(workers=2), store, small_skill_engine, tmp_path)
        assert unpacked(local) == unpacked(spawned)
    finally:
        store.dispose()


def test_the_runner_is_processes_only_when_asked_and_ray_is_not() -> None:
    assert runner_for(processes=1) is IN_PROCESS
    assert runner_for(processes=2) == InProcesses(workers=2)


def test_work_that_does_not_pickle_runs_in_this_process() -> None:
    # e.g. an engine loader a caller wrote as a lambda: the same results, one process
    offset = 10
    out = InProcesses(workers=2).map(lambda state, part: state + part + offset, [1, 2, 3],
                                     setup=lambda: 100)
    assert out == [111, 112, 113]


def _square(state: int, part: int) -> int:
    return state + part * part


def _zero() -> int:
    return 0


@pytest.mark.parametrize("runner", [IN_PROCESS, InProcesses(workers=2)],
                         ids=["in-process", "processes"])
def test_a_stream_reads_its_parts_lazily_and_answers_in_order(runner: BatchRunner) -> None:
    pulled: list[int] = []

    def parts() -> Iterator[int]:
        for part in range(40):
            pulled.append(part)
            yield part

    stream = runner.stream(_square, parts(), setup=_zero, window=4)
    first = next(stream)
    assert first == 0 and len(pulled) <= 5  # a window of parts ahead, not all forty
    assert [first, *stream] == [p * p for p in range(40)]
