"""Cached embeddings of every skill text, a FAISS inner-product index over them, and the
reduction from text similarities to skill scores (max over a skill's texts, per-kind weights).

On disk (one folder per encoder under ``models/skills/``): ``embeddings.npy`` (float16),
``index.faiss`` and ``manifest.json`` (encoder, catalog fingerprint, sizes, build time).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from features.errors import WaypointError
from inference.skills.catalog import SkillCatalog, TextKind
from inference.skills.encoder import TextEncoder

log = logging.getLogger(__name__)
DEFAULT_KIND_WEIGHTS: dict[TextKind, float] = {
    TextKind.LABEL: 1.0, TextKind.ALT: 1.0, TextKind.HIDDEN: 0.95, TextKind.DESCRIPTION: 0.95,
}


class StaleIndexError(WaypointError):
    """The cached embeddings were built for another encoder or another version of ESCO."""


@dataclass
class SkillIndex:
    catalog: SkillCatalog
    embeddings: np.ndarray
    encoder_name: str
    kind_weights: Mapping[TextKind, float]

    def __post_init__(self) -> None:
        self.embeddings = np.ascontiguousarray(self.embeddings, dtype=np.float32)
        self.faiss: faiss.Index = faiss.IndexFlatIP(self.embeddings.shape[1])
        self.faiss.add(self.embeddings)
        self._offsets = self.catalog.offsets
        weights = np.ones(len(self.catalog.texts), dtype=np.float32)
        for kind, weight in self.kind_weights.items():
            weights[self.catalog.kinds == int(kind)] = weight
        self._text_weights = weights

    def use_ivf(self, nlist: int = 1024, nprobe: int = 24, seed: int = 7) -> None:
        """Swap the exact index for an inverted-file one (approximate, much faster for bulk
        search; ``all_skill_scores`` stays exact)."""
        quantizer = faiss.IndexFlatIP(self.dim)
        nlist = max(1, min(nlist, len(self.embeddings) // 40))
        ivf = faiss.IndexIVFFlat(quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(seed)
        sample = self.embeddings[rng.choice(len(self.embeddings),
                                            min(len(self.embeddings), nlist * 64),
                                            replace=False)]
        ivf.train(sample)
        ivf.add(self.embeddings)
        ivf.nprobe = nprobe
        self.faiss = ivf

    @property
    def dim(self) -> int:
        return int(self.embeddings.shape[1])

    # ------------------------------------------------------------------ build / persist

    @classmethod
    def build(cls, catalog: SkillCatalog, encoder: TextEncoder,
              kind_weights: Mapping[TextKind, float] | None = None,
              batch_size: int = 256) -> SkillIndex:
        started = time.perf_counter()
        order = np.argsort([len(t) for t in catalog.texts], kind="stable")
        vectors = np.zeros((len(catalog.texts), encoder.dim), dtype=np.float32)
        step = 8192
        for lo in range(0, len(order), step):
            chunk = order[lo:lo + step]
            vectors[chunk] = encoder.encode([catalog.texts[i] for i in chunk], batch_size)
            log.info("encoded %d/%d skill texts", min(lo + step, len(order)), len(order))
        log.info("built skill index for %s in %.0fs", encoder.name, time.perf_counter() - started)
        return cls(catalog, vectors, encoder.name, dict(kind_weights or DEFAULT_KIND_WEIGHTS))

    def save(self, folder: Path, extra: Mapping[str, object] | None = None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "embeddings.npy", self.embeddings.astype(np.float16))
        faiss.write_index(self.faiss, str(folder / "index.faiss"))
        manifest = {
            "encoder": self.encoder_name,
            "catalog_fingerprint": self.catalog.fingerprint(),
            "skills": len(self.catalog),
            "texts": len(self.catalog.texts),
            "dim": self.dim,
            **(extra or {}),
        }
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")

    @classmethod
    def load(cls, folder: Path, catalog: SkillCatalog,
             kind_weights: Mapping[TextKind, float] | None = None) -> SkillIndex:
        manifest = json.loads((folder / "manifest.json").read_text())
        if manifest["catalog_fingerprint"] != catalog.fingerprint():
            raise StaleIndexError(f"{folder} was built for another skill catalog; rebuild it "
                                  "with `waypoint skills index`")
        embeddings = np.load(folder / "embeddings.npy").astype(np.float32)
        return cls(catalog, embeddings, str(manifest["encoder"]),
                   dict(kind_weights or DEFAULT_KIND_WEIGHTS))

    # ------------------------------------------------------------------ scoring

    def all_skill_scores(self, queries: np.ndarray, chunk: int = 64) -> np.ndarray:
        """Dense (n_queries, n_skills) scores: weighted max similarity over each skill's texts."""
        out = np.empty((len(queries), len(self.catalog)), dtype=np.float32)
        for lo in range(0, len(queries), chunk):
            sims = queries[lo:lo + chunk] @ self.embeddings.T
            sims *= self._text_weights
            out[lo:lo + chunk] = np.maximum.reduceat(sims, self._offsets, axis=1)
        return out

    def top_skills(self, queries: np.ndarray, k: int = 20,
                   k_texts: int = 96) -> list[dict[int, float]]:
        """For each query, up to ``k`` skills with their weighted max similarity (FAISS search)."""
        if len(queries) == 0:
            return []
        sims, ids = self.faiss.search(np.ascontiguousarray(queries, dtype=np.float32),
                                      min(k_texts, len(self.catalog.texts)))
        results: list[dict[int, float]] = []
        for row_sims, row_ids in zip(sims, ids, strict=True):
            best: dict[int, float] = {}
            for sim, text_id in zip(row_sims.tolist(), row_ids.tolist(), strict=True):
                if text_id < 0:
                    continue
                owner = int(self.catalog.owners[text_id])
                score = sim * float(self._text_weights[text_id])
                if score > best.get(owner, -1.0):
                    best[owner] = score
            top = sorted(best.items(), key=lambda kv: -kv[1])[:k]
            results.append(dict(top))
        return results
