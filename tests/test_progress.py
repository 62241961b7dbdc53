"""What a person sees while a row runs: a line per cell with the row's ETA, and a closing summary."""

from __future__ import annotations

from harness.worker import progress
from harness.worker.progress import Progress, clock, closing_lines


def cell(model, backend, status="passed", wall=10.0, reason=None):
    return {"model": model, "backend": backend, "status": status, "reason": reason, "timings": {"cell_wall_s": wall}}


def test_lines_count_cells_and_estimate_the_rest(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: now[0])
    row = Progress(total=4)
    now[0] += 20.0
    first = row.finished(cell("radon", "pymc-c"), skipped=False)
    assert first.startswith("[  1/4] radon") and "passed" in first and "left ~1:00" in first  # 3 more at 20 s
    second = row.finished(cell("radon", "nutpie-numba", "not-applicable", None, "discrete"), skipped=True)
    assert "[  2/4]" in second and "discrete" in second and "left ~0:20" in second  # half the cells sample
    assert clock(3725) == "1:02:05" and clock(None) == "?"


def test_closing_lines_name_counts_slowest_and_the_report_command():
    cells = [cell("radon", "pymc-jax", wall=175.0), cell("conjugate", "tfp", wall=3.0),
             cell("ppca", "blackjax", "known-failure", 20.0)]
    lines = closing_lines(cells, "results/cpu-pymc6/x.json", 600.0)
    assert lines[0] == "3 cells in 10:00: 2 passed, 1 known-failure"
    assert lines[1].startswith("slowest: radon x pymc-jax 175 s")
    assert lines[-1] == "report:  nox -s report -- results/cpu-pymc6/x.json"


def test_a_past_run_gives_the_expected_time_of_the_cells_wanted():
    from harness.worker.progress import run_seconds

    cells = [{"model": "a", "backend": "x", "timings": {"cell_wall_s": 30.0}},
             {"model": "b", "backend": "x", "timings": {"cell_wall_s": 10.0}},
             {"model": "c", "backend": "x", "status": "not-applicable"}]
    payload = {"started": "2026-11-26T10:00:00Z", "finished": "2026-11-26T10:02:00Z", "cells": cells}
    assert run_seconds(payload, {("a", "x"), ("b", "x")}) == 120.0
    assert run_seconds(payload, {("a", "x")}) == 90.0  # its share of the run
    assert run_seconds(dict(payload, finished=None), {("a", "x")}) is None  # unfinished: no figure


def test_the_eta_follows_the_last_run_of_the_cells_left(monkeypatch):
    """Longest cells first: after the one slow cell, the many quick ones left take little time."""
    now = [0.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: now[0])
    row = Progress(total=3, expected={("radon", "pymc-jax"): 100.0, ("conjugate", "tfp"): 10.0, ("conjugate", "pymc-c"): 10.0})
    now[0] = 50.0  # twice as fast as last time
    line = row.finished(cell("radon", "pymc-jax", wall=50.0), skipped=False)
    assert "left ~0:10" in line  # 20 s expected, at half the time
