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


def test_one_stage_verdict_is_judged_on_the_first_run():
    """The verdict before the two-stage one: the first run fails on a missed mixing gate or on any z beyond
    the 0.5% Bonferroni limit (3.48 for 10 tests); cells whose runs carry no z cannot say."""
    from harness.host.tally import one_stage_failed

    screened = {"problems": [], "z_tests": 10, "max_abs_z": 3.3}
    assert one_stage_failed({"runs": [screened]}) is False  # a screen failure at 5% that one stage let pass
    assert one_stage_failed({"runs": [dict(screened, max_abs_z=3.6)]}) is True
    assert one_stage_failed({"runs": [{"problems": ["R-hat > 1.01: x (r_hat=1.02)"]}, screened]}) is True
    assert one_stage_failed({"runs": [{"problems": []}]}) is None
    assert one_stage_failed({"status": "passed"}) is None
