"""Runs on the host inside nox (Python >= 3.11): the standard library and what nox brings, nothing else."""
