"""Skills stages: the domain-adapted encoder, the benchmark evaluation, the profiles stage."""
