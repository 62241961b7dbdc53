"""Speed figures of one cell, measured on its live worker after the correctness run (the cold call).

- warm rounds: the same sampling call repeated, timed by pytest-benchmark around each round trip; the
  library's own sampling time of each round gives `sample_s` (median, min, max). Where the judged run was
  itself a warm call (a run lengthened to mix, or a confirmation: not the worker's first call, and no JAX
  compile in it), it counts as the first warm round, so a tier of one round samples no extra time (not in
  tiers whose rounds run alone, `speed_alone`, while cells were evaluated side by side);
- compile_s = cold call's wall time - median warm wall time: what the first call pays beyond a repeat (where
  the cell's run was lengthened to mix, its first call did other work: the library's own split is used);
- ess_per_s = min bulk ESS (from the correctness draws) / median warm sample_s;
- grad_evals_per_effective_draw = leapfrog steps over the kept draws / min bulk ESS;
- overhead_ratio = warm sample_s / (estimated gradient evaluations x seconds per evaluation), where the
  estimate scales the kept draws' steps by (tune + draws) / draws, assuming warm-up trees are as deep as
  those of the kept draws (they are shallower early in warm-up, so the ratio errs high, never low);
- peak_rss_mb: largest resident set of the worker or its sampler processes; on GPU rows peak_device_mb,
  the most device memory jax's allocator handed the worker;
- transfer (GPU rows, JAX backends): host-to-device copy of the model's data and device-to-host copy of an
  array the size of the draws, timed apart from sampling (harness.common.devices.transfer_seconds).
"""

from __future__ import annotations

import statistics
from typing import Any, Dict, List, Optional

GRAD_EVAL_BUDGET_S = 2.0


class SpeedError(RuntimeError):
    def __init__(self, reply: Dict[str, Any]):
        super().__init__(f"{reply.get('status')}: {reply.get('reason')}")
        self.reply = reply


def spread(values: List[float]) -> Dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "rounds": len(values)}


def warm_judged_run(cell: Dict[str, Any]) -> Optional[Dict[str, float]]:
    """The timings of the cell's judged run where it was a warm call: not the worker's first call (which
    compiled), and no compile jax's persistent cache missed. Compiles the cache served are allowed: a path
    that recompiles inside every call (pymc's NUTS on JAX) pays them in every repeat too, the speed round
    included, and `compile_cache` records them."""
    runs = cell.get("runs") or []
    if len(runs) < 2 or runs[-1].get("status") != "sampled":
        return None
    timings = runs[-1].get("timings") or {}
    if (timings.get("compile_cache") or {}).get("jax_misses"):
        return None
    return timings


def rounds_to_run(cell: Dict[str, Any], tier: Any, judged_counts: bool = True) -> int:
    """Warm rounds still to sample: the tier's, less the judged run where it was already a warm one (and
    `judged_counts`: it ran as the rounds will, not beside other cells when the rounds run alone)."""
    return max(tier.speed_rounds - (1 if judged_counts and warm_judged_run(cell) else 0), 0)


def measure(worker: Any, cell: Dict[str, Any], tier: Any, benchmark: Any, rounds_left: int,
            on_gpu: bool = False) -> Dict[str, Any]:
    """Run `rounds_left` warm rounds under pytest-benchmark (`benchmark` may be None when there are none)
    and derive the speed figures; raise SpeedError on trouble."""
    judged = warm_judged_run(cell) if rounds_left < tier.speed_rounds else None
    rounds: List[Dict[str, float]] = [judged] if judged else []

    def one_round() -> None:
        reply = worker.call({"op": "sample", "draws": cell["sampling"]["draws"], "seed": cell["sampling"]["seed"]}, tier.timeout_s)
        if reply["status"] != "sampled":
            raise SpeedError(reply)
        rounds.append(reply["timings"])

    if rounds_left:
        benchmark.pedantic(one_round, rounds=rounds_left, iterations=1, warmup_rounds=0)
    warm_wall = spread([r["wall_s"] for r in rounds])
    warm_sample = spread([r["sample_s"] for r in rounds])
    speed: Dict[str, Any] = {"warm_wall_s": warm_wall, "warm_sample_s": warm_sample,
                             "judged_run_is_a_round": len(rounds) > rounds_left}

    cold = cell["runs"][0]  # the cell's first sampling call paid the compile
    speed["cold_wall_s"] = cold["timings"]["wall_s"]
    if cold["draws"] == cell["sampling"]["draws"]:  # same work as a warm round: the difference is the compile
        speed["compile_s"] = max(cold["timings"]["wall_s"] - warm_wall["median"], 0.0)
    else:  # the run was lengthened to mix: the library's own split of the first call
        speed["compile_s"] = cold["timings"].get("compile_s")

    min_ess = min(p["ess_bulk"] for p in cell["params"].values())
    speed["ess_per_s"] = min_ess / warm_sample["median"]
    draw_steps = cell.get("grad_evals")
    reply = worker.call({"op": "grad_eval", "seconds": GRAD_EVAL_BUDGET_S}, tier.timeout_s)
    per_eval = reply.get("seconds_per_eval") if reply["status"] == "ok" else None
    speed["seconds_per_grad_eval"] = per_eval
    if reply["status"] != "ok":
        speed["grad_eval_error"] = reply.get("reason")
    if draw_steps:
        speed["grad_evals_per_effective_draw"] = draw_steps / min_ess
        if per_eval:
            settings = cell["sampling"]
            total_steps = draw_steps * (settings["tune"] + settings["draws"]) / settings["draws"]
            speed["overhead_ratio"] = warm_sample["median"] / (total_steps * per_eval)
    if on_gpu:
        transfer = worker.call({"op": "transfer"}, tier.timeout_s)
        transfer.pop("status")
        speed["transfer"] = transfer
    memory = worker.call({"op": "memory"}, 60)
    speed["peak_rss_mb"] = memory.get("peak_rss_mb")
    if memory.get("peak_device_mb") is not None:  # GPU rows only
        speed["peak_device_mb"] = memory["peak_device_mb"]
    return speed


def apply(cell: Dict[str, Any], speed: Dict[str, Any]) -> None:
    """Fold the speed figures into the cell: warm sampling time and cold-minus-warm compile replace the
    cold call's split; the cold figures stay under `speed`."""
    cell["speed"] = speed
    cell["timings"]["compile_s"] = speed["compile_s"]
    cell["timings"]["sample_s"] = speed["warm_sample_s"]["median"]
    cell["ess_per_s"] = speed["ess_per_s"]
