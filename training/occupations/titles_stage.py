"""``waypoint titles build`` / ``evaluate``: tune, ship and measure the job-title matcher.

The job-titles validation set (vacancy titles tagged with ESCO occupations) is split in two by
a hash of the normalized title, so repeats of a title fall on one side: the **tune** half feeds
the index (its titles become labels of their occupations, and set the prior) and the weights;
the **report** half is only ever used to report. The weights are chosen on an inner split of
the tune half (two thirds as index, one third scored); the threshold is the highest lexical
score under which those inner titles' best match is right less than 5% of the time.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from features.errors import WaypointError
from features.settings import Settings
from features.sources import read_rows
from features.taxonomy import ESCO_FILES
from inference.titles import MatchSettings, Occupation, TitleMatcher, normalize_title
from training.occupations.reference import read_occupation_reference
from training.occupations.signals import esco_links

log = logging.getLogger(__name__)
TITLES_FILE = Path("job-titles") / "validation.csv"
CHAR_WEIGHTS = (0.3, 0.4, 0.5, 0.6, 0.7)
PRIOR_WEIGHTS = (0.0, 0.02, 0.04, 0.06)
VOTE_WEIGHTS = (0.0, 0.05, 0.1, 0.2)


@dataclass(frozen=True)
class Tagged:
    title: str
    uri: str


def read_tagged_titles(path: Path) -> list[Tagged]:
    if not path.is_file():
        raise WaypointError(f"{path} not found: the job-titles validation set")
    return [Tagged(row["vacancyTitle"].strip(), row.required("conceptUri"))
            for row in read_rows(path, ("vacancyTitle", "conceptUri"))]


def split_of(title: str, salt: str = "", parts: int = 2) -> int:
    """0 .. parts-1, from a CRC32 of the normalized title (stable across runs and machines)."""
    return zlib.crc32((salt + normalize_title(title)).encode()) % parts


def tune_report(rows: Sequence[Tagged]) -> tuple[list[Tagged], list[Tagged]]:
    tune = [r for r in rows if split_of(r.title) == 0]
    return tune, [r for r in rows if split_of(r.title) == 1]


def taxonomy(settings: Settings) -> tuple[list[Occupation], list[tuple[str, int]]]:
    """ESCO occupations (with the crosswalk's O*NET code) and every label (preferred,
    alternative, hidden) with its occupation's index."""
    ref = read_occupation_reference(settings.data_dir)
    best: dict[str, tuple[float, str]] = {}
    for code, matches in esco_links(ref).items():
        for uri, score in matches:
            if uri not in best or score > best[uri][0]:
                best[uri] = (score, code)
    rows = read_rows(settings.data_dir / ESCO_FILES["occupations"],
                     ("conceptUri", "preferredLabel", "altLabels", "hiddenLabels"))
    occupations: list[Occupation] = []
    labels: list[tuple[str, int]] = []
    for row in rows:
        uri = row.required("conceptUri")
        j = len(occupations)
        occupations.append(Occupation(uri, row.required("preferredLabel"),
                                      best[uri][1] if uri in best else None))
        for label in (row["preferredLabel"], *row.lines_list("altLabels"),
                      *row.lines_list("hiddenLabels")):
            if label.strip():
                labels.append((label, j))
    return occupations, labels


def _pairs(rows: Sequence[Tagged], index: dict[str, int]) -> list[tuple[str, int]]:
    return [(r.title, index[r.uri]) for r in rows if r.uri in index]


@dataclass
class TitleMetrics:
    titles: int
    mrr: float
    recall_at_1: float
    recall_at_5: float
    recall_at_10: float
    titles_per_second: float | None = None


def rank_metrics(ranking: np.ndarray, gold: np.ndarray) -> TitleMetrics:
    """MRR and recall@k from a titles x occupations score matrix (ties count against)."""
    gold_score = ranking[np.arange(len(gold)), gold]
    rank = (ranking > gold_score[:, None]).sum(axis=1) + 1
    return TitleMetrics(len(gold), float((1.0 / rank).mean()), float((rank <= 1).mean()),
                        float((rank <= 5).mean()), float((rank <= 10).mean()))


def threshold_for(lexical_top: np.ndarray, correct: np.ndarray, precision: float = 0.05,
                  step: float = 0.05, min_titles: int = 30) -> float:
    """The highest multiple of ``step`` under which the best match is right less than
    ``precision`` of the time (judged once at least ``min_titles`` titles score under it)."""
    best = 0.0
    for t in np.arange(step, 1.0 + 1e-9, step):
        below = lexical_top < t
        if below.sum() >= min_titles and correct[below].mean() >= precision:
            break
        best = float(t)
    return round(best, 4)


def tune_settings(occupations: list[Occupation], labels: list[tuple[str, int]],
                  tune: list[Tagged]) -> tuple[MatchSettings, dict[str, object]]:
    """Grid search on the inner split of the tune half (MRR + recall@5), then the threshold."""
    index = {o.uri: j for j, o in enumerate(occupations)}
    inner_index = [r for r in tune if split_of(r.title, "inner", 3) != 0]
    inner_eval = [r for r in tune if split_of(r.title, "inner", 3) == 0 and r.uri in index]
    matcher = TitleMatcher.build(occupations, labels, _pairs(inner_index, index), MatchSettings())
    parts = matcher.lexical([normalize_title(r.title) for r in inner_eval])
    gold = np.array([index[r.uri] for r in inner_eval])
    grid = []
    for w, p, v in itertools.product(CHAR_WEIGHTS, PRIOR_WEIGHTS, VOTE_WEIGHTS):
        candidate = matcher.with_settings(MatchSettings(char_weight=w, prior_weight=p,
                                                        vote_weight=v))
        m = rank_metrics(candidate.combine(*parts)[0], gold)
        grid.append((m.mrr + m.recall_at_5, candidate.settings, m))
    _, chosen, best = max(grid, key=lambda g: g[0])
    ranking, lexical = matcher.with_settings(chosen).combine(*parts)
    top = ranking.argmax(axis=1)
    threshold = threshold_for(lexical[np.arange(len(gold)), top], top == gold)
    settings = MatchSettings(char_weight=chosen.char_weight, prior_weight=chosen.prior_weight,
                             vote_weight=chosen.vote_weight, threshold=threshold)
    return settings, {"inner_index_titles": len(inner_index), "inner_eval_titles": len(gold),
                      "inner_metrics": asdict(best), "grid": [
                          {**asdict(g[1]), "mrr": round(g[2].mrr, 4),
                           "recall_at_5": round(g[2].recall_at_5, 4)} for g in grid]}


def build(settings: Settings, out: Path) -> dict[str, object]:
    """Tune on the tune half, then index the taxonomy and every tune title; write to ``out``."""
    started = time.monotonic()
    rows = read_tagged_titles(settings.benchmarks_dir / TITLES_FILE)
    tune, report = tune_report(rows)
    occupations, labels = taxonomy(settings)
    index = {o.uri: j for j, o in enumerate(occupations)}
    shipped, tuning = tune_settings(occupations, labels, tune)
    meta: dict[str, object] = {"tune_titles": len(tune), "report_titles": len(report),
                               "labels": len(labels), "settings": asdict(shipped),
                               "tuning": tuning}
    matcher = TitleMatcher.build(occupations, labels, _pairs(tune, index), shipped, meta)
    matcher.save(out)
    meta["seconds"] = round(time.monotonic() - started, 1)
    (out / "build.json").write_text(json.dumps(meta, indent=2) + "\n")
    log.info("title index: %d labels, settings %s, in %.0f s", len(matcher.labels), shipped,
             meta["seconds"])
    return meta


def evaluate(settings: Settings, matcher: TitleMatcher, top_k: int = 10) -> TitleMetrics:
    """The shipped matcher, as served (``match``, top 10, threshold applied), on the report
    half: MRR (a title whose occupation is not in its list counts 0), recall@1/5/10, and
    titles per second through ``match`` in one process."""
    rows = read_tagged_titles(settings.benchmarks_dir / TITLES_FILE)
    _, report = tune_report(rows)
    known = {o.uri for o in matcher.occupations}
    titles = [r.title for r in report if r.uri in known]
    gold = [r.uri for r in report if r.uri in known]
    matcher.match(titles[:256], top_k=top_k)  # warm up
    started = time.perf_counter()
    served = []
    for s in range(0, len(titles), 256):
        served.extend(matcher.match(titles[s:s + 256], top_k=top_k))
    seconds = time.perf_counter() - started
    ranks = np.array([next((k for k, m in enumerate(found, 1) if m.uri == uri), 0)
                      for found, uri in zip(served, gold, strict=True)])
    hit = ranks > 0
    return TitleMetrics(len(titles), float(np.where(hit, 1.0 / np.maximum(ranks, 1), 0).mean()),
                        float((hit & (ranks <= 1)).mean()), float((hit & (ranks <= 5)).mean()),
                        float((hit & (ranks <= 10)).mean()), len(titles) / seconds)


def metrics_table(m: TitleMetrics, settings: MatchSettings) -> str:
    return "\n".join([
        f"Job titles, report half of the validation set ({m.titles} titles, not tuned on); "
        f"shipped settings {asdict(settings)}", "",
        "| MRR | R@1 | R@5 | R@10 | titles/s |", "|---|---|---|---|---|",
        f"| {m.mrr:.3f} | {m.recall_at_1:.3f} | {m.recall_at_5:.3f} | {m.recall_at_10:.3f} | "
        f"{m.titles_per_second or 0:.0f} |", ""])
