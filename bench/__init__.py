"""Benchmarks of the transparency log's appends and proofs (DESIGN §3, §10).

Run with `python -m bench` (or `--quick` for a smoke run); the targets are checked
here, never in the unit tests, and every run is written to bench/results/.
"""
