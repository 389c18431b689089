"""Serving-side logic: skills engine, retrieval, recommender, fairness at serving time."""
