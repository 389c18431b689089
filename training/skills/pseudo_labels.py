"""The SkillSpan spans' pseudo-labels, kept as a reviewable file so training need not redo them.

`training.skills.encoder.skillspan_pairs` labels each SkillSpan *train* span that is not
verbatim an alias with its nearest ESCO preferred label by the packaged MiniLM. That means
encoding the 13.9k preferred labels and about 3,600 spans: about a minute on 2 CPU cores, a
tenth of ``make demo``. The result depends only on the labeler, the catalog's preferred labels
and the spans, so it is kept in ``data/skillspan_pseudo_labels.tsv`` (span, nearest label,
cosine), with a fingerprint of the labeler and the labels:

- a fresh file holding every span needed: nothing is encoded;
- a stale file (another labeler or catalog) or missing spans: they are computed, as before,
  and training says so; the file is rewritten only by
  ``waypoint skills train-encoder --refresh-pseudo-labels``.

The threshold (``pseudo_label_min_sim``) is applied after the file, so changing it needs no
refresh. ``tests/integration/test_pseudo_labels.py`` recomputes a sample against the file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from features.settings import REPO_ROOT
from inference.skills.encoder import TextEncoder

log = logging.getLogger(__name__)

PSEUDO_LABELS = REPO_ROOT / "data" / "skillspan_pseudo_labels.tsv"
HEADER = "# fingerprint="


@dataclass(frozen=True)
class Nearest:
    label: str
    similarity: float


def fingerprint(labeler_name: str, labels: Sequence[str]) -> str:
    digest = hashlib.sha256(labeler_name.encode())
    for label in labels:
        digest.update(b"\n" + label.encode())
    return digest.hexdigest()[:16]


def read_pseudo_labels(path: Path, expected: str) -> dict[str, Nearest]:
    """span -> nearest label of ``path`` when its fingerprint is ``expected``, else {}."""
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8") as handle:
        first = handle.readline().rstrip("\n")
        if first != HEADER + expected:
            log.warning("%s was made with another labeler or catalog (%s, expected %s): "
                        "recomputing", path, first.removeprefix(HEADER), expected)
            return {}
        out: dict[str, Nearest] = {}
        for number, line in enumerate(handle, start=2):
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3:
                raise ValueError(f"{path}:{number}: expected span, label, similarity")
            out[parts[0]] = Nearest(parts[1], float(parts[2]))
    return out


def write_pseudo_labels(path: Path, stamp: str, nearest: Mapping[str, Nearest]) -> None:
    """Write atomically (a temporary file renamed over ``path``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".pseudo-", suffix=".tsv")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(HEADER + stamp + "\n")
            for span in sorted(nearest):
                found = nearest[span]
                handle.write(f"{span}\t{found.label}\t{found.similarity:.4f}\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def compute_nearest(spans: Sequence[str], labels: Sequence[str], labeler: TextEncoder
                    ) -> dict[str, Nearest]:
    """Each span's nearest preferred label by ``labeler`` (cosine of normalized vectors)."""
    if not spans:
        return {}
    label_vectors = labeler.encode(labels, batch_size=512)
    vectors = labeler.encode(spans, batch_size=256)
    out: dict[str, Nearest] = {}
    for lo in range(0, len(spans), 512):
        sims = vectors[lo:lo + 512] @ label_vectors.T
        best = sims.argmax(axis=1)
        for span, index, sim in zip(spans[lo:lo + 512], best.tolist(),
                                    sims[np.arange(len(best)), best].tolist(), strict=True):
            out[span] = Nearest(labels[index], round(float(sim), 4))
    return out


def nearest_labels(spans: Sequence[str], labels: Sequence[str], labeler: TextEncoder,
                   cache: Path | None = PSEUDO_LABELS, refresh: bool = False
                   ) -> tuple[dict[str, Nearest], str]:
    """(span -> nearest label, where it came from: "file", "computed" or "refreshed")."""
    stamp = fingerprint(labeler.name, labels)
    known = {} if cache is None or refresh else read_pseudo_labels(cache, stamp)
    missing = [span for span in spans if span not in known]
    if not missing:
        return {span: known[span] for span in spans}, "file"
    if known:
        log.warning("%d of %d spans are not in %s: computing them", len(missing), len(spans),
                    cache)
    computed = compute_nearest(missing, labels, labeler)
    if refresh and cache is not None:
        write_pseudo_labels(cache, stamp, computed)
        return computed, "refreshed"
    return {**{s: known[s] for s in spans if s in known}, **computed}, "computed"
