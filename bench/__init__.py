"""Benchmarks of the transparency log's appends and proofs (DESIGN §3, §10), and of
issuance (`vc+jwt` signing, `credbank issue-batch`).

Run with `python -m bench` and `python -m bench.issuance` (each with `--quick` for a
shorter run); the targets are checked here, never in the unit tests, and every run
is written to bench/results/.
"""
