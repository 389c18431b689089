"""The trained ranker as training writes it and serving loads it: LightGBM model + feature list.

Two files in one folder: ``ranker.txt`` (the LightGBM model) and ``ranker.json`` (the ordered
feature list, the parameters and the evaluation report). Loading refuses a model whose feature
list differs from ``FEATURE_NAMES``, so training/serving skew on feature order cannot happen.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from features.ranking import FEATURE_NAMES, check_feature_names
from features.ranking_explain import Reason, top_reasons

MODEL_FILE = "ranker.txt"
META_FILE = "ranker.json"


@dataclass
class Ranker:
    booster: lgb.Booster
    feature_names: tuple[str, ...] = FEATURE_NAMES
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_feature_names(self.feature_names)

    def score(self, rows: np.ndarray) -> np.ndarray:
        """One score per row (higher is better); single-threaded for serving latency."""
        x = np.asarray(rows, dtype=np.float64).reshape(-1, len(self.feature_names))
        return np.asarray(self.booster.predict(x, num_threads=1), dtype=np.float64)

    def contributions(self, rows: np.ndarray) -> np.ndarray:
        x = np.asarray(rows, dtype=np.float64).reshape(-1, len(self.feature_names))
        return np.asarray(self.booster.predict(x, pred_contrib=True, num_threads=1))

    def reasons(self, row: np.ndarray, k: int = 3, positive_only: bool = True) -> list[Reason]:
        """Plain-word top reasons for one row from LightGBM ``pred_contrib``."""
        contrib = self.contributions(row)[0]
        return top_reasons(np.asarray(row).ravel(), contrib, self.feature_names, k, positive_only)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(str(folder / MODEL_FILE))
        meta = {**self.meta, "feature_names": list(self.feature_names)}
        (folder / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True, default=str))

    @classmethod
    def load(cls, folder: Path) -> Ranker:
        meta = json.loads((folder / META_FILE).read_text())
        booster = lgb.Booster(model_file=str(folder / MODEL_FILE))
        names = tuple(meta.get("feature_names", ()))
        if tuple(booster.feature_name()) != names:
            raise ValueError("model file and metadata disagree on the feature list")
        return cls(booster=booster, feature_names=names, meta=meta)
