"""Ranking at serving time: the request pipeline, the recommender, explanations, metrics."""
