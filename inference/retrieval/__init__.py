"""FAISS retrieval: skill-profile vectors and the indexes over opportunities and people."""
