"""Fairness stages: the audit, mitigation, the before/after comparison, reports, trade-offs."""
