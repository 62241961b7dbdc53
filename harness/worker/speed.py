"""Speed figures of one cell, measured on its live worker after the correctness run (the cold call).

- warm rounds: the cell's first call (the tier's draws and the run's seed) repeated, timed by pytest-benchmark
  around each round trip; the library's own sampling time of each round gives `sample_s` (median, min,
  max). Always the first call, never the run lengthened to mix: how long a cell had to run to mix changes
  from point to point of the timeline, and a warm time over 4000 draws next to one over 1000 would be a
  step of the harness, not of the ecosystem. It is also the cheapest call that is the same at every point;
- compile_s = cold call's wall time - median warm wall time: the same call, so the difference is what the
  first call pays beyond a repeat (compiling, first-call costs);
- ess_per_s = the effective draws a warm round yields per second: min bulk ESS per kept draw (from the
  judged, longest, run: the steadiest estimate) x the round's draws / median warm sample_s;
- grad_evals_per_effective_draw = leapfrog steps over the judged run's kept draws / min bulk ESS;
- overhead_ratio = warm sample_s / (estimated gradient evaluations x seconds per evaluation), where the
  estimate takes the judged run's steps per kept draw over the round's tune + draws, assuming warm-up trees
  are as deep as those of the kept draws (they are shallower early in warm-up, so the ratio errs high,
  never low);
- peak_rss_mb: largest resident set of the worker or its sampler processes; on GPU rows peak_device_mb,
  the most device memory jax's allocator handed the worker;
- transfer (GPU rows, JAX backends): host-to-device copy of the model's data and device-to-host copy of an
  array the size of the draws, timed apart from sampling (harness.common.devices.transfer_seconds).
"""

from __future__ import annotations

import statistics
import time
from typing import Any, Dict, List

from harness.worker.results import utc_now

GRAD_EVAL_BUDGET_S = 2.0


class SpeedError(RuntimeError):
    def __init__(self, reply: Dict[str, Any]):
        super().__init__(f"{reply.get('status')}: {reply.get('reason')}")
        self.reply = reply


def spread(values: List[float]) -> Dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "rounds": len(values)}


def measure(worker: Any, cell: Dict[str, Any], tier: Any, benchmark: Any, on_gpu: bool = False) -> Dict[str, Any]:
    """Run the tier's warm rounds under pytest-benchmark and derive the speed figures; raise SpeedError on
    trouble."""
    first = cell["runs"][0]  # the cell's first sampling call: the tier's draws; it paid the compile
    started, clock = utc_now(), time.perf_counter()
    rounds: List[Dict[str, float]] = []

    def one_round() -> None:
        reply = worker.call({"op": "sample", "draws": first["draws"], "seed": first["seed"]}, tier.timeout_s)
        if reply["status"] != "sampled":
            raise SpeedError(reply)
        rounds.append(reply["timings"])

    benchmark.pedantic(one_round, rounds=tier.speed_rounds, iterations=1, warmup_rounds=0)
    warm_wall = spread([r["wall_s"] for r in rounds])
    warm_sample = spread([r["sample_s"] for r in rounds])
    speed: Dict[str, Any] = {"warm_wall_s": warm_wall, "warm_sample_s": warm_sample, "warm_draws": first["draws"]}
    speed["cold_wall_s"] = first["timings"]["wall_s"]
    speed["compile_s"] = max(first["timings"]["wall_s"] - warm_wall["median"], 0.0)

    settings = cell["sampling"]  # the judged run's
    min_ess = min(p["ess_bulk"] for p in cell["params"].values())
    speed["ess_per_s"] = min_ess / settings["draws"] * first["draws"] / warm_sample["median"]
    draw_steps = cell.get("grad_evals")
    reply = worker.call({"op": "grad_eval", "seconds": GRAD_EVAL_BUDGET_S}, tier.timeout_s)
    per_eval = reply.get("seconds_per_eval") if reply["status"] == "ok" else None
    speed["seconds_per_grad_eval"] = per_eval
    if reply["status"] != "ok":
        speed["grad_eval_error"] = reply.get("reason")
    if draw_steps:
        speed["grad_evals_per_effective_draw"] = draw_steps / min_ess
        if per_eval:
            total_steps = draw_steps / settings["draws"] * (settings["tune"] + first["draws"])
            speed["overhead_ratio"] = warm_sample["median"] / (total_steps * per_eval)
    if on_gpu:
        transfer = worker.call({"op": "transfer"}, tier.timeout_s)
        transfer.pop("status")
        speed["transfer"] = transfer
    memory = worker.call({"op": "memory"}, 60)
    speed["peak_rss_mb"] = memory.get("peak_rss_mb")
    if memory.get("peak_device_mb") is not None:  # GPU rows only
        speed["peak_device_mb"] = memory["peak_device_mb"]
    speed["started"], speed["wall_s"] = started, time.perf_counter() - clock  # rounds, gradient timing, memory
    return speed


def apply(cell: Dict[str, Any], speed: Dict[str, Any]) -> None:
    """Fold the speed figures into the cell: warm sampling time and cold-minus-warm compile replace the
    cold call's split; the cold figures stay under `speed`."""
    cell["speed"] = speed
    cell["timings"]["compile_s"] = speed["compile_s"]
    cell["timings"]["sample_s"] = speed["warm_sample_s"]["median"]
    cell["ess_per_s"] = speed["ess_per_s"]
