"""Job title -> ESCO occupations: lexical matching against every known label, precomputed.

The index holds, per ESCO occupation, its preferred, alternative and hidden labels and the
tuning titles tagged with it (the tune half of the job-titles validation set). A title is
normalized (``inference/titles/normalize.py``) and scored against every label by two TF-IDF
cosines, character 3-4-grams (typos, word forms) and words 1-2-grams; an occupation takes its
best label. The score blends the two with weight ``char_weight`` and adds ``prior_weight`` x
log(1 + tuning titles tagged with the occupation) and ``vote_weight`` x log(1 + the summed
character cosines of its labels at ``vote_floor`` or above), so that an occupation many similar
titles were tagged with wins over one that a single label matches. An occupation is returned
only when its lexical score reaches ``threshold``, so an empty or junk title gets an empty list.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from features.errors import WaypointError
from inference.titles.normalize import normalize_label, normalize_title

INDEX_JSON = "titles.json"
INDEX_NPZ = "titles.npz"
BATCH = 256


class TitleIndexUnavailable(WaypointError):
    """No title index at the configured folder (built by ``dvc repro promote``)."""


@dataclass(frozen=True)
class MatchSettings:
    char_weight: float = 0.5
    prior_weight: float = 0.01
    vote_weight: float = 0.1
    vote_floor: float = 0.6
    threshold: float = 0.3


@dataclass(frozen=True)
class Occupation:
    uri: str
    label: str
    onet_code: str | None


@dataclass(frozen=True)
class Match:
    uri: str
    label: str
    score: float
    onet_code: str | None

    def as_json(self) -> dict[str, object]:
        return {"uri": self.uri, "label": self.label, "score": round(self.score, 6),
                "onet_code": self.onet_code}


def _vectorizer(kind: str) -> TfidfVectorizer:
    if kind == "char":
        return TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 4), sublinear_tf=True,
                               dtype=np.float32)
    return TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True,
                           token_pattern=r"(?u)\b\w+\b", dtype=np.float32)


class TitleMatcher:
    """Scores titles against the occupations; build with ``build``, ship with ``save``."""

    def __init__(self, occupations: Sequence[Occupation], labels: Sequence[str],
                 owners: np.ndarray, prior: np.ndarray, settings: MatchSettings,
                 vectorizers: dict[str, TfidfVectorizer] | None = None,
                 matrices: dict[str, sparse.csr_matrix] | None = None,
                 meta: dict[str, object] | None = None) -> None:
        order = np.argsort(owners, kind="stable")
        self.occupations = list(occupations)
        self.labels = [labels[i] for i in order]
        self.owners = owners[order].astype(np.int32)
        self.prior = prior.astype(np.float32)
        self.settings = settings
        self.meta = dict(meta or {})
        self._starts = np.r_[0, np.flatnonzero(np.diff(self.owners)) + 1].astype(np.int64)
        self._segment_owner = self.owners[self._starts]
        if vectorizers is None or matrices is None:
            vectorizers, matrices = {}, {}
            for kind in ("char", "word"):
                vec = _vectorizer(kind).fit(self.labels)
                vectorizers[kind] = vec
                matrices[kind] = sparse.csr_matrix(vec.transform(self.labels).T)
        self.vectorizers = vectorizers
        self.matrices = matrices

    @classmethod
    def build(cls, occupations: Sequence[Occupation], labelled: Sequence[tuple[str, int]],
              tuning: Sequence[tuple[str, int]], settings: MatchSettings,
              meta: dict[str, object] | None = None) -> TitleMatcher:
        """``labelled``: (label, occupation index) of the taxonomy; ``tuning``: (title,
        occupation index) of tagged titles, which also set the prior."""
        texts = [normalize_label(t) for t, _ in labelled] + [normalize_title(t) for t, _ in tuning]
        owners = np.array([o for _, o in labelled] + [o for _, o in tuning], dtype=np.int32)
        keep = [i for i, t in enumerate(texts) if t]
        prior = np.bincount(np.array([o for _, o in tuning], dtype=np.int64),
                            minlength=len(occupations)).astype(np.float32)
        return cls(occupations, [texts[i] for i in keep], owners[keep], prior, settings,
                   meta=meta)

    def with_settings(self, settings: MatchSettings) -> TitleMatcher:
        return TitleMatcher(self.occupations, self.labels, self.owners, self.prior, settings,
                            self.vectorizers, self.matrices, self.meta)

    def lexical(self, normalized: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(char, word) best-label cosines and the character votes, each titles x
        occupations."""
        shape = (len(normalized), len(self.occupations))
        char, word, votes = (np.zeros(shape, dtype=np.float32) for _ in range(3))
        for kind, best in (("char", char), ("word", word)):
            queries = self.vectorizers[kind].transform(normalized)
            for s in range(0, len(normalized), BATCH):
                product = (queries[s:s + BATCH] @ self.matrices[kind]).toarray()
                best[s:s + BATCH, self._segment_owner] = np.maximum.reduceat(
                    product, self._starts, axis=1)
                if kind == "char":
                    product[product < self.settings.vote_floor] = 0.0
                    votes[s:s + BATCH, self._segment_owner] = np.add.reduceat(
                        product, self._starts, axis=1)
        return char, word, np.log1p(votes)

    def combine(self, char: np.ndarray, word: np.ndarray, votes: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
        """(ranking score, lexical score) from ``lexical``'s parts and the settings."""
        st = self.settings
        lexical = st.char_weight * char + (1.0 - st.char_weight) * word
        ranking = lexical + st.prior_weight * np.log1p(self.prior) + st.vote_weight * votes
        return ranking, lexical

    def scores(self, titles: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(ranking score, lexical score) for every title and occupation."""
        return self.combine(*self.lexical([normalize_title(t) for t in titles]))

    def match(self, titles: Sequence[str], top_k: int = 5) -> list[list[Match]]:
        """The ``top_k`` best occupations of each title, best first; [] below the threshold."""
        if not titles:
            return []
        ranking, lexical = self.scores(titles)
        results: list[list[Match]] = []
        k = min(top_k, len(self.occupations))
        for row, lex in zip(ranking, lexical, strict=True):
            ok = lex >= self.settings.threshold
            if not ok.any() or k <= 0:
                results.append([])
                continue
            masked = np.where(ok, row, -np.inf)
            top = np.argpartition(-masked, k - 1)[:k] if k < len(masked) else np.arange(len(masked))
            top = top[np.argsort(-masked[top], kind="stable")]
            results.append([Match(self.occupations[j].uri, self.occupations[j].label,
                                  float(row[j]), self.occupations[j].onet_code)
                            for j in top if np.isfinite(masked[j])])
        return results

    # ------------------------------------------------------------------ files

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {"owners": self.owners, "prior": self.prior}
        for kind, vec in self.vectorizers.items():
            arrays[f"{kind}_idf"] = vec.idf_.astype(np.float32)
        np.savez_compressed(folder / INDEX_NPZ, allow_pickle=False, **arrays)
        for kind, matrix in self.matrices.items():
            sparse.save_npz(folder / f"titles_{kind}.npz", matrix)
        header = {"occupations": [asdict(o) for o in self.occupations], "labels": self.labels,
                  "settings": asdict(self.settings), "meta": self.meta,
                  "vocabulary": {kind: vec.vocabulary_ for kind, vec in self.vectorizers.items()}}
        (folder / INDEX_JSON).write_text(json.dumps(header) + "\n")


def load_matcher(folder: Path) -> TitleMatcher:
    """Load an index saved by ``TitleMatcher.save``; ``TitleIndexUnavailable`` when absent."""
    files = [folder / INDEX_JSON, folder / INDEX_NPZ, folder / "titles_char.npz",
             folder / "titles_word.npz"]
    if not all(f.is_file() for f in files):
        raise TitleIndexUnavailable(f"no job-title index at {folder}: run `dvc repro promote` "
                                    "(stage titles-index, `waypoint titles build`)")
    header = json.loads(files[0].read_text())
    vectorizers: dict[str, TfidfVectorizer] = {}
    matrices: dict[str, sparse.csr_matrix] = {}
    with np.load(files[1]) as arrays:
        owners, prior = arrays["owners"], arrays["prior"]
        for kind in ("char", "word"):
            vec = _vectorizer(kind)
            vec.vocabulary_ = {k: int(v) for k, v in header["vocabulary"][kind].items()}
            vec.idf_ = arrays[f"{kind}_idf"]
            vectorizers[kind] = vec
            matrices[kind] = sparse.csr_matrix(sparse.load_npz(folder / f"titles_{kind}.npz"))
    occupations = [Occupation(**o) for o in header["occupations"]]
    return TitleMatcher(occupations, header["labels"], owners, prior,
                        MatchSettings(**header["settings"]), vectorizers, matrices,
                        dict(header.get("meta", {})))
