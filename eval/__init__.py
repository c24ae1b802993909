"""Evaluation and benchmarks: datasets, metrics (pure functions), runners and reports."""
