"""The skills engine: text -> ESCO skills with calibrated scores, evidence spans and polarity.

Modules: ``catalog`` (skill texts and aliases), ``encoder`` (sentence encoders: transformer,
int8, static), ``index`` (cached label embeddings + FAISS), ``segment`` (sentences, clauses,
phrases with offsets), ``polarity`` (developmental remarks), ``matching`` (exact/alias),
``engine`` (all of it together), ``artifacts`` (where things live under ``models/``).
"""
