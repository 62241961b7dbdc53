"""The timing probe of one (model, backend): repeated timings of the gradient, in a fresh process.

    python -m harness.worker.timing SPEC.json [--serve]     (or SPEC as inline JSON)

A comparison (harness.host.compare) starts many of these, each a fresh process, two at a time: one per
environment. With --serve the process builds the model, compiles the gradient and warms up, replies
`ready`, then times one batch (or one sampling call) per request line, so the host can alternate the two
processes batch by batch. That interleaving is what makes the comparison work on a machine whose speed
changes by itself: measured on this project's 2-core machine (2026-11-27), a process's per-call median
sat at 28 us for a few seconds, at 50 us for the next two, then at 30 again, so two processes run one
after the other differed by up to 2x; two processes whose batches alternate every 0.1 s see the same
machine. Without --serve it prints one JSON line with the whole figure (library chatter goes to stderr).

Each call is timed on its own; a batch gives the median and the mean of its calls. A process's own figure,
`median_s`, is the median over its batches of the per-call medians: on a shared machine a call the
scheduler interrupts costs 10-100x a normal one, and a batch's mean carries those interruptions (measured
2026-11-26 at a load of 10 on 2 cores: batch means 2-10x the typical call), while the median of calls does
not. `mean_s` (the median of the batch means, pyperf's figure) is kept beside it. The spread between
processes is what the comparison's interval is computed from.

SPEC keys (defaults in brackets): model, backend, api ["pymc"], size ["quick"], precision ["float64"],
model_dirs [[]], batches [10], batch_s [0.1] (the target length of one batch; the calls per batch are
fixed from the warm-up's median), warmup_calls [20], inject [0.0], `sample` (optional: {chains, tune,
draws, seed}) for sample_s, the exact counts and the sampler's overhead per step, and sample_calls [1] (warm
sampling calls of a process without --serve).

- `compile_s`: building the compiled log density + gradient and its first call (model building and data
  generation excluded). With a warm compile cache (PyTensor's ~/.pytensor, JAX's persistent cache) this is
  the cache load, as on a second run of the same stack.
- `batch_medians_s`, `batch_means_s`: seconds per gradient evaluation, per batch; `median_s` and `mean_s`
  the median of each over the batches.
- `inject` (test only): after each timed call, busy-wait `inject` x the median of the warm-up calls'
  own time. The extra cost is inside the timed region, per evaluation: an injected slowdown of 10% makes
  the figure 10% larger. While sampling (pymc's own NUTS only), each gradient evaluation busy-waits
  `inject` x the cold sampling call's time per evaluation of a chain, so sample_s grows by about `inject`.
  The campaign of docs/verdicts.md measures the detector's power with it.
- `sample`: a cold sampling call, then warm ones; from the warm ones `sample_s` (their median) and the
  exact counts (gradient evaluations per draw, the tree-depth distribution, divergences), and
  `overhead_per_step_s` = warm sampling time / gradient evaluations (tuning included, scaled as
  harness.worker.speed does) - seconds per evaluation: what the sampler's loop adds to each leapfrog step.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

DEFAULTS = {"api": "pymc", "size": "quick", "precision": "float64", "model_dirs": [], "batches": 10,
            "batch_s": 0.1, "warmup_calls": 20, "inject": 0.0, "sample": None, "sample_calls": 1}


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


def warm_up(call: Callable[[], Any], warmup_calls: int, batch_s: float, inject: float = 0.0,
            clock: Callable[[], float] = time.perf_counter) -> Tuple[float, int]:
    """The warm-up's median call, and the calls per batch it fixes (a batch lasts about batch_s)."""
    warm: List[float] = []
    for _ in range(max(warmup_calls, 1)):
        start = clock()
        call()
        warm.append(clock() - start)
    median_call = statistics.median(warm)
    return median_call, max(1, int(round(batch_s / max(median_call * (1 + inject), 1e-9))))


def one_batch(call: Callable[[], Any], calls: int, clock: Callable[[], float] = time.perf_counter) -> Tuple[float, float]:
    """(median, mean) seconds per call over one batch of `calls` calls, each timed on its own."""
    times = []
    batch_start = clock()
    for _ in range(calls):
        start = clock()
        call()
        times.append(clock() - start)
    return statistics.median(times), (clock() - batch_start) / calls


def summary(medians: List[float], means: List[float], calls: int, median_call: float) -> Dict[str, Any]:
    return {"batch_medians_s": medians, "batch_means_s": means, "calls_per_batch": calls,
            "warmup_median_s": median_call, "median_s": statistics.median(medians), "mean_s": statistics.median(means)}


_SAMPLER_EXTRA_S = [0.0]  # the busy-wait after each gradient evaluation of pymc's NUTS (inject)
_SAMPLER_CALLS = [0]  # gradient evaluations of pymc's NUTS in this process (its chains run here: cores=1)


def inject_into_pymc_nuts(extra_s: float) -> None:
    """Count every log density + gradient evaluation of pymc's own NUTS and make it `extra_s` longer (test
    only), for the step methods built from now on. The hook is pymc's leapfrog integrator, which holds the
    function it calls (pymc 5.28 calls the compiled function directly, not ValueGradFunction.__call__)."""
    from pymc.step_methods.hmc.integration import CpuLeapfrogIntegrator

    _SAMPLER_EXTRA_S[0] = extra_s
    if getattr(CpuLeapfrogIntegrator.__init__, "injected", False):
        return
    original = CpuLeapfrogIntegrator.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        function, extra = self._logp_dlogp_func, _SAMPLER_EXTRA_S[0]

        def counted(*call_args: Any) -> Any:
            out = function(*call_args)
            _SAMPLER_CALLS[0] += 1
            if extra > 0:
                busy_wait(extra)
            return out

        self._logp_dlogp_func = counted

    init.injected = True  # type: ignore[attr-defined]
    CpuLeapfrogIntegrator.__init__ = init


class Probe:
    """One process's model and compiled gradient, warmed up: it times batches and sampling calls on demand,
    so that two processes (two environments) can be interleaved batch by batch (harness.host.compare)."""

    def __init__(self, spec: Dict[str, Any]):
        from harness.common.backends import BACKENDS
        from harness.worker.child import as_precision
        from harness.worker.gradient import GRADIENT_CALLS, UNMEASURED
        from models import load_models

        self.spec = dict(DEFAULTS, **spec)
        self.backend = BACKENDS[self.spec["backend"]]
        self.unavailable = f"{self.backend.name} has no gradient probe" if self.backend.gradient == UNMEASURED else None
        if self.unavailable:
            return
        self.model_spec = load_models(self.spec["model_dirs"])[self.spec["model"]]
        data = as_precision(self.model_spec.data(**self.model_spec.knobs(self.spec["size"])), self.spec["precision"])
        self.model = self.model_spec.build(__import__(self.spec["api"]), self.spec["api"], data)
        start = time.perf_counter()
        self.call = GRADIENT_CALLS[self.backend.gradient](self.model)
        self.call()
        self.compile_s = time.perf_counter() - start
        self.median_call, self.calls = warm_up(self.call, self.spec["warmup_calls"], self.spec["batch_s"])
        self.cold: Optional[Dict[str, Any]] = None

    def ready(self) -> Dict[str, Any]:
        if self.unavailable:
            return {"status": "unavailable", "reason": self.unavailable}
        return {"status": "ready", "model": self.spec["model"], "backend": self.spec["backend"], "pid": os.getpid(),
                "compile_s": self.compile_s, "warmup_median_s": self.median_call, "calls_per_batch": self.calls}

    def batch(self, inject: float = 0.0) -> Dict[str, Any]:
        median, mean = one_batch(with_injected_cost(self.call, inject * self.median_call), self.calls)
        return {"status": "ok", "median_s": median, "mean_s": mean}

    def sample(self, inject: float = 0.0) -> Dict[str, Any]:
        """One warm sampling call (the first call runs a cold one before it), with its exact counts. `inject`
        adds that fraction of the cold call's time per gradient evaluation, so the warm call is about
        `inject` slower."""
        from harness.worker import samplers

        settings = self.spec["sample"] or {}
        # cores=1: the chains run one after another in this process, as pymc's default does on 2 cores; the
        # other process of the pair is idle meanwhile, and the injected cost adds up over every evaluation
        config = samplers.SampleConfig(chains=settings.get("chains", 2), tune=settings.get("tune", 500),
                                       draws=settings.get("draws", 500), seed=settings.get("seed", 1),
                                       target_accept=self.model_spec.target_accept, cores=1)
        run = samplers.sampler_for(self.backend)
        if inject and self.backend.sampler != "pymc-nuts":
            return {"status": "error", "reason": "inject while sampling: pymc's own NUTS only (pymc-c, pymc-numba, pymc-jax)"}
        nuts = self.backend.sampler == "pymc-nuts"
        if self.cold is None:
            if nuts:
                inject_into_pymc_nuts(0.0)  # count the cold call's evaluations, tuning's included
            before = _SAMPLER_CALLS[0]
            cold = run(self.model, config, list(self.model_spec.params))
            self.cold = {"wall_s": cold.timings.get("wall_s"), "sample_s": cold.timings.get("sample_s"),
                         "evals": _SAMPLER_CALLS[0] - before}
        if nuts:
            inject_into_pymc_nuts(inject * (self.cold["sample_s"] or 0) / max(self.cold["evals"], 1))
        warm = run(self.model, config, list(self.model_spec.params))
        return {"status": "ok", "chains": config.chains, "tune": config.tune, "draws": config.draws, "seed": config.seed,
                "cold_wall_s": self.cold["wall_s"], "sample_s": warm.timings.get("sample_s"),
                "divergences": warm.divergences, "grad_evals": warm.info.get("grad_evals"),
                "tree_depth": warm.info.get("tree_depth")}


def sample_summary(calls: List[Dict[str, Any]], per_eval: float) -> Dict[str, Any]:
    """A process's sampling figures: the median warm sample_s over its calls, the exact counts of the first
    (fixed seed: every call draws alike), and the sampler's overhead per step."""
    first = calls[0]
    out = {k: first.get(k) for k in ("chains", "tune", "draws", "seed", "cold_wall_s", "divergences", "grad_evals",
                                      "tree_depth")}
    times = [c["sample_s"] for c in calls if c.get("sample_s")]
    out.update(sample_s=statistics.median(times) if times else None, sample_s_calls=times)
    if first.get("grad_evals") and out["sample_s"]:
        kept = first["chains"] * first["draws"]
        out["grad_evals_per_draw"] = first["grad_evals"] / kept
        total = first["grad_evals"] * (first["tune"] + first["draws"]) / first["draws"]  # as harness.worker.speed estimates it
        out["overhead_per_step_s"] = out["sample_s"] / total - per_eval
    return out


def probe(spec: Dict[str, Any]) -> Dict[str, Any]:
    """One process's whole figure at once: its batches, then (with `sample`) sampling calls."""
    p = Probe(spec)
    ready = p.ready()
    if ready["status"] != "ready":
        return ready
    spec = p.spec
    medians, means = zip(*((b["median_s"], b["mean_s"]) for b in (p.batch(spec["inject"]) for _ in range(spec["batches"]))))
    out = dict(ready, status="ok", inject=spec["inject"], **summary(list(medians), list(means), p.calls, p.median_call))
    if spec["sample"]:
        out["sample"] = sample_summary([p.sample(spec["inject"]) for _ in range(spec.get("sample_calls", 1))], out["median_s"])
    return out


def serve(spec: Dict[str, Any], requests: Iterator[str], reply: Callable[[Dict[str, Any]], None]) -> None:
    """Build and warm up, reply `ready`, then answer one request a line until the input ends:
    {"op": "batch", "inject": f} -> {"status": "ok", "median_s", "mean_s"}; {"op": "sample", "inject": f} ->
    one warm sampling call's figures. The host interleaves two such processes batch by batch."""
    p = Probe(spec)
    ready = p.ready()
    reply(ready)
    if ready["status"] != "ready":
        return
    for line in requests:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            reply(getattr(p, {"batch": "batch", "sample": "sample"}[request["op"]])(float(request.get("inject", 0.0))))
        except Exception as exc:  # the stack's failure is this request's reply
            reply({"status": "error", "reason": f"{type(exc).__name__}: {exc}".splitlines()[0][:500]})


def main(argv: List[str]) -> int:
    text = argv[1]
    spec = json.loads(text if text.lstrip().startswith("{") else open(text).read())
    replies = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # what the libraries print goes to stderr, not into the reply
    sys.stdout = sys.stderr

    def reply(message: Dict[str, Any]) -> None:
        replies.write(json.dumps(message) + "\n")
        replies.flush()

    try:
        if "--serve" in argv[2:]:
            serve(spec, iter(sys.stdin.readline, ""), reply)
            return 0
        message = probe(spec)
    except Exception as exc:  # the stack's failure is this probe's result, with its cause
        message = {"status": "error", "reason": f"{type(exc).__name__}: {exc}".splitlines()[0][:500]}
    reply(message)
    return 0 if message["status"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
