"""asv benchmarks: one class per model, parametrized over the backends of the matrix row being measured.

They reuse the suites' models and backends. `nox -s asv` writes the row's plan (backends, tier settings)
to .asv/plan.json before each row's run; without it every benchmark is skipped. Inputs are built in
`setup_cache` (once per model: a cold and a warm call of every backend), so:
- `time_sample` times a warm sampling call (its own setup makes the cold one);
- `track_ess_per_s` is the slowest parameter's bulk ESS per second of warm sampling (unit ESS/s);
- `track_compile_s` is the cold call's wall time less the warm call's (unit seconds).
Runs inside every row's environment, Python 3.8 included.
"""

import json
import os
import sys

# asv runs benchmarks with a scrubbed environment: find the project and the plan from this file's place
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLAN_FILE = os.path.join(REPO_ROOT, ".asv", "plan.json")
sys.path.insert(0, REPO_ROOT)

from harness.backends import BACKENDS, SampleConfig  # noqa: E402
from harness.diagnostics import scalars, summarize  # noqa: E402
from harness.isolation import THREAD_ENV  # noqa: E402
from models import load_models  # noqa: E402

os.environ.update(THREAD_ENV)
PLAN = json.load(open(PLAN_FILE)) if os.path.exists(PLAN_FILE) else None
BACKEND_NAMES = PLAN["row"]["backends"] if PLAN else ["none"]
MODELS = load_models(PLAN.get("model_dirs", []) if PLAN else [])


def _min_ess(model_spec, draws):
    return min(
        summarize(values)["ess_bulk"]
        for var in model_spec.params
        for _, values in scalars(var, draws.posterior[var])
    )


def _build(spec):
    tier = PLAN["tier"]
    pm = __import__(PLAN["row"]["api"])
    model = spec.build(pm, PLAN["row"]["api"], spec.data(**spec.knobs(tier["size"])))
    return model, SampleConfig(tier["chains"], tier["tune"], tier["draws"], seed=1, target_accept=spec.target_accept)


def _applicable(spec, backend):
    return not (spec.discrete and not BACKENDS[backend].discrete)


class _Sampling:
    model_name = ""
    params = BACKEND_NAMES
    param_names = ["backend"]
    number = 1
    repeat = (1, 3, 600.0)
    warmup_time = 0
    timeout = 3600

    def setup_cache(self):
        """Cold and warm call of every backend once: compile time and ESS/s for the track_ methods."""
        if PLAN is None:
            return {}
        spec, figures = MODELS[self.model_name], {}
        for backend in BACKEND_NAMES:
            if not _applicable(spec, backend):
                continue
            try:
                model, config = _build(spec)
                cold = BACKENDS[backend].sample(model, config, list(spec.params))
                warm = BACKENDS[backend].sample(model, config, list(spec.params))
            except Exception as exc:  # a broken backend is recorded as missing figures, not a stop
                print(f"{self.model_name} {backend}: {type(exc).__name__}: {exc}")
                continue
            figures[backend] = {
                "compile_s": max(cold.timings["wall_s"] - warm.timings["wall_s"], 0.0),
                "ess_per_s": _min_ess(spec, warm) / warm.timings["sample_s"],
            }
        return figures

    def setup(self, figures, backend):
        if PLAN is None:
            raise NotImplementedError("run through `nox -s asv`, which writes .asv/plan.json")
        if not _applicable(MODELS[self.model_name], backend):
            raise NotImplementedError("not-applicable: discrete model, gradient-only sampler")

    def _compiled(self, figures, backend):
        """Build the model and make the cold call, so time_sample times a warm one."""
        self.setup(figures, backend)
        self.spec = MODELS[self.model_name]
        self.backend = BACKENDS[backend]
        self.model, self.config = _build(self.spec)
        self.time_sample(figures, backend)

    def time_sample(self, figures, backend):
        self.backend.sample(self.model, self.config, list(self.spec.params))

    time_sample.setup = _compiled

    def track_ess_per_s(self, figures, backend):
        return figures.get(backend, {}).get("ess_per_s", float("nan"))

    track_ess_per_s.unit = "ESS/s"

    def track_compile_s(self, figures, backend):
        return figures.get(backend, {}).get("compile_s", float("nan"))

    track_compile_s.unit = "seconds"


def _family(name):
    return type(name.title().replace("_", ""), (_Sampling,), {"model_name": name, "__doc__": MODELS[name].description})


for _name in MODELS:
    globals()[_family(_name).__name__] = _family(_name)
