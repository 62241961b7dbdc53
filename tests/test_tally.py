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


def test_upper_bound_is_the_exact_clopper_pearson_limit():
    from harness.host.tally import upper_bound

    # 0 of n: 1 - 0.025 ** (1 / n), closed form; 2 of 307 and 9 of 2000 against scipy.stats.beta.ppf(0.975, k + 1, n - k)
    assert abs(upper_bound(0, 300) - (1 - 0.025 ** (1 / 300))) < 1e-9
    assert abs(upper_bound(2, 307) - 0.0233338) < 1e-6
    assert abs(upper_bound(9, 2000) - 0.0085251) < 1e-6
    assert upper_bound(5, 5) == 1.0
