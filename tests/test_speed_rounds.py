"""A cell's judged run counts as its warm speed round only where it really was a warm call."""

from types import SimpleNamespace

from harness.worker.speed import rounds_to_run, warm_judged_run

TIER = SimpleNamespace(speed_rounds=1)


def run(status="sampled", **cache):
    return {"status": status, "timings": {"wall_s": 2.0, "sample_s": 1.5, "compile_cache": cache or None}}


def test_the_first_call_compiled_so_a_round_is_still_run():
    cell = {"runs": [run()]}
    assert warm_judged_run(cell) is None and rounds_to_run(cell, TIER) == 1


def test_a_lengthened_run_without_a_compile_is_the_round():
    cell = {"runs": [run(), run(jax_hits=0, jax_misses=0)]}
    assert warm_judged_run(cell)["sample_s"] == 1.5 and rounds_to_run(cell, TIER) == 0
    assert rounds_to_run(cell, SimpleNamespace(speed_rounds=5)) == 4


def test_a_run_that_compiled_anew_is_not_warm():
    assert warm_judged_run({"runs": [run(), run(jax_hits=0, jax_misses=1)]}) is None


def test_compiles_the_cache_served_are_paid_by_every_repeat_so_the_run_is_warm():
    assert warm_judged_run({"runs": [run(), run(jax_hits=3, jax_misses=0)]})["sample_s"] == 1.5


def test_a_judged_run_that_did_not_sample_is_not_a_round():
    assert warm_judged_run({"runs": [run(), run(status="timeout")]}) is None
