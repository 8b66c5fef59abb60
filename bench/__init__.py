"""Benchmarks: each module with `run() -> str` adds a section to BENCHMARKS.md (see __main__)."""
