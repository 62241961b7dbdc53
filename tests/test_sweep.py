"""The gradient sweep (harness/worker/sweep.py) and the radon formulations (models/formulations/).

The unit tests need no pymc: the sweep's schedule, its crossovers and its files, and the formulations' data
(numpy). The e2e tests run the sweep's CPU half in the cpu-pymc6 row (`nox -s sweep`) and sample every
formulation with nutpie in `nox -s "cpu(pymc='6')"`, judged against radon's reference.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO_ROOT

from harness.worker import sweep
from models import load_models

FORMULATIONS = REPO_ROOT / "models" / "formulations"
VARIANT_MODELS = ["radon_sorted", "radon_shuffled", "radon_onehot", "radon_segment"]


def point(n, path="jax-autodiff", device="gpu", seconds=1e-3, variant="radon_sorted", status=sweep.OK):
    p = {"n": n, "variant": variant, "path": path, "device": device, "status": status}
    if status in (sweep.OK, sweep.OVER):
        p["grad_s"] = {"median": seconds, "q25": seconds, "q75": seconds, "min": seconds, "calls": 3}
    return p


def test_sizes_are_sorted_unique_and_at_least_one_per_group():
    assert sweep.parse_sizes("1e4,1000,10000") == [1000, 10000]
    with pytest.raises(ValueError):
        sweep.parse_sizes("50,1000")


def test_a_series_stops_after_a_point_over_budget_and_says_so():
    assert sweep.skip_reason([], 1000, budget_s=20) is None
    over = [point(10_000, seconds=0.5, status=sweep.OVER)]
    assert "series stopped at 10,000: over budget" == sweep.skip_reason(over, 100_000, budget_s=20)
    assert "stopped" in sweep.skip_reason([point(10_000, status=sweep.ERROR)], 100_000, budget_s=20)


def test_a_point_predicted_over_budget_is_skipped():
    done = [point(100_000, seconds=0.2)]  # (3 timed + 1 warm-up) x 0.2 s x 10 = 8 s at 1e6
    assert sweep.skip_reason(done, 1_000_000, budget_s=20) is None
    assert "predicted 8 s" in sweep.skip_reason(done, 1_000_000, budget_s=5)


def test_a_formulation_stops_at_its_largest_size():
    assert "stops at 1,000,000" in sweep.skip_reason([], 10_000_000, budget_s=20, max_obs=1_000_000)


def test_timed_calls_make_at_least_the_minimum_and_report_their_spread():
    calls = []
    timing = sweep.time_calls(lambda: calls.append(1), seconds=0.0)
    assert timing["calls"] == len(calls) == sweep.MIN_CALLS
    assert timing["min"] <= timing["q25"] <= timing["median"] <= timing["q75"]


def test_crossover_is_where_the_gpu_stays_ahead():
    gpu = {1_000: 1e-4, 10_000: 5e-4, 100_000: 2e-4, 1_000_000: 1e-3}  # a lucky win at 1e3, then behind
    cpu = {1_000: 2e-4, 10_000: 3e-4, 100_000: 9e-4, 1_000_000: 8e-3}
    points = [point(n, device="gpu", seconds=s) for n, s in gpu.items()]
    points += [point(n, device="cpu", seconds=s) for n, s in cpu.items()]
    points += [point(n, path="pytensor-c", device="cpu", seconds=s / 10) for n, s in cpu.items()]
    (entry,) = sweep.crossovers(points)
    assert entry["vs_same_path"] == 100_000 and entry["vs_same_path_note"] is None
    assert entry["vs_best_cpu"] is None and entry["vs_best_cpu_note"] == "no crossover up to 1,000,000"


def test_the_fastest_cpu_point_is_of_the_same_precision():
    points = [point(1_000, device="gpu", seconds=2e-4), point(1_000, device="cpu", seconds=3e-4),
              dict(point(1_000, device="cpu", seconds=1e-4, variant="radon_sorted@float32"), precision="float32")]
    (entry,) = sweep.crossovers(points)
    assert entry["vs_best_cpu"] == 1_000


def test_crossover_compares_only_sizes_measured_on_both_devices():
    points = [point(1_000, device="gpu", seconds=1.0), point(1_000, device="cpu", seconds=0.1),
              point(10_000, device="gpu", seconds=0.1), point(10_000, device="cpu", status=sweep.SKIPPED)]
    (entry,) = sweep.crossovers(points)
    assert entry["vs_same_path"] is None and entry["vs_same_path_note"] == "no crossover up to 1,000"


def test_json_and_markdown_are_written_after_each_point(tmp_path):
    payload = {"machine": "GPU H100; CPU test x 16", "versions": {"pymc": "9.9.9", "jax": None},
               "devices_measured": ["gpu", "cpu"], "paths": list(sweep.PATH_DEVICES), "variants": ["radon_sorted"],
               "points": [point(1_000, seconds=2e-4), point(1_000, device="cpu", seconds=1e-4),
                          point(10_000, seconds=3.5, status=sweep.OVER), point(10_000, device="cpu", status=sweep.SKIPPED)]}
    payload["points"][0].update(device_peak_mb=12.0, device_peak_rose=False)
    out = tmp_path / "sweep.json"
    sweep.save(out, payload)
    written = json.loads(out.read_text())
    assert written["points"] == payload["points"] and written["crossovers"][0]["vs_same_path"] is None
    table = out.with_suffix(".md").read_text()
    assert "| radon_sorted | 1,000 | 0.2 ms | 0.1 ms |" in table and "3.5 s (over budget)" in table
    assert "| <= 12 |" in table and "no crossover up to 1,000" in table and "pymc 9.9.9" in table
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sweep.json", "sweep.md"]


def test_unknown_variants_are_refused(capsys):
    with pytest.raises(SystemExit):
        sweep.parse_args(["out.json", "--variants", "radon_sorted,nope"])
    assert "unknown nope" in capsys.readouterr().err


def test_every_sweep_variant_names_a_formulation():
    models = load_models([str(FORMULATIONS)])
    assert {variant.model for variant in sweep.VARIANTS.values()} <= set(models)


@pytest.mark.parametrize("name", VARIANT_MODELS)
def test_formulations_see_radons_data_and_truth(name):
    models = load_models([str(FORMULATIONS)])
    radon, variant = models["radon"], models[name]
    assert variant.sizes == radon.sizes and variant.params == radon.params
    ours, theirs = variant.data(**variant.knobs("quick")), radon.data(**radon.knobs("quick"))
    rows = {tuple(r) for r in np.column_stack([ours["county"], ours["floor"], ours["log_radon"]])}
    assert rows == {tuple(r) for r in np.column_stack([theirs["county"], theirs["floor"], theirs["log_radon"]])}
    assert len(ours["county"]) == len(theirs["county"])
    assert variant.truth("quick") == radon.truth("quick") is not None


def test_sorted_formulations_keep_radons_order_and_the_shuffled_one_does_not():
    models = load_models([str(FORMULATIONS)])
    radon = models["radon"].data(n_obs=5000, n_counties=85)["county"]
    for name in ("radon_sorted", "radon_segment"):
        assert np.array_equal(models[name].data(n_obs=5000, n_counties=85)["county"], radon)
    assert not np.all(np.diff(models["radon_shuffled"].data(n_obs=5000, n_counties=85)["county"]) >= 0)


def run_nox(session, args, timeout):
    return subprocess.run([sys.executable, "-m", "nox", "-s", session, "--", *args], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=timeout, env=dict(os.environ))


@pytest.mark.e2e
def test_sweep_cpu_half_runs_in_the_pymc6_row(tmp_path):
    out = tmp_path / "sweep.json"
    proc = run_nox("sweep", [str(out), "--sizes", "1000,2000", "--devices", "cpu"], timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    payload = json.loads(out.read_text())
    assert payload["finished"] and payload["versions"]["pymc"].startswith("6.")
    points = {(p["variant"], p["path"], p["n"]): p for p in payload["points"]}
    assert {p["device"] for p in payload["points"]} == {"cpu"}
    for name, variant in sweep.VARIANTS.items():
        for path in variant.paths if "cpu" in variant.devices else ():
            for n in (1000, 2000):
                p = points.pop((name, path, n))
                assert p["status"] == sweep.OK, p
                assert p["grad_s"]["median"] > 0 and p["compile_s"] > 0 and p["dtype"] == variant.precision, p
    assert not points, f"points of no variant's paths: {sorted(points)}"
    assert "| radon_segment | 2,000 |" in out.with_suffix(".md").read_text()


@pytest.mark.e2e
def test_every_formulation_samples_radons_posterior(tmp_path):
    args = ["--quick", "--no-speed", f"--results-dir={tmp_path}", f"--models={FORMULATIONS}",
            "--backend=nutpie-numba", *[f"--model={m}" for m in VARIANT_MODELS]]
    proc = run_nox("cpu(pymc='6')", args, timeout=1500)
    (results,) = [p for p in tmp_path.glob("cpu-pymc6/*.json") if not p.name.endswith(".benchmark.json")]
    cells = {c["model"]: c for c in json.loads(results.read_text())["cells"]}
    assert set(cells) == set(VARIANT_MODELS), proc.stdout[-3000:]
    for name, cell in cells.items():
        assert cell["status"] == "passed", (name, cell.get("reason"))
        assert cell["params"]["mu_a"]["truth_mean"] > 0
    assert proc.returncode == 0
