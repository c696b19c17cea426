"""Benchmarks of the estimators: simulated scenarios with known truth, every real dataset, speed against R.

Run from a source checkout: ``python -m benchmarks --help`` (see benchmarks/README.md).
"""
