"""harness.host.tally counts sampled cells per (model, backend) across results files."""

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
    from harness.host.tally import MIXING, PASSES, Z, one_stage

    screened = {"problems": [], "z_tests": 10, "max_abs_z": 3.3}
    assert one_stage({"runs": [screened]}) == PASSES  # a screen failure at 5% that one stage let pass
    assert one_stage({"runs": [dict(screened, max_abs_z=3.6)]}) == Z
    assert one_stage({"runs": [{"problems": ["R-hat > 1.01: x (r_hat=1.02)"]}, screened]}) == MIXING
    assert one_stage({"runs": [{"problems": []}]}) is None
    assert one_stage({"status": "passed"}) is None
    from harness.host.tally import one_stage_z_at_screen

    lengthened = {"runs": [{"problems": ["R-hat"]}, dict(screened, z_problems=["..."], max_abs_z=3.6)]}
    assert one_stage_z_at_screen(lengthened) is True and one_stage_z_at_screen({"runs": [screened]}) is None


def test_tally_sums_per_model_or_backend(tmp_path, capsys):
    cells = [{"model": m, "backend": b, "status": s} for m, b, s in
             [("m1", "b1", "passed"), ("m1", "b2", "failed"), ("m2", "b1", "did-not-mix")]]
    (tmp_path / "run.json").write_text(json.dumps({"cells": cells}))
    assert main([str(tmp_path), "--by", "model"]) == 0
    lines = capsys.readouterr().out.splitlines()
    [m1] = [line for line in lines if line.startswith("m1 ")]
    assert m1.split()[2:5] == ["2", "1", "50.0%"]
    assert main([str(tmp_path), "--by", "nonsense"]) == 2
