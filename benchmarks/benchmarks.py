"""asv benchmarks: one pair of classes per model, parametrized over the backends of the matrix row measured.

They reuse the suites' models and backends. `nox -s asv` writes the row's plan (backends, tier settings)
to .asv/plan.json before each row's run; without it every benchmark is skipped. Inputs are built in
`setup_cache` (once per model: a cold and a warm call of every backend), so:
- `<Model>Time.time_sample` times a warm sampling call (setup makes the cold one);
- `<Model>Track.track_ess_per_s` is the slowest parameter's bulk ESS per second of warm sampling (unit ESS/s);
- `<Model>Track.track_compile_s` is the cold call's wall time less the warm call's (unit seconds).
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


class _Timing:
    """time_sample: a warm sampling call (setup builds the model and makes the cold call)."""

    model_name = ""
    params = BACKEND_NAMES
    param_names = ["backend"]
    number = 1
    repeat = (1, 3, 600.0)
    warmup_time = 0
    timeout = 3600

    def setup(self, backend):
        if PLAN is None:
            raise NotImplementedError("run through `nox -s asv`, which writes .asv/plan.json")
        self.spec = MODELS[self.model_name]
        if not _applicable(self.spec, backend):
            raise NotImplementedError("not-applicable: discrete model, gradient-only sampler")
        self.backend = BACKENDS[backend]
        self.model, self.config = _build(self.spec)
        self.time_sample(backend)  # the cold call: compile

    def time_sample(self, backend):
        self.backend.sample(self.model, self.config, list(self.spec.params))


class _Tracking:
    """track_ess_per_s and track_compile_s from one cold and one warm call per backend (setup_cache)."""

    model_name = ""
    params = BACKEND_NAMES
    param_names = ["backend"]
    timeout = 3600

    def figures(self):
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
        if backend not in figures:
            raise NotImplementedError(f"{backend} did not sample {self.model_name} (not applicable or broken)")

    def track_ess_per_s(self, figures, backend):
        return figures[backend]["ess_per_s"]

    track_ess_per_s.unit = "ESS/s"

    def track_compile_s(self, figures, backend):
        return figures[backend]["compile_s"]

    track_compile_s.unit = "seconds"


# One pair of classes per model. asv keys setup_cache by where it is written, so each tracking class
# writes its own (one line) rather than inheriting one shared cache.


class ConjugateTime(_Timing):
    model_name = "conjugate"


class ConjugateTrack(_Tracking):
    model_name = "conjugate"

    def setup_cache(self):
        return self.figures()


class EightSchoolsTime(_Timing):
    model_name = "eight_schools"


class EightSchoolsTrack(_Tracking):
    model_name = "eight_schools"

    def setup_cache(self):
        return self.figures()


class RadonTime(_Timing):
    model_name = "radon"


class RadonTrack(_Tracking):
    model_name = "radon"

    def setup_cache(self):
        return self.figures()


class PPCATime(_Timing):
    model_name = "ppca"


class PPCATrack(_Tracking):
    model_name = "ppca"

    def setup_cache(self):
        return self.figures()


class DiscreteClusterTime(_Timing):
    model_name = "discrete_cluster"


class DiscreteClusterTrack(_Tracking):
    model_name = "discrete_cluster"

    def setup_cache(self):
        return self.figures()
