"""Regression gates: typed specs, rules, evaluation, statistics."""
