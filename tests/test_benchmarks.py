"""The asv benchmarks (benchmarks/benchmarks.py), driven the way asv drives them, with a fake sampler.

asv keys `setup_cache` by the module and line it is written on and hands one result to every benchmark
with that key, so a structure that shares a key between models gives every model the first model's
figures. These tests discover the benchmarks with asv_runner, run the setup_cache once per key (as asv
does, through a pickle), then every track benchmark of every (model, backend), and check each model got
figures of its own. The worker that samples a pair is replaced by a fake whose draws depend on the model.
"""

from __future__ import annotations

import ast
import json
import math
import os
import pickle
import sys
from collections import defaultdict

import pytest
from asv_runner.discovery import disc_benchmarks
from conftest import REPO_ROOT

from harness.common.matrix import load
from harness.common.plan import row_plan
from models import load_models

BENCHMARK_DIR = str(REPO_ROOT / "benchmarks")
MODELS = ["conjugate", "eight_schools", "discrete_cluster"]
# fake figures per model: (cold wall s, warm wall s, warm sampling s, min bulk ESS)
FAKE = {"conjugate": (9.0, 2.0, 1.5, 3000.0), "eight_schools": (5.0, 4.0, 3.0, 600.0),
        "discrete_cluster": (7.0, 3.0, 2.5, 400.0)}


class FakeWorker:
    """Answers `sample` like harness.worker.child: cold first, then warm, with the model's own figures."""

    def __init__(self, spec):
        self.model, self.backend, self.calls = spec["model"], spec["backend"], 0

    def call(self, request, timeout_s):
        assert request == {"op": "sample"}
        if self.backend == "nutpie-numba" and self.model == "eight_schools":
            return {"status": "error", "reason": "ValueError: boom", "output": "log tail"}
        cold_s, warm_s, sample_s, ess = FAKE[self.model]
        self.calls += 1
        wall = cold_s if self.calls == 1 else warm_s
        return {"status": "sampled", "params": {"a": {"ess_bulk": ess}, "b": {"ess_bulk": 2 * ess}},
                "timings": {"wall_s": wall, "sample_s": sample_s}, "divergences": 0, "grad_evals": None}

    def close(self):
        pass


def _import_benchmarks(plan_path, monkeypatch):
    """Import benchmarks/ afresh as asv_runner's discovery does; return its benchmarks, the module, the workers."""
    for name in [m for m in sys.modules if m == "benchmarks" or m.startswith("benchmarks.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setenv("PYMC_MATRIX_ASV_PLAN", str(plan_path))
    monkeypatch.syspath_prepend(str(REPO_ROOT))
    found = list(disc_benchmarks(BENCHMARK_DIR))
    module = sys.modules["benchmarks.benchmarks"]
    workers = []

    def start_worker(plan, spec):
        workers.append(FakeWorker(spec))
        return workers[-1]

    monkeypatch.setattr(module, "start_worker", start_worker)
    return {b.name: b for b in found}, module, workers


@pytest.fixture
def environ():
    """The benchmarks set the cells' thread and jax variables in os.environ; put it back afterwards."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def benchmarks(tiny_matrix, tmp_path, monkeypatch, environ):
    matrix = load(tiny_matrix())
    plan = row_plan(matrix, matrix.rows["cpu-pymc6"], {}, None, {})
    plan.tier_name = "quick"
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(dict(plan.to_dict(), models=MODELS)))
    return _import_benchmarks(path, monkeypatch)


def _run_all(found):
    """What `asv run` does: each setup_cache once per key (pickled to disk), then every benchmark and
    parameter with its key's cache; {(benchmark, model, backend): result or NaN for a skip}."""
    caches, results, setups = {}, {}, defaultdict(int)
    for name, bench in sorted(found.items()):
        key = bench.setup_cache_key
        if key is not None and key not in caches:
            caches[key] = pickle.loads(pickle.dumps(bench.do_setup_cache()))
            setups[key] += 1
        for index in range(math.prod(len(p) for p in bench._params)):
            bench.set_param_idx(index)
            params = tuple(bench._current_params)
            if hasattr(bench, "set_cache"):  # asv_runner >= 0.3; before, the cache went in front of the params
                bench.set_cache(caches.get(key))
            elif key is not None:
                bench.insert_param(caches[key])
            if bench.do_setup():
                results[(name,) + params] = math.nan
                continue
            results[(name,) + params] = bench.do_run()
    return results, setups


def test_one_time_and_one_track_family_over_plan_models_and_row_backends(benchmarks):
    found, module, _ = benchmarks
    assert sorted(found) == ["benchmarks.Time.time_sample", "benchmarks.Track.track_compile_s",
                             "benchmarks.Track.track_ess_per_s"]
    for bench in found.values():
        assert bench.param_names == ["model", "backend"]
        assert bench._params == [MODELS, ["pymc-c", "nutpie-numba"]]
    assert found["benchmarks.Track.track_ess_per_s"].unit == "ESS/s"
    assert found["benchmarks.Track.track_compile_s"].unit == "seconds"
    assert found["benchmarks.Time.time_sample"].setup_cache_key is None


def test_each_model_gets_its_own_figures_from_one_setup_cache(benchmarks):
    found, module, workers = benchmarks
    results, setups = _run_all({n: b for n, b in found.items() if ".Track." in n})
    assert list(setups.values()) == [1]  # one key for both track methods: every pair sampled once, not twice
    assert sorted((w.model, w.backend) for w in workers) == sorted(
        (m, b) for m in MODELS for b in ("pymc-c", "nutpie-numba") if (m, b) != ("discrete_cluster", "nutpie-numba"))
    for model in MODELS:
        cold_s, warm_s, sample_s, ess = FAKE[model]
        assert results[("benchmarks.Track.track_ess_per_s", model, "pymc-c")] == ess / sample_s
        assert results[("benchmarks.Track.track_compile_s", model, "pymc-c")] == cold_s - warm_s
    for method in ("track_ess_per_s", "track_compile_s"):
        figures = {results[(f"benchmarks.Track.{method}", m, "pymc-c")] for m in MODELS}
        assert len(figures) == len(MODELS), f"{method}: models share figures {figures}"


def test_pairs_that_cannot_run_or_break_are_skipped_with_a_reason(benchmarks, capsys):
    found, module, _ = benchmarks
    results, _ = _run_all({n: b for n, b in found.items() if ".Track." in n})
    out = capsys.readouterr().out
    # discrete model, gradient-only sampler: not applicable; eight_schools on nutpie-numba: broken (the fake)
    for pair in (("discrete_cluster", "nutpie-numba"), ("eight_schools", "nutpie-numba")):
        assert math.isnan(results[("benchmarks.Track.track_ess_per_s",) + pair])
    assert "not-applicable: nutpie-numba samples continuous variables only" in out
    assert "error: ValueError: boom" in out
    assert not math.isnan(results[("benchmarks.Track.track_ess_per_s", "conjugate", "nutpie-numba")])


def test_time_compiles_once_and_times_warm_calls(benchmarks, monkeypatch):
    found, module, _ = benchmarks
    cold, warm = [], []

    class FakeCell:  # harness.worker.child.WorkerChild without pymc: the first sample call is the cold one
        def __init__(self, spec):
            self.model_spec, self.backend = module.MODELS[spec["model"]], spec["backend"]
            self.model = f"{spec['model']} model"

        def sample(self):
            cold.append(self.model)
            return {"status": "sampled"}

    monkeypatch.setattr(module, "WorkerChild", FakeCell)
    monkeypatch.setattr(module, "sampler_for", lambda backend: lambda model, config, names: warm.append((model, names)))
    bench = found["benchmarks.Time.time_sample"]
    bench.set_param_idx(2)  # (eight_schools, pymc-c)
    assert not bench.do_setup()
    result = bench.do_run()  # asv's timing loop, which re-runs setup before each repeat after the first
    assert len(result["samples"]) == len(warm) == 3
    assert cold == ["eight_schools model"]  # compiled once, however often asv set up again
    assert warm[0] == ("eight_schools model", ["mu", "tau", "theta_tilde"])


def test_time_setup_skips_where_the_row_cannot_sample(benchmarks, monkeypatch):
    found, module, _ = benchmarks
    # the harness's own environment has no pymc: the cell says `unavailable`, and the benchmark skips
    monkeypatch.setattr(module.WorkerChild, "blocked", lambda self: {"status": "unavailable", "reason": "no pymc here"})
    with pytest.raises(NotImplementedError, match="unavailable: no pymc here"):
        module.Time().setup("conjugate", "pymc-c")
    with pytest.raises(NotImplementedError, match="not-applicable"):
        module.Time().setup("discrete_cluster", "nutpie-numba")


def test_without_a_plan_every_benchmark_skips(tmp_path, monkeypatch, environ):
    found, module, _ = _import_benchmarks(tmp_path / "missing.json", monkeypatch)
    results, _ = _run_all(found)
    assert results and all(math.isnan(value) for value in results.values())


def test_asv_session_models_exist():
    """The asv session's model lists (noxfile ASV_MODELS, which its plan carries) name real models."""
    tree = ast.parse((REPO_ROOT / "noxfile.py").read_text())
    value = next(node.value for node in tree.body if isinstance(node, ast.Assign)
                 and any(getattr(t, "id", None) == "ASV_MODELS" for t in node.targets))
    asv_models = ast.literal_eval(value)
    assert set(asv_models) == {"quick", "full"}
    assert asv_models["quick"] and set(asv_models["quick"]) <= set(load_models())
