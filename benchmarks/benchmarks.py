"""asv benchmarks in the numpy/scipy anatomy: one `Time` and one `Track` class, each parametrized over
(model, backend), so a new model or backend needs no edit here.

`nox -s asv` writes the row's plan to .asv/plan.json before each row's run: a harness.common.plan.Plan
(row, tiers, tier_name, known failures) plus `models`, the models to benchmark (null: every model
`models.load_models()` finds). Without a plan every benchmark is skipped. A pair the row cannot run
(not applicable, not installed) or that breaks raises NotImplementedError in `setup`: asv's skip, with why.

- `Time.time_sample`: a warm sampling call, in the benchmark's own process (the first setup builds the
  model and makes the cold call, which compiles; asv's later setups, one per repeat, reuse it);
- `Track.track_ess_per_s` (ESS/s): the slowest parameter's bulk ESS per second of a warm call's sampling;
- `Track.track_compile_s` (seconds): the cold call's wall time less the warm call's.

The cache: asv keys `setup_cache` by where it is written (module and line:
asv_runner.benchmarks._base.get_setup_cache_key), runs it once per key and hands its result to every
benchmark with that key. Classes made in a loop would share one key, so every model would get the first
model's figures. So there is one `Track.setup_cache`, which samples every (model, backend) pair of the
plan once - a cold and a warm call in the pair's own worker process (harness.worker.evaluation), so a
crash, hang or out-of-memory is that pair's skip, not the run's end - and returns
{model: {backend: figures, or the reason there are none}}; each parameter's `setup` picks its own entry.
That is the cheapest correct shape: every pair is sampled twice per row run, both track methods read the
same run, and nothing outlives the run (asv deletes the cache), so nothing can go stale.
tests/test_benchmarks.py checks it through asv_runner's own discovery and setup_cache.

Runs inside every row's environment, Python 3.8 included.
"""

import functools
import json
import os
import sys

# asv runs benchmarks from its own folder: find the project and the plan from this file's place
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLAN_FILE = os.environ.get("PYMC_MATRIX_ASV_PLAN") or os.path.join(REPO_ROOT, ".asv", "plan.json")  # env: tests
sys.path.insert(0, REPO_ROOT)

from harness.common.environment import THREAD_ENV, cell_env  # noqa: E402

os.environ.update(THREAD_ENV)  # before numpy starts its thread pools

from harness.common.plan import Plan  # noqa: E402
from harness.worker.child import WorkerChild, _prepare_environment  # noqa: E402
from harness.worker.evaluation import blocked_reason, ess_per_second, start_worker, worker_spec  # noqa: E402
from harness.worker.samplers import SampleConfig, sampler_for  # noqa: E402
from models import load_models  # noqa: E402

SEED = 1
_RAW = json.load(open(PLAN_FILE)) if os.path.exists(PLAN_FILE) else None
PLAN = Plan.from_dict(_RAW) if _RAW else None
MODELS = load_models(PLAN.model_dirs if PLAN else [])
MODEL_NAMES = (_RAW.get("models") or sorted(MODELS)) if PLAN else ["none"]
BACKEND_NAMES = list(PLAN.row.backends) if PLAN else ["none"]
NO_PLAN = "run through `nox -s asv`, which writes .asv/plan.json"
CALL_S = PLAN.tier.timeout_s if PLAN else 60  # the limit of one sampling call
_unknown = sorted(set(MODEL_NAMES) - set(MODELS)) if PLAN else []
if _unknown:
    raise ValueError(f"{PLAN_FILE}: no model named {_unknown}; models: {sorted(MODELS)}")


def _skip_reason(model, backend, status=None, reason=None):
    """Why a pair has no figures: the plan says it cannot run, or (status, reason) of a failed call."""
    if PLAN is None:
        return NO_PLAN
    if status is None:
        blocked = blocked_reason(PLAN, MODELS[model], backend)
        return blocked and f"{blocked['status']}: {blocked['reason']}"
    known = PLAN.known_failure(model, backend)
    return f"{status}: {reason}" + (f" (known failure: {known.reason} {known.link})" if known else "")


def pair_figures(model, backend):
    """{compile_s, ess_per_s} of one pair from a cold and a warm call in its own worker, or {skip: why}."""
    skip = _skip_reason(model, backend)
    if skip:
        return {"skip": skip}
    worker = start_worker(PLAN, worker_spec(PLAN, model, backend, SEED))
    try:
        cold = worker.call({"op": "sample"}, PLAN.tier.timeout_s)
        warm = worker.call({"op": "sample"}, PLAN.tier.timeout_s) if cold["status"] == "sampled" else cold
    finally:
        worker.close()
    if warm["status"] != "sampled":
        print(f"{model} {backend}: {warm['status']}: {warm.get('reason')}\n{warm.get('output', '')}")
        return {"skip": _skip_reason(model, backend, warm["status"], warm.get("reason"))}
    ess_per_s = ess_per_second(warm["params"], warm["timings"])
    if ess_per_s is None:
        return {"skip": _skip_reason(model, backend, "error", "the sampler reported no sampling time")}
    return {"compile_s": max(cold["timings"]["wall_s"] - warm["timings"]["wall_s"], 0.0), "ess_per_s": ess_per_s}


@functools.lru_cache(maxsize=None)  # asv re-runs setup before each repeat: compile once per process
def warm_sampler(model, backend):
    """The pair's sampling call, built and called once (cold) in this process; NotImplementedError: why not."""
    skip = _skip_reason(model, backend)
    if skip:
        raise NotImplementedError(skip)
    spec = worker_spec(PLAN, model, backend, SEED)
    os.environ.update(cell_env(PLAN.row))  # as a cell's worker runs: before jax or pytensor is imported
    _prepare_environment(spec)
    cell = WorkerChild(spec)
    try:
        cold = cell.sample()  # builds the model and compiles; says why where the row cannot run it
    except Exception as exc:
        cold = {"status": "error", "reason": f"{type(exc).__name__}: {exc}"}
    if cold["status"] != "sampled":
        raise NotImplementedError(_skip_reason(model, backend, cold["status"], cold.get("reason")))
    config = SampleConfig(spec["chains"], spec["tune"], spec["draws"], SEED, cell.model_spec.target_accept)
    return functools.partial(sampler_for(cell.backend), cell.model, config, list(cell.model_spec.params))


class Time:
    """time_sample: a warm sampling call (setup builds the model and makes the cold call)."""

    params = [MODEL_NAMES, BACKEND_NAMES]
    param_names = ["model", "backend"]
    number = 1
    repeat = (1, 3, 600.0)
    warmup_time = 0
    timeout = 4 * CALL_S  # the cold call and up to three timed ones

    def setup(self, model, backend):
        self.sample = warm_sampler(model, backend)

    def time_sample(self, model, backend):
        self.sample()


class Track:
    """track_ess_per_s and track_compile_s, from one cold and one warm call of every pair (setup_cache)."""

    params = [MODEL_NAMES, BACKEND_NAMES]
    param_names = ["model", "backend"]

    def setup_cache(self):
        if PLAN is None:
            return {}
        return {model: {backend: pair_figures(model, backend) for backend in BACKEND_NAMES} for model in MODEL_NAMES}

    setup_cache.timeout = len(MODEL_NAMES) * len(BACKEND_NAMES) * (2 * CALL_S + 60)  # two calls a pair, a worker's start

    def setup(self, figures, model, backend):
        entry = figures.get(model, {}).get(backend, {"skip": NO_PLAN})
        if "skip" in entry:
            raise NotImplementedError(entry["skip"])

    def track_ess_per_s(self, figures, model, backend):
        return figures[model][backend]["ess_per_s"]

    track_ess_per_s.unit = "ESS/s"

    def track_compile_s(self, figures, model, backend):
        return figures[model][backend]["compile_s"]

    track_compile_s.unit = "seconds"
