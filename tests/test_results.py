"""Results files: atomic, never overwritten, with the documented schema."""

from __future__ import annotations

import json

from harness.common.matrix import Row, Tier
from harness.common.plan import Plan
from harness.common.schema import SCHEMA
from harness.worker.results import ResultsFile, new_results_path, summary_table

PLAN = Plan(
    row=Row.from_dict({"id": "cpu-pymc6", "session": "cpu(pymc='6')", "python": "3.12", "api": "pymc",
                       "backends": ["nutpie-numba"]}),
    tiers={"quick": Tier(name="quick", size="quick", chains=2, tune=10, draws=10, timeout_s=5, speed_rounds=1)},
    tier_name="quick",
)


def test_results_file_is_written_after_every_cell(tmp_path):
    results = ResultsFile(tmp_path, PLAN, {"python": "3.12"})
    on_disk = json.loads(results.path.read_text())
    assert on_disk["schema"] == SCHEMA and on_disk["complete"] is False and on_disk["cells"] == []
    results.add({"model": "m", "backend": "b", "status": "passed", "reason": None})
    assert len(json.loads(results.path.read_text())["cells"]) == 1
    results.finish()
    final = json.loads(results.path.read_text())
    assert final["complete"] is True and final["finished"]
    assert {"schema", "session", "row", "baseline", "started", "finished", "fingerprint", "cells"} <= set(final)
    assert not list(results.path.parent.glob(".*.tmp"))


def test_never_overwrites_an_earlier_run(tmp_path):
    first = new_results_path(tmp_path, "row", "quick", "2026-01-01T00:00:00Z")
    second = new_results_path(tmp_path, "row", "quick", "2026-01-01T00:00:00Z")
    assert first != second and first.exists() and second.exists()


def test_summary_table_counts_statuses():
    cells = [
        {"model": "m", "backend": "b1", "status": "passed", "timings": {"wall_s": 1.0},
         "params": {"x": {"ess_bulk": 900.0, "r_hat": 1.001}}},
        {"model": "m", "backend": "b2", "status": "unavailable", "reason": "not installed"},
    ]
    table = summary_table(cells)
    assert "not installed" in table and "1 passed" in table and "1 unavailable" in table


def test_an_interrupted_run_resumes_with_its_finished_cells(tmp_path):
    first = ResultsFile(tmp_path, PLAN, {"machine": "a"})
    first.add({"model": "m", "backend": "b1", "status": "passed", "reason": None})  # then the slot ended
    resumed = ResultsFile.resume(first.path)
    assert resumed.recorded("m", "b1")["status"] == "passed" and resumed.recorded("m", "b2") is None
    resumed.set_fingerprint({"machine": "b"})
    resumed.add({"model": "m", "backend": "b2", "status": "passed", "reason": None})
    resumed.finish()
    final = json.loads(first.path.read_text())
    assert [c["backend"] for c in final["cells"]] == ["b1", "b2"] and final["complete"]
    assert final["fingerprint"] == {"machine": "a"} and final["resumed"][0]["fingerprint"] == {"machine": "b"}


def test_a_cell_cut_off_between_sampling_and_its_speed_rounds_is_sampled_again(tmp_path):
    first = ResultsFile(tmp_path, PLAN, {"machine": "a"})
    first.add({"model": "m", "backend": "b1", "status": "passed", "params": {}, "speed": {"ess_per_s": 9.0}})
    first.add({"model": "m", "backend": "b2", "status": "passed", "params": {}})  # the slot ended in its rounds
    first.add({"model": "m", "backend": "b3", "status": "unavailable", "reason": "not installed"})
    timed = ResultsFile.resume(first.path)
    assert [c["backend"] for c in timed.payload["cells"]] == ["b1", "b3"]
    assert timed.payload["resumed"][-1]["redone"] == ["m x b2"]
    untimed = ResultsFile.resume(first.path, timed=False)  # --no-speed: the sampled cell is finished
    assert [c["backend"] for c in untimed.payload["cells"]] == ["b1", "b2", "b3"]
