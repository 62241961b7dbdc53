"""harness.tally counts sampled cells per (model, backend) across results files."""

from __future__ import annotations

import json

from harness.host.tally import main, tally


def test_tally_counts_failures_and_sets_other_statuses_apart(tmp_path, capsys):
    for i, status in enumerate(["passed", "failed", "passed", "error"]):
        cells = [{"model": "m", "backend": "b", "status": status}]
        (tmp_path / f"run{i}.json").write_text(json.dumps({"cells": cells}))
    per_cell, other = tally(sorted(tmp_path.glob("*.json")))
    assert per_cell[("m", "b")] == {"passed": 2, "failed": 1}
    assert other == {"error": 1}
    assert main([str(tmp_path)]) == 0
    assert "33.3%" in capsys.readouterr().out
