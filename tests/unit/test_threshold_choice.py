"""The served threshold of the skills engine: lowest within one standard error of the best F1."""

from __future__ import annotations

import numpy as np

from training.skills.evaluate import choose_threshold


def _sentences(rows: list[tuple[list[float], list[int]]]) -> tuple[np.ndarray, np.ndarray]:
    return np.array([p for p, _ in rows]), np.array([y for _, y in rows])


def test_a_sharp_optimum_is_kept() -> None:
    # Gold candidates score 0.8, wrong ones 0.3 or below: only thresholds above 0.3 separate.
    rng = np.random.default_rng(1)
    rows = []
    for _ in range(200):
        row = [0.8, *rng.uniform(0.05, 0.3, 4).tolist()]
        rows.append((row, [1, 0, 0, 0, 0]))
    probs, labels = _sentences(rows)
    choice = choose_threshold(probs, labels)
    assert choice.best_f1 == 1.0
    assert 0.275 < choice.threshold <= 0.8
    assert choice.f1 == 1.0


def test_a_flat_plateau_gives_the_lowest_threshold_within_noise() -> None:
    # Half the sentences have their gold skill alone at 0.9; the other half have it at 0.2
    # beside two or three wrong candidates at 0.2. Above 0.2: precision 1, recall 0.5 (F1 0.667);
    # at 0.15 everything gold is found but half of what is kept is wrong (F1 0.645): within
    # noise of the best, so the lower threshold is served.
    rows = []
    for i in range(60):
        if i % 2:
            rows.append(([0.9, 0.04, 0.04, 0.04], [1, 0, 0, 0]))
        else:
            third = 0.2 if i % 10 == 0 else 0.04
            rows.append(([0.2, 0.2, 0.2, third], [1, 0, 0, 0]))
    probs, labels = _sentences(rows)
    choice = choose_threshold(probs, labels)
    assert choice.best_threshold > 0.2
    assert choice.standard_error > 0
    assert choice.threshold <= 0.2 < choice.best_threshold
    assert choice.f1 >= choice.best_f1 - choice.standard_error
