"""The timing probe's batches and its injected cost (harness.worker.timing), without a model."""

from __future__ import annotations

import time

import pytest

from harness.worker import timing


def spin(seconds):
    def call():
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            pass
    return call


def test_batches_of_many_calls():
    median_call, calls = timing.warm_up(spin(2e-4), warmup_calls=5, batch_s=0.01)
    medians, means = zip(*(timing.one_batch(spin(2e-4), calls) for _ in range(4)))
    assert calls >= 1 and median_call >= 2e-4
    assert min(medians) >= 2e-4 and min(means) >= 2e-4  # a spin of 0.2 ms never takes less; a loaded machine makes it take more


def test_the_injected_cost_is_per_call():
    calls = []
    slower = timing.with_injected_cost(lambda: calls.append(1), 2e-3)
    start = time.perf_counter()
    for _ in range(5):
        slower()
    assert time.perf_counter() - start >= 5 * 2e-3 and len(calls) == 5


def test_a_fake_clock_gives_exact_means():
    ticks = iter(range(10_000))
    median_call, calls = timing.warm_up(lambda: None, warmup_calls=3, batch_s=5, clock=lambda: next(ticks))
    assert median_call == 1 and calls == 5  # each call: one tick between its start and its end
    median, mean = timing.one_batch(lambda: None, calls, clock=lambda: next(ticks))
    assert median == 1 and mean == pytest.approx(11 / 5)  # 5 calls of 2 ticks each, and the batch's own
    out = timing.summary([1, 3, 2], [2, 4, 3], calls=5, median_call=1)
    assert out["median_s"] == 2 and out["mean_s"] == 3


def test_main_writes_one_json_line_for_an_unknown_model(capfd):
    assert timing.main(["timing", '{"model": "no-such-model", "backend": "pymc-c"}']) == 1


def test_serve_answers_one_request_a_line_and_a_failed_request_does_not_end_it(monkeypatch):
    class FakeProbe:
        def __init__(self, spec):
            self.calls = 0

        def ready(self):
            return {"status": "ready"}

        def batch(self, inject):
            self.calls += 1
            return {"status": "ok", "median_s": 1e-5 * (1 + inject), "mean_s": 1e-5}

        def sample(self, inject):
            raise RuntimeError("no sampler\nsecond line")

    monkeypatch.setattr(timing, "Probe", FakeProbe)
    replies = []
    requests = ['{"op": "batch"}', "", '{"op": "sample", "inject": 0.1}', '{"op": "batch", "inject": 0.5}']
    timing.serve({}, iter(requests), replies.append)
    assert [r["status"] for r in replies] == ["ready", "ok", "error", "ok"]
    assert replies[2]["reason"] == "RuntimeError: no sampler" and replies[3]["median_s"] == pytest.approx(1.5e-5)


def test_a_process_sample_figure_is_the_median_of_its_warm_calls_with_the_first_calls_counts():
    calls = [{"chains": 2, "tune": 500, "draws": 500, "seed": 1, "grad_evals": 4000, "sample_s": s, "divergences": 0}
             for s in (1.0, 3.0, 2.0)]
    out = timing.sample_summary(calls, per_eval=1e-4)
    assert out["sample_s"] == 2.0 and out["sample_s_calls"] == [1.0, 3.0, 2.0]
    assert out["grad_evals_per_draw"] == 4.0
    assert out["overhead_per_step_s"] == pytest.approx(2.0 / 8000 - 1e-4)  # tuning's evaluations estimated alike
