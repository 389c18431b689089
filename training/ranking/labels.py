"""What the ranker learns from: applicant slates graded by whether the move happened and worked.

The ranking dataset (``training.ranking.dataset``) keeps every row a decision had: the people
who applied or moved, plus the people retrieval would have shown and a few random employees
(grade 0). Retrieval draws those extra rows *by skill similarity*, so a model that must put them
below the applicants learns that a strong skill match is what a non-applicant looks like
(docs/ranking.md, "Negatives"). The shipped objective therefore trains on **applicant slates**:
per decision, only the people who were considered, graded by the outcome the history records:

=====  ==================================================================================
grade  meaning
=====  ==================================================================================
3      chosen, still in the role a year later and rated 4-5 (``Move.thrived``)
2      chosen, retained with an average rating (3), or the outcome is not known yet (the
       move is under a year old, or the opportunity was a project / gig / rotation)
1      chosen, but the move did not work out (left within a year, or rated 1-2)
0      considered (applied or put forward) and not chosen
=====  ==================================================================================

A failed move stays above the people who were not chosen: it says the slate was weak, not that
someone else would have done better (their outcome is never observed, and in the simulated
history the chosen one is usually still the best fit of a weak slate). Grading it below them
was tried and taught a small history to rank the best fit of a weak slate last
(docs/ranking.md).

Retrieved and random non-applicants get no label at all (their rows are dropped), so nothing
in the training signal says "fits better, therefore less likely". A decision with fewer than two
considered people carries no ordering and is dropped too.

``labels="legacy"`` reproduces the applied-vs-retrieved objective (every row, grades 3/2/1/0
as the dataset stores them) for comparisons and tests; it is never the shipped setting.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import numpy as np

from training.ranking.dataset import APPLIED, MOVED, RankingDataset, outcome_key

LABELS = ("success", "legacy")
SUCCESS_GAIN = (0, 1, 3, 7)
"""LightGBM ``label_gain`` for grades 0-3 (``2^grade - 1``, the NDCG gain of the metrics)."""
NOT_CHOSEN, FAILED, MOVED_OK, THRIVED = 0, 1, 2, 3
MIN_SLATE = 2
OUTCOME_DAYS = 365
"""A move's outcome (rating, retention) is known this many days after the decision."""


def success_grade(dataset_grade: int, rating: int | None, retained: bool | None) -> int:
    """The success grade of one considered person (``dataset_grade >= APPLIED``)."""
    if dataset_grade < MOVED:
        return NOT_CHOSEN
    if retained is False or (rating is not None and rating <= 2):
        return FAILED
    if retained and rating is not None and rating >= 4:
        return THRIVED
    return MOVED_OK


def outcome_known(rating: int | None, retained: bool | None) -> bool:
    return rating is not None and retained is not None


def success_labels(data: RankingDataset) -> np.ndarray:
    """The success grade of every row of ``data`` (0 for rows that were not considered: they
    are never training rows under this objective)."""
    qids = data.row_query_ids()
    out = np.zeros(len(data.labels), dtype=np.int32)
    for i, (q, e, g) in enumerate(zip(qids, data.employee_ids, data.labels.tolist(),
                                      strict=True)):
        if g >= APPLIED:
            rating, retained = data.outcomes.get(outcome_key(q, e), (None, None))
            out[i] = success_grade(int(g), rating, retained)
    return out


def applicant_mask(data: RankingDataset, min_slate: int = MIN_SLATE) -> np.ndarray:
    """Rows of people who were considered (grade >= applied), in decisions with at least
    ``min_slate`` of them."""
    considered = data.labels >= APPLIED
    counts = _per_query(data, considered)
    return considered & np.repeat(counts >= min_slate, data.group_sizes)


def applicant_slates(data: RankingDataset, min_slate: int = MIN_SLATE) -> RankingDataset:
    """``data`` reduced to its applicant slates, labelled with success grades."""
    keep = applicant_mask(data, min_slate)
    grades = success_labels(data)
    sizes = _per_query(data, keep)
    qkeep = sizes > 0
    return dataclasses.replace(
        data, features=data.features[keep], labels=grades[keep],
        group_sizes=sizes[qkeep].astype(np.int32),
        query_ids=[q for q, k in zip(data.query_ids, qkeep, strict=True) if k],
        query_dates=[d for d, k in zip(data.query_dates, qkeep, strict=True) if k],
        employee_ids=[e for e, k in zip(data.employee_ids, keep, strict=True) if k])


def outcomes_known_by(data: RankingDataset, day: date) -> RankingDataset:
    """``data`` with only the outcomes that were known on ``day``: a move's one-year outcome is
    recorded a year after the decision, so later ones are forgotten (grade 2, outcome unknown).
    Used when a backtest trains as of an earlier date."""
    horizon = day - timedelta(days=OUTCOME_DAYS)
    dates = dict(zip(data.query_ids, data.query_dates, strict=True))
    keep = {k: v for k, v in data.outcomes.items()
            if (d := dates.get(k.split("\t", 1)[0])) is not None and d <= horizon}
    return dataclasses.replace(data, outcomes=keep)


def training_view(data: RankingDataset, labels: str) -> RankingDataset:
    """The rows and labels a ranker trains on under objective ``labels`` (`LABELS`)."""
    if labels == "success":
        return applicant_slates(data)
    if labels == "legacy":
        return data
    raise ValueError(f"ranker.labels must be one of {LABELS}, not {labels!r}")


def _per_query(data: RankingDataset, rows: np.ndarray) -> np.ndarray:
    """Per query: how many of its rows ``rows`` (a boolean row mask) keeps."""
    n = len(data.group_sizes)
    query_of_row = np.repeat(np.arange(n), data.group_sizes)
    return np.bincount(query_of_row, weights=rows.astype(np.float64),
                       minlength=n).astype(np.int64)
