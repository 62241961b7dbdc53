"""The timing probe of one (model, backend): repeated timings of the gradient, in a fresh process.

    python -m harness.worker.timing SPEC.json      (or SPEC as inline JSON)

Prints one JSON line on stdout (library chatter goes to stderr). A comparison (harness.host.compare) starts
many of these, each a fresh process, alternating two environments, pyperf style: K processes x M batches,
each batch many calls. Each call is timed on its own; a batch gives the median and the mean of its calls.
A process's own figure, `median_s`, is the median over its batches of the per-call medians: on a shared
machine a call the scheduler interrupts costs 10-100x a normal one, and a batch's mean carries those
interruptions (measured 2026-11-26 at a load of 10 on 2 cores: batch means 2-10x the typical call), while
the median of calls does not. `mean_s` (the median of the batch means, pyperf's figure) is kept beside it.
The spread between processes is what the comparison's interval is computed from.

SPEC keys (defaults in brackets): model, backend, api ["pymc"], size ["quick"], precision ["float64"],
model_dirs [[]], batches [10], batch_s [0.1] (the target length of one batch; the calls per batch are
fixed from the warm-up's median), warmup_calls [20], inject [0.0], and `sample` (optional:
{chains, tune, draws, seed}) for the exact counts and the sampler's overhead per step.

- `compile_s`: building the compiled log density + gradient and its first call (model building and data
  generation excluded). With a warm compile cache (PyTensor's ~/.pytensor, JAX's persistent cache) this is
  the cache load, as on a second run of the same stack.
- `batch_medians_s`, `batch_means_s`: seconds per gradient evaluation, per batch; `median_s` and `mean_s`
  the median of each over the batches.
- `inject` (test only): after each timed call, busy-wait `inject` x the median of the warm-up calls'
  own time. The extra cost is inside the timed region, per evaluation: an injected slowdown of 10% makes
  the figure 10% larger. The campaign of docs/verdicts.md measures the detector's power with it.
- `sample`: one cold and one warm sampling call; from the warm one the exact counts (gradient evaluations
  per draw, the tree-depth distribution, divergences) and `overhead_per_step_s` = warm sampling time /
  gradient evaluations (tuning included, scaled as harness.worker.speed does) - seconds per evaluation:
  what the sampler's loop adds to each leapfrog step.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from typing import Any, Callable, Dict, List

DEFAULTS = {"api": "pymc", "size": "quick", "precision": "float64", "model_dirs": [], "batches": 10,
            "batch_s": 0.1, "warmup_calls": 20, "inject": 0.0, "sample": None}


def busy_wait(seconds: float) -> None:
    """Spin (not sleep: a sleeping process gives the core away, a slower gradient does not)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def with_injected_cost(call: Callable[[], Any], extra_s: float) -> Callable[[], Any]:
    if extra_s <= 0:
        return call

    def slower() -> Any:
        out = call()
        busy_wait(extra_s)
        return out

    return slower


def time_batches(call: Callable[[], Any], batches: int, batch_s: float, warmup_calls: int,
                 inject: float = 0.0, clock: Callable[[], float] = time.perf_counter) -> Dict[str, Any]:
    """Warm up, fix the calls per batch from the warm-up's median call, then time `batches` batches.
    Returns the batch means (seconds per call), the calls per batch and the warm-up median."""
    warm: List[float] = []
    for _ in range(max(warmup_calls, 1)):
        start = clock()
        call()
        warm.append(clock() - start)
    median_call = statistics.median(warm)
    timed = with_injected_cost(call, inject * median_call)
    calls = max(1, int(round(batch_s / max(median_call * (1 + inject), 1e-9))))
    means, medians = [], []
    for _ in range(batches):
        times = []
        batch_start = clock()
        for _ in range(calls):
            start = clock()
            timed()
            times.append(clock() - start)
        means.append((clock() - batch_start) / calls)
        medians.append(statistics.median(times))
    return {"batch_medians_s": medians, "batch_means_s": means, "calls_per_batch": calls,
            "warmup_median_s": median_call, "median_s": statistics.median(medians), "mean_s": statistics.median(means)}


def _sample_counts(model: Any, model_spec: Any, backend: Any, settings: Dict[str, Any], per_eval: float) -> Dict[str, Any]:
    """A cold and a warm sampling call; the warm one's exact counts and the sampler's overhead per step."""
    from harness.worker import samplers

    config = samplers.SampleConfig(chains=settings.get("chains", 2), tune=settings.get("tune", 500),
                                   draws=settings.get("draws", 500), seed=settings.get("seed", 1),
                                   target_accept=model_spec.target_accept)
    sample = samplers.sampler_for(backend)
    cold = sample(model, config, list(model_spec.params))
    warm = sample(model, config, list(model_spec.params))
    kept = config.chains * config.draws
    grad_evals = warm.info.get("grad_evals")
    out: Dict[str, Any] = {"chains": config.chains, "tune": config.tune, "draws": config.draws, "seed": config.seed,
                           "cold_wall_s": cold.timings.get("wall_s"), "sample_s": warm.timings.get("sample_s"),
                           "divergences": warm.divergences, "grad_evals": grad_evals,
                           "tree_depth": warm.info.get("tree_depth")}
    if grad_evals:
        out["grad_evals_per_draw"] = grad_evals / kept
        total = grad_evals * (config.tune + config.draws) / config.draws  # as harness.worker.speed estimates it
        out["overhead_per_step_s"] = warm.timings["sample_s"] / total - per_eval
    return out


def probe(spec: Dict[str, Any]) -> Dict[str, Any]:
    from harness.common.backends import BACKENDS
    from harness.worker.child import as_precision
    from harness.worker.gradient import GRADIENT_CALLS, UNMEASURED
    from models import load_models

    spec = dict(DEFAULTS, **spec)
    backend = BACKENDS[spec["backend"]]
    if backend.gradient == UNMEASURED:
        return {"status": "unavailable", "reason": f"{backend.name} has no gradient probe"}
    model_spec = load_models(spec["model_dirs"])[spec["model"]]
    data = as_precision(model_spec.data(**model_spec.knobs(spec["size"])), spec["precision"])
    pm = __import__(spec["api"])
    model = model_spec.build(pm, spec["api"], data)
    start = time.perf_counter()
    call = GRADIENT_CALLS[backend.gradient](model)
    call()
    compile_s = time.perf_counter() - start
    out: Dict[str, Any] = {"status": "ok", "model": spec["model"], "backend": spec["backend"], "pid": os.getpid(),
                           "compile_s": compile_s, "inject": spec["inject"]}
    out.update(time_batches(call, spec["batches"], spec["batch_s"], spec["warmup_calls"], spec["inject"]))
    if spec["sample"]:
        out["sample"] = _sample_counts(model, model_spec, backend, spec["sample"], out["median_s"])
    return out


def main(argv: List[str]) -> int:
    text = argv[1]
    spec = json.loads(text if text.lstrip().startswith("{") else open(text).read())
    replies = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # what the libraries print goes to stderr, not into the reply
    sys.stdout = sys.stderr
    try:
        reply = probe(spec)
    except Exception as exc:  # the stack's failure is this probe's result, with its cause
        reply = {"status": "error", "reason": f"{type(exc).__name__}: {exc}".splitlines()[0][:500]}
    replies.write(json.dumps(reply) + "\n")
    replies.flush()
    return 0 if reply["status"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
