"""Wording helpers of the simulated organization's postings (training.simulation.text)."""

from __future__ import annotations

import pytest

from training.simulation.text import with_article


@pytest.mark.parametrize(("noun", "expected"), [
    ("Interior Designer", "an Interior Designer"),
    ("IT Manager", "an IT Manager"),
    ("HR Specialist", "an HR Specialist"),
    ("Director", "a Director"),
    ("Accountant", "an Accountant"),
    ("User Researcher", "a User Researcher"),
    ("University Lecturer", "a University Lecturer"),
    ("Urban Planner", "an Urban Planner"),
    ("Hearing Aid Specialist", "a Hearing Aid Specialist"),
])
def test_the_indefinite_article_follows_the_sound(noun: str, expected: str) -> None:
    assert with_article(noun) == expected
