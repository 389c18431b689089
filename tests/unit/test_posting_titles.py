"""Titles of simulated projects and gigs read as tasks, not as a lone verb."""

from __future__ import annotations

import pytest

from training.simulation.postings import _short_task


@pytest.mark.parametrize(("task", "title"), [
    ("Write, analyze, review, and rewrite programs, using workflow chart and diagram.",
     "write, analyze, review, and rewrite programs"),
    ("Initiate, facilitate, and moderate classroom discussions.",
     "initiate, facilitate, and moderate classroom discussions"),
    ("Set up, operate, and tend equipment that cooks, mixes, blends, or processes ingredients.",
     "set up, operate, and tend equipment that cooks"),
    ("Prepare reports on sales to ensure quotas are met.", "prepare reports on sales"),
    ("Listen to and resolve customers' complaints regarding products or services.",
     "listen to and resolve customers' complaints regarding products…"),
    ("Write to field representatives, medical personnel, or others.",
     "write to field representatives"),
    ("Prepare for prosecutions related to animal treatment violations.",
     "prepare for prosecutions related to animal treatment violations"),
    ("Adjust machine speeds according to specifications, to ensure quality.",
     "adjust machine speeds according to specifications"),
    ("Inspect equipment prior to use to detect faults.", "inspect equipment prior to use"),
])
def test_task_titles(task: str, title: str) -> None:
    assert _short_task(task) == title


def test_a_long_title_is_cut_at_a_word_without_a_dangling_comma() -> None:
    assert _short_task("Write, analyze, review, and rewrite programs.", 3) == (
        "write, analyze, review…")
