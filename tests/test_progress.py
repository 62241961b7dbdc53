"""What a person sees while a row runs: a line per cell with the row's ETA, and a closing summary."""

from __future__ import annotations

import pytest

from harness.worker import progress
from harness.worker.progress import Progress, clock, closing_lines


@pytest.fixture
def now(monkeypatch):
    """The clock Progress reads, set by the test: now[0] seconds."""
    now = [0.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: now[0])
    return now


def cell(model, backend, status="passed", wall=10.0, reason=None):
    return {"model": model, "backend": backend, "status": status, "reason": reason, "timings": {"cell_wall_s": wall}}


def test_lines_count_cells_and_estimate_the_rest(now):
    row = Progress(total=4)
    now[0] = 20.0
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


def test_the_eta_follows_the_last_run_of_the_cells_left(now):
    """Longest cells first: after the one slow cell, the many quick ones left take little time."""
    row = Progress(total=3, expected={("radon", "pymc-jax"): (80.0, 20.0), ("conjugate", "tfp"): (10.0, 0.0),
                                      ("conjugate", "pymc-c"): (5.0, 5.0)})
    now[0] = 50.0  # twice as fast as last time
    line = row.finished(cell("radon", "pymc-jax", wall=50.0), skipped=False)
    assert "left ~0:10" in line  # 20 s expected, at half the time


def test_a_cell_evaluated_ahead_of_its_turn_is_told_before_its_speed_rounds(now):
    """Tiers that time alone finish cells a look-ahead at a time: the sampling is told when it is done."""
    row = Progress(total=3, expected={("radon", "pymc-numba"): (50.0, 40.0), ("radon", "blackjax"): (10.0, 0.0),
                                      ("conjugate", "tfp"): (20.0, 30.0)})
    now[0] = 100.0  # twice as slow as last time
    line = row.evaluated(cell("radon", "pymc-numba", wall=88.2), speed_follows=True)
    assert line.split()[:3] == ["radon", "pymc-numba", "passed"] and "88.2 s" in line
    assert line.endswith("evaluated at 1:40, left ~3:20; speed rounds alone follow")  # 40 + 10 + 50 s left, x2
    assert row.done == 0  # not finished: its line with the count comes after the rounds
    assert row.evaluated(cell("radon", "blackjax", "failed"), speed_follows=False).endswith("no speed rounds")
    now[0] = 200.0
    assert "[  1/3]" in row.finished(cell("radon", "pymc-numba"), skipped=False)  # its rounds counted once
    assert row.expected_done == 100.0  # 50 + 10 evaluated, then the 40 s of rounds
    assert row.expected == {("radon", "blackjax"): [0.0, 0.0], ("conjugate", "tfp"): [20.0, 30.0]}
