"""Ranking stages: point-in-time training sets, LambdaRank training, evaluation and the gate."""
