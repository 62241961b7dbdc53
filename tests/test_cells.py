"""Cell statuses: faults injected through the user-model mechanism (--models DIR) become statuses."""

from __future__ import annotations

import textwrap

import pytest

from harness.common.matrix import KnownFailure, Row, Tier
from harness.common.plan import Plan
from harness.common.statuses import (
    CRASHED,
    DEVICE_MISSING,
    DID_NOT_MIX,
    ERROR,
    FAILED,
    KNOWN_FAILURE,
    MOVED,
    NOT_APPLICABLE,
    PASSED,
    TIMEOUT,
    UNAVAILABLE,
)
from harness.worker.evaluation import apply_known_failure, evaluate
from models import ModelLoadError, load_models

FAULTY_MODELS = textwrap.dedent(
    '''
    import os, signal, time
    from models.spec import ModelSpec

    class Faulty(ModelSpec):
        params = ["x"]
        sizes = {"quick": {}}
        fault = ""

        def data(self):
            if self.fault == "segfault":
                os.kill(os.getpid(), signal.SIGSEGV)
            if self.fault == "hang":
                time.sleep(600)
            if self.fault == "raise":
                raise ValueError("broken data generator")
            if self.fault == "sigkill":  # what the kernel's OOM killer does
                os.kill(os.getpid(), signal.SIGKILL)
            if self.fault == "oom":  # grows ~1 GB/s up to 4 GB, then waits: the watchdog must stop it first
                hog = []
                while len(hog) < 200:
                    hog.append(b"x" * (20 * 2**20))  # written, so resident
                    time.sleep(0.02)
                time.sleep(600)
            return {}

    def make(name, fault):
        model = Faulty()
        model.name, model.fault = name, fault
        return model
    '''
)


@pytest.fixture
def faulty_dir(tmp_path):
    (tmp_path / "faulty_base.py").write_text(FAULTY_MODELS)
    for fault in ("segfault", "hang", "raise", "sigkill", "oom", "none"):
        (tmp_path / f"faulty_{fault}.py").write_text(f"from faulty_base import make\nMODEL = make('f_{fault}', '{fault}')\n")
    return tmp_path


def plan_for(model_dir, timeout_s=20, memory_limit_mb=0, **extra):
    row = Row.from_dict({"id": "cpu-test", "session": "cpu", "python": "3.12", "api": "pymc", "backends": ["pymc-c"]})
    tier = Tier(name="quick", size="quick", chains=2, tune=10, draws=10, timeout_s=timeout_s, speed_rounds=1,
                memory_limit_mb=memory_limit_mb)
    return Plan(row=row, tiers={"quick": tier}, tier_name="quick", model_dirs=[str(model_dir)], **extra)


@pytest.fixture
def models(faulty_dir, monkeypatch):
    monkeypatch.syspath_prepend(str(faulty_dir))
    monkeypatch.setenv("PYTHONPATH", str(faulty_dir))
    return load_models([str(faulty_dir)])


@pytest.mark.parametrize(
    "fault, status, words",
    [("segfault", CRASHED, "SIGSEGV"), ("raise", ERROR, "broken data generator"),
     ("sigkill", CRASHED, "SIGKILL (killed: out of memory?)")],
)
def test_faults_become_statuses(faulty_dir, models, fault, status, words):
    cell, _ = evaluate(plan_for(faulty_dir), models[f"f_{fault}"], "pymc-c", seed=1)
    assert cell["status"] == status
    assert words in cell["reason"]
    assert "output" in cell


def test_hang_becomes_timeout(faulty_dir, models):
    cell, _ = evaluate(plan_for(faulty_dir, timeout_s=3), models["f_hang"], "pymc-c", seed=1)
    assert cell["status"] == TIMEOUT
    assert cell["timings"]["cell_wall_s"] < 15


def test_memory_hog_is_killed_at_the_tier_limit(faulty_dir, models):
    cell, _ = evaluate(plan_for(faulty_dir, memory_limit_mb=400), models["f_oom"], "pymc-c", seed=1)
    assert cell["status"] == CRASHED and cell["reason"].startswith("out of memory"), cell["reason"]
    assert "over the limit of 400 MB" in cell["reason"]
    assert cell["timings"]["cell_wall_s"] < 15  # killed on the way up, not at the timeout


def test_process_group_memory_is_read():
    import os

    from harness.worker.handle import group_rss_mb

    assert group_rss_mb(os.getpgrp()) > 10  # this test process alone holds more than 10 MB
    assert group_rss_mb(2**22 + 12345) == 0  # no such group


def test_missing_backend_package_is_unavailable(faulty_dir, models):
    try:
        import pymc  # noqa: F401

        pytest.skip("pymc is installed here")
    except ImportError:
        pass
    cell, _ = evaluate(plan_for(faulty_dir), models["f_none"], "pymc-c", seed=1)
    assert cell["status"] == UNAVAILABLE and "pymc" in cell["reason"]


def test_cells_that_cannot_run_are_not_run(faulty_dir, models):
    model = models["f_none"]
    assert evaluate(plan_for(faulty_dir, unavailable={"*": "install failed: x"}), model, "pymc-c", 1)[0]["status"] == UNAVAILABLE
    assert evaluate(plan_for(faulty_dir, device_missing="no GPU"), model, "pymc-c", 1)[0]["status"] == DEVICE_MISSING
    model.discrete = True
    assert evaluate(plan_for(faulty_dir), model, "nutpie-numba", 1)[0]["status"] == NOT_APPLICABLE


def test_known_failures_are_marked_both_ways():
    entry = KnownFailure(row="*", backend="*", model="*", reason="broken upstream", link="https://example.org/1")
    broken = apply_known_failure({"status": ERROR, "reason": "TypeError"}, entry)
    assert broken["status"] == KNOWN_FAILURE and "broken upstream" in broken["reason"]
    fixed = apply_known_failure({"status": PASSED, "reason": None}, entry)
    assert fixed["status"] == PASSED and "remove its entry" in fixed["reason"]


def test_user_model_errors_name_the_file(tmp_path):
    (tmp_path / "bad.py").write_text("import not_a_module\n")
    with pytest.raises(ModelLoadError, match="bad.py: cannot import it"):
        load_models([str(tmp_path)])
    with pytest.raises(ModelLoadError, match="no such folder"):
        load_models([str(tmp_path / "missing")])


# ------------------------------------------------------------------------ the two-stage verdict's flow


class FakeWorker:
    """Answers `sample` with summaries chosen by (seed, draws), so the flow is exercised without sampling."""

    def __init__(self, answer):
        self.answer, self.calls, self.age_s, self.cores, self.started_at = answer, [], 1.0, None, "2026-11-27T00:00:00Z"

    def call(self, request, timeout_s):
        if request["op"] == "memory":
            return {"status": "ok", "peak_rss_mb": 10.0}
        if request["op"] == "grad_prepare":
            self.calls.append("grad_prepare")
            return {"status": "ok"}
        self.calls.append((request["seed"], request["draws"]))
        params = self.answer(request["seed"], request["draws"])
        return {"status": "sampled", "params": params, "timings": {"compile_s": 1.0, "sample_s": 2.0, "wall_s": 3.0}}

    def close(self):
        pass


def summary(mean=0.0, r_hat=1.0, ess=3000.0):
    return {"x": {"mean": mean, "sd": 1.0, "mcse_mean": 0.01, "mcse_sd": 0.01, "ess_bulk": ess, "r_hat": r_hat}}


class Known(object):
    name, discrete = "known", False

    def truth(self, size):
        return {"x": {"mean": 0.0, "sd": 1.0}}


def run_flow(monkeypatch, answer, keep_worker=False):
    from harness.worker import evaluation

    worker = FakeWorker(answer)
    monkeypatch.setattr(evaluation, "start_worker", lambda plan, spec, cpus=None: worker)
    plan = plan_for("/nowhere")
    plan.tiers["quick"] = Tier(name="quick", size="quick", chains=4, tune=10, draws=500, timeout_s=20,
                               speed_rounds=1, max_draws=2000)
    cell, _ = evaluate(plan, Known(), "pymc-c", seed=11, keep_worker=keep_worker)
    return cell, worker.calls


def test_a_worker_kept_for_its_speed_test_has_its_gradient_probe_compiled_first(monkeypatch):
    """The speed test times the gradient alone on some tiers: its compile is paid with the cell, beside others."""
    cell, calls = run_flow(monkeypatch, lambda seed, draws: summary(), keep_worker=True)
    assert cell["status"] == PASSED and calls[-1] == "grad_prepare"
    _, calls = run_flow(monkeypatch, lambda seed, draws: summary())
    assert "grad_prepare" not in calls  # no speed test: nothing to prepare


def test_a_chance_failure_is_confirmed_away_on_a_fresh_seed(monkeypatch):
    cell, calls = run_flow(monkeypatch, lambda seed, draws: summary(mean=0.05 if seed == 11 else 0.0))
    assert cell["status"] == PASSED and len(calls) == 2 and calls[1][0] != 11
    assert calls[1][1] == 2000  # the confirmation draws 4x the screen's (the tier's cap here)
    assert cell["runs"][0]["z_problems"] and not cell["runs"][1]["z_problems"]
    assert cell["runs"][0]["z_tests"] == 2 and cell["runs"][0]["max_abs_z"] > cell["runs"][1]["max_abs_z"]


def test_a_wrong_posterior_fails_both_stages(monkeypatch):
    cell, calls = run_flow(monkeypatch, lambda seed, draws: summary(mean=0.05))
    assert cell["status"] == FAILED and "two independent seeds" in cell["reason"] and len(calls) == 2
    screen, confirmation = cell["reason"].split("; confirmation")
    assert "mean off the truth: x" in screen and "mean off the truth: x" in confirmation  # both stages named


def test_a_slow_mixer_samples_longer_until_it_mixes(monkeypatch):
    cell, calls = run_flow(monkeypatch, lambda seed, draws: summary(ess=draws * 0.2))  # ESS 400 needs 2000 draws
    assert cell["status"] == PASSED
    assert [d for _, d in calls] == [500, 2000] and cell["sampling"]["draws"] == 2000


def test_a_run_that_never_mixes_is_did_not_mix_not_failed(monkeypatch):
    cell, calls = run_flow(monkeypatch, lambda seed, draws: summary(mean=3.0, r_hat=1.2))
    assert cell["status"] == DID_NOT_MIX and "within 2000 draws" in cell["reason"] and "R-hat" in cell["reason"]
    assert [d for _, d in calls] == [500, 1000, 2000]


def test_a_moved_cell_is_recorded_with_its_reason(faulty_dir, models):
    plan = plan_for(faulty_dir)
    move = {"model": "f_none", "backend": "pymc-c", "to": "full", "reason": "too slow here"}
    plan.tiers["quick"] = Tier(**dict(plan.tiers["quick"].__dict__, moved=(move,)))
    cell, _ = evaluate(plan, models["f_none"], "pymc-c", 1)
    assert cell["status"] == MOVED and cell["reason"] == "moved to the full tier: too slow here"


def test_the_confirmation_sees_a_small_shift_the_screen_saw_only_by_chance(monkeypatch):
    """A true shift of 0.015 is z = 1.5 at the screen's MCSE (0.01): a confirmation of the screen's length
    would pass it (limit 1.96 for 2 tests at 10%); at 4x the draws the MCSE halves and z = 3 fails it."""
    def answer(seed, draws):
        mcse = 0.01 * (500 / draws) ** 0.5
        mean = 0.03 if seed == 11 else 0.015  # the screen's seed happened to land far out
        return {"x": {"mean": mean, "sd": 1.0, "mcse_mean": mcse, "mcse_sd": mcse, "ess_bulk": 3000.0, "r_hat": 1.0}}

    cell, calls = run_flow(monkeypatch, answer)
    assert cell["status"] == FAILED and [d for _, d in calls] == [500, 2000]


def test_no_worker_starts_once_the_session_is_stopping(monkeypatch):
    from harness.worker import handle

    monkeypatch.setattr(handle, "STOPPING", [])
    handle.kill_all(stop_new=True)
    with pytest.raises(handle.SessionStopping):
        handle.WorkerHandle({"model": "x"})
