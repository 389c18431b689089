"""Artifact layouts serving reads (bundle, profiles) and the MLflow registry client."""
