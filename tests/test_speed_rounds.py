"""A cell's warm speed rounds repeat its first call, whatever length the cell needed to mix, and the figures
derived from them are taken at that call's length (harness.worker.speed, measurement version 6)."""

from types import SimpleNamespace

import pytest

from harness.worker import speed

TIER = SimpleNamespace(speed_rounds=3, timeout_s=60)


class Worker:
    """Answers the speed test's calls; a sampling call takes 1 ms of library time per draw."""

    def __init__(self, status="sampled"):
        self.calls, self.status = [], status

    def call(self, request, timeout):
        self.calls.append(request)
        if request["op"] == "sample":
            sample_s = request["draws"] / 1000
            return {"status": self.status, "reason": "boom", "timings": {"sample_s": sample_s, "wall_s": sample_s + 0.1}}
        if request["op"] == "grad_eval":
            return {"status": "ok", "seconds_per_eval": 1e-4}
        return {"status": "ok", "peak_rss_mb": 100.0}


class Benchmark:
    def pedantic(self, fn, rounds, iterations, warmup_rounds):
        for _ in range(rounds):
            fn()


def lengthened_cell():
    """Screened at 500 draws (cold: 8.5 s, compile included), lengthened to 4000 to mix."""
    return {
        "runs": [{"draws": 500, "seed": 11, "status": "sampled", "timings": {"wall_s": 8.5, "sample_s": 0.5}},
                 {"draws": 4000, "seed": 11, "status": "sampled", "timings": {"wall_s": 4.2, "sample_s": 4.0}}],
        "sampling": {"chains": 4, "tune": 1000, "draws": 4000, "seed": 11},
        "params": {"a": {"ess_bulk": 3200.0}, "b": {"ess_bulk": 8000.0}},
        "grad_evals": 4 * 4000 * 7,  # 7 leapfrog steps per kept draw
    }


def test_rounds_repeat_the_first_call_not_the_lengthened_run():
    worker = Worker()
    figures = speed.measure(worker, lengthened_cell(), TIER, Benchmark())
    samples = [c for c in worker.calls if c["op"] == "sample"]
    assert samples == [{"op": "sample", "draws": 500, "seed": 11}] * 3
    assert figures["warm_draws"] == 500 and figures["warm_sample_s"]["median"] == pytest.approx(0.5)
    assert figures["compile_s"] == pytest.approx(8.5 - 0.6)  # cold wall less the same call's warm wall
    # where the rounds sat in the run, and their cost (the fake answers at once)
    assert figures["started"].endswith("Z") and 0 <= figures["wall_s"] < 1


def test_ess_per_second_is_the_rounds_yield_at_the_judged_runs_ess_per_draw():
    figures = speed.measure(Worker(), lengthened_cell(), TIER, Benchmark())
    # 3200 effective of 4000 kept draws a chain: 400 in a 500-draw round of 0.5 s
    assert figures["ess_per_s"] == pytest.approx(3200 / 4000 * 500 / 0.5)
    assert figures["grad_evals_per_effective_draw"] == pytest.approx(4 * 4000 * 7 / 3200)
    # 28 steps a draw over 1000 tuning + 500 draws at 0.1 ms each: 4.2 s of gradients in 0.5 s of sampling
    assert figures["overhead_ratio"] == pytest.approx(0.5 / (4 * 7 * 1500 * 1e-4))


def test_figures_do_not_move_with_the_length_a_cell_needed_to_mix():
    short, long = lengthened_cell(), lengthened_cell()
    short["sampling"]["draws"], short["grad_evals"] = 1000, 4 * 1000 * 7
    short["params"] = {"a": {"ess_bulk": 800.0}, "b": {"ess_bulk": 2000.0}}
    a, b = (speed.measure(Worker(), cell, TIER, Benchmark()) for cell in (short, long))
    for key in ("ess_per_s", "compile_s", "grad_evals_per_effective_draw", "overhead_ratio"):
        assert a[key] == pytest.approx(b[key]), key
    assert a["warm_sample_s"] == b["warm_sample_s"]


def test_a_round_that_does_not_sample_is_a_speed_error():
    with pytest.raises(speed.SpeedError, match="timeout: boom"):
        speed.measure(Worker(status="timeout"), lengthened_cell(), TIER, Benchmark())
