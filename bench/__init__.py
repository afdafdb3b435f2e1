"""Benchmarks (run as ``python -m bench.<name>``); results are recorded in docs and RESULTS."""
