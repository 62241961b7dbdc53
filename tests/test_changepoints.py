"""The change-point wrapper on synthetic series: a 10% step, drift, noise only (harness.worker.changepoints).
Needs numpy and ruptures (the environment `nox -s compare -- --changepoints` builds); skipped without them."""

from __future__ import annotations

import json

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("ruptures")

from harness.worker import changepoints  # noqa: E402


def noisy(rng, n, sd=0.02):
    return 1.0 + sd * rng.standard_normal(n)


def test_chi2_quantile():
    assert changepoints.chi2_1_quantile(0.95) == pytest.approx(3.841458820694124, rel=1e-9)


def test_a_ten_percent_step_is_found_where_it_is():
    rng = np.random.default_rng(1)
    hits = 0
    for _ in range(50):
        values = noisy(rng, 30) * np.r_[np.ones(15), 1.1 * np.ones(15)]
        found = changepoints.detect(list(values), [0.02] * 30)["change_points"]
        hits += len(found) == 1 and abs(found[0]["index"] - 15) <= 1 and found[0]["step"] == pytest.approx(0.1, abs=0.03)
    assert hits >= 48


def test_noise_alone_gives_no_change_point():
    rng = np.random.default_rng(2)
    false = sum(bool(changepoints.detect(list(noisy(rng, 30)), [0.02] * 30)["change_points"]) for _ in range(200))
    assert false <= 4  # alpha = 1% per series, allowing for the binomial spread


def test_unstated_noise_is_estimated_from_the_series():
    rng = np.random.default_rng(3)
    flat = changepoints.detect(list(noisy(rng, 40, sd=0.05)), None)
    assert flat["tau"] == pytest.approx(0.05, rel=0.5) and not flat["change_points"]
    step = changepoints.detect(list(noisy(rng, 40, sd=0.02) * np.r_[np.ones(20), 1.1 * np.ones(20)]), None)
    assert [cp["index"] for cp in step["change_points"]] == [20]


def test_points_that_say_they_are_noisy_weigh_less():
    rng = np.random.default_rng(4)
    values = noisy(rng, 20, sd=0.01)
    values[10] *= 1.3  # one wild point...
    sds = [0.01] * 20
    sds[10] = 0.3  # ...that says so itself
    assert not changepoints.detect(list(values), sds)["change_points"]


def test_drift_is_reported_as_a_staircase_of_the_same_total():
    rng = np.random.default_rng(5)
    values = noisy(rng, 40, sd=0.01) * np.linspace(1.0, 1.3, 40)
    found = changepoints.detect(list(values), [0.01] * 40)
    assert found["change_points"] and all(cp["step"] > 0 for cp in found["change_points"])
    total = np.prod([1 + cp["step"] for cp in found["change_points"]]) - 1
    assert 0.15 < total < 0.35


def test_analyse_labels_the_points_around_a_change():
    values = [1.0, 1.01, 0.99, 1.0, 1.2, 1.21, 1.19, 1.2]
    series = [{"key": ["cpu-pymc6", "timeline", "conjugate", "pymc-c", "warm_sample_s"],
               "points": [{"label": f"2026-0{i + 1}-01", "value": v, "sd": 0.01} for i, v in enumerate(values)]}]
    (out,) = changepoints.analyse(series)
    assert out["change_points"][0]["before"] == "2026-04-01" and out["change_points"][0]["after"] == "2026-05-01"
    assert out["change_points"][0]["after_source"] == "2026-05-01"  # no side given: the label is the side
    assert (out["change_points"][0]["before_value"], out["change_points"][0]["after_value"]) == (1.0, 1.2)  # which
    # tells the night whether sample_s itself fits a comparison (compare.confirm_args)


def test_a_step_where_the_measurement_changed_names_the_harness():
    values = [1.0, 1.01, 0.99, 1.0, 1.2, 1.21, 1.19, 1.2]
    series = [{"key": ["cpu-pymc6", "timeline", "conjugate", "pymc-c", "warm_sample_s"],
               "points": [{"label": str(i), "value": v, "sd": 0.01, "measurement": 1 if i < 4 else 2}
                          for i, v in enumerate(values)]}]
    (out,) = changepoints.analyse(series)
    assert out["change_points"][0]["suspect"] == "the harness: measurement version 1 -> 2"


def test_the_command_line_holds_a_series_at_the_alpha_it_is_given(tmp_path, capsys):
    values = [1.0, 1.01, 0.99, 1.0, 1.2, 1.21, 1.19, 1.2]
    path = tmp_path / "series.json"
    path.write_text(json.dumps([{"key": ["cpu-pymc6", "timeline", "conjugate", "pymc-c", "warm_sample_s"],
                                 "points": [{"label": str(i), "value": v, "sd": 0.01} for i, v in enumerate(values)]}]))
    for alpha in ("0.01", "0.001"):
        assert changepoints.main(["changepoints", str(path), "--alpha", alpha]) == 0
        (out,) = json.loads(capsys.readouterr().out)
        assert out["penalty"] == pytest.approx(changepoints.chi2_1_quantile(1 - float(alpha) / 7))
