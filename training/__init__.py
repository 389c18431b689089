"""Training pipeline stages: ingest, simulate, training sets, ranker training, audits."""
