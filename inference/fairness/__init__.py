"""Fairness at serving time and the pure fairness functions the audits share.

`groups` (protected attributes -> group labels), `metrics` and `ranking_metrics` (impact ratios,
exposure, skew, NDKL), `rerank` and `offsets` (fair re-ranking), `serving` (one served list's
re-ranking and aggregates), `gate` (thresholds -> verdict), `significance` (permutation
p-values), `models` (typed results) and `export` (figures -> MLflow metrics).
"""
