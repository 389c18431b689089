"""Occupation understanding: career-path signals and model, job-title matching, evaluations."""
