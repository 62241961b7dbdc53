"""The worker child: one cell's process, which builds a model once, then answers commands from the parent.

    python -m harness.worker.child SPEC.json      (SPEC: harness.worker.evaluation.worker_spec)

Commands (one JSON object a line) and replies (one JSON line each, on the original stdout; everything the
libraries print goes to stderr, which the parent keeps as the cell's log):

    {"op": "sample", "draws": D, "seed": S}   sample with the cell's backend (draws and seed default to the
                             spec's); the first call is the cold one (compiles)
                             -> {"status": "sampled", "params", "timings", "divergences", "grad_evals", "tree_depth"}
                                or {"status": "unavailable" | "device-missing" | "error", "reason"}
    {"op": "grad_prepare"}   compile the log density + gradient probe and call it once -> {"status": "ok"}
    {"op": "grad_eval", "seconds": S}   time one log density + gradient evaluation, repeated for ~S seconds
                             (prepared first if grad_prepare was not asked)
                             -> {"status": "ok", "seconds_per_eval"} or {"status": "error", "reason"}
    {"op": "sbc", "sims": N} simulation-based calibration ranks (harness.worker.sbc) -> {"status": "ok", "ranks", ...}
    {"op": "memory"}         -> {"status": "ok", "peak_rss_mb", "peak_device_mb"}: largest resident set of
                                this process or any sampler process it started; peak GPU memory of this
                                process (null off the GPU)
    {"op": "transfer"}       host-device copy times of the model's data and of its draws (GPU rows)
                             -> {"status": "ok", "host_to_device_s", "device_to_host_s", ...}

The parent ends the process with a kill when it is done with the cell (or closes its stdin).
A crash or hang of this process leaves a reply unwritten; the parent (harness.worker.handle) records that.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
import traceback
from typing import Any, Dict, Optional


def _prepare_environment(spec: Dict[str, Any]) -> None:
    """Must run before jax is imported: one XLA host device per chain, so numpyro can run them in parallel."""
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_force_host_platform_device_count" not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={spec['chains']}".strip()


def as_precision(data: Dict[str, Any], precision: str) -> Dict[str, Any]:
    """float32 rows get float32 data, or float64 constants would pull the graph back to float64."""
    if precision != "float32":
        return data
    import numpy as np

    return {k: v.astype("float32") if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v for k, v in data.items()}


class JaxCacheWatch:
    """Counts JAX's persistent-cache events in this process, so a compile served from the cache is recorded
    as a cache hit rather than mistaken for a fast compile. (pymc's per-chain processes are not watched.)"""

    def __init__(self):
        self.counts: Dict[str, float] = {"jax_hits": 0, "jax_misses": 0, "jax_saved_s": 0.0}
        from jax import monitoring  # only backends that import jax anyway are watched

        monitoring.register_event_listener(self._event)
        monitoring.register_event_duration_secs_listener(self._duration)

    def _event(self, event: str, **_: Any) -> None:
        if event.endswith("/compilation_cache/cache_hits"):
            self.counts["jax_hits"] += 1
        elif event.endswith("/compilation_cache/cache_misses"):
            self.counts["jax_misses"] += 1

    def _duration(self, event: str, seconds: float, **_: Any) -> None:
        if event.endswith("/compilation_cache/compile_time_saved_sec"):
            self.counts["jax_saved_s"] += seconds

    def since(self, before: Dict[str, float]) -> Dict[str, float]:
        return {key: self.counts[key] - before[key] for key in self.counts}


class WorkerChild:
    def __init__(self, spec: Dict[str, Any]):
        from harness.common.backends import BACKENDS
        from models import load_models

        self.spec = spec
        self.model_spec = load_models(spec["model_dirs"])[spec["model"]]
        knobs = spec.get("knobs") or self.model_spec.knobs(spec["size"])  # a scaling sweep sets its own
        self.data = as_precision(self.model_spec.data(**knobs), spec["precision"])
        self.backend = BACKENDS[spec["backend"]]
        self.model = None
        self.jax_cache = None
        self.grad_call = None  # the gradient probe, once grad_prepare compiled it

    def blocked(self) -> Dict[str, Any]:
        from harness.common.devices import jax_fallback_reason

        missing = [m for m in self.backend.modules if importlib.util.find_spec(m) is None]
        if missing:
            return {"status": "unavailable", "reason": f"not installed in this row: {', '.join(missing)}"}
        if "jax" in self.backend.modules:
            fallback = jax_fallback_reason(self.spec["device"])
            if fallback:
                return {"status": "device-missing", "reason": fallback}
        return {}

    def sample(self, draws: Optional[int] = None, seed: Optional[int] = None) -> Dict[str, Any]:
        from harness.worker.diagnostics import scalars, summarize
        from harness.worker.samplers import SampleConfig, sampler_for

        blocked = self.blocked()
        if blocked:
            return blocked
        if self.model is None:
            pm = importlib.import_module(self.spec["api"])
            self.model = self.model_spec.build(pm, self.spec["api"], self.data)
        config = SampleConfig(
            chains=self.spec["chains"], tune=self.spec["tune"], draws=draws or self.spec["draws"], seed=seed or self.spec["seed"],
            target_accept=self.model_spec.target_accept, cores=self.spec.get("cores"),
        )
        if self.jax_cache is None and "jax" in self.backend.modules:
            self.jax_cache = JaxCacheWatch()
        cache_before = dict(self.jax_cache.counts) if self.jax_cache else None
        draws = sampler_for(self.backend)(self.model, config, list(self.model_spec.params))
        timings = dict(draws.timings)
        if self.jax_cache:
            timings["compile_cache"] = self.jax_cache.since(cache_before)
        params = {}
        for var in self.model_spec.params:
            for name, values in scalars(var, draws.posterior[var]):
                params[name] = summarize(values)
        return {
            "status": "sampled",
            "params": params,
            "timings": timings,
            "divergences": draws.divergences,
            "grad_evals": draws.info.get("grad_evals"),
            "tree_depth": draws.info.get("tree_depth"),
        }

    def sbc(self, sims: int) -> Dict[str, Any]:
        from harness.worker.sbc import simulate_and_rank

        blocked = self.blocked()
        if blocked:
            return blocked
        return dict(simulate_and_rank(self.model_spec, self.backend, self.data, sims, self.spec["seed"]), status="ok")

    def grad_prepare(self) -> Dict[str, Any]:
        """Compile the gradient probe now, beside other cells, so that its timing alone times calls only."""
        from harness.worker.gradient import prepared_call

        self.grad_call = prepared_call(self.model, self.backend.gradient)
        return {"status": "ok"}

    def grad_eval(self, seconds: float) -> Dict[str, Any]:
        from harness.worker.gradient import seconds_per_eval

        if self.grad_call is None:
            self.grad_prepare()
        return {"status": "ok", "seconds_per_eval": seconds_per_eval(self.grad_call, seconds)}

    def transfer(self) -> Dict[str, Any]:
        import numpy as np

        from harness.common.devices import transfer_seconds

        arrays = [v for v in self.data.values() if isinstance(v, np.ndarray)]
        free_values = sum(int(np.size(v)) for v in self.model.initial_point().values())
        return dict(transfer_seconds(arrays, (self.spec["chains"], self.spec["draws"], free_values)), status="ok")


def peak_rss_mb() -> float:
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024.0  # Linux reports KiB


def _error(exc: BaseException) -> Dict[str, Any]:
    samplers = sys.modules.get("harness.worker.samplers")
    if samplers is not None and isinstance(exc, samplers.HarnessCannotDrive):  # the harness's shortcoming
        return {"status": "unavailable", "reason": str(exc)[:500]}
    return {
        "status": "error",
        "reason": f"{type(exc).__name__}: {exc}".splitlines()[0][:500],
        "traceback": traceback.format_exc()[-4000:],
    }


def serve(spec: Dict[str, Any], commands, replies) -> None:
    cell = None
    for line in commands:
        request = json.loads(line)
        op = request["op"]
        try:
            if cell is None:
                cell = WorkerChild(spec)
            if op == "sample":
                reply = cell.sample(request.get("draws"), request.get("seed"))
            elif op == "grad_prepare":
                reply = cell.grad_prepare()
            elif op == "grad_eval":
                reply = cell.grad_eval(request.get("seconds", 2.0))
            elif op == "sbc":
                reply = cell.sbc(request["sims"])
            elif op == "memory":
                from harness.common.devices import peak_device_mb

                reply = {"status": "ok", "peak_rss_mb": peak_rss_mb(), "peak_device_mb": peak_device_mb()}
            elif op == "transfer":
                reply = cell.transfer()
            else:
                reply = {"status": "error", "reason": f"unknown op {op!r}"}
        except Exception as exc:  # any failure of the sampler stack is this cell's `error`, with its cause
            reply = _error(exc)
        replies.write(json.dumps(reply, allow_nan=True) + "\n")
        replies.flush()


def _volunteer_for_oom_killer() -> None:
    """If memory runs out, the kernel should kill this cell, not the session recording it."""
    try:
        with open("/proc/self/oom_score_adj", "w") as fh:
            fh.write("1000")
    except OSError:
        pass  # not Linux, or not allowed: the parent's memory watchdog still applies


def main(argv) -> int:
    with open(argv[1]) as fh:
        spec = json.load(fh)
    _prepare_environment(spec)
    _volunteer_for_oom_killer()
    replies = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # whatever the libraries print goes to the log, not into the replies
    sys.stdout = sys.stderr
    serve(spec, sys.stdin, replies)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
