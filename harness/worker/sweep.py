"""Where should my model run? One log density + gradient of the radon-style GLM (varying intercepts and
slopes, 85 groups), timed on the GPU and on the CPU of the same machine, per size, formulation and
gradient path.

    python -m harness.worker.sweep OUT.json [--sizes 1000,10000,...] [--budget-s S] [--total-s S]
                                            [--devices gpu,cpu] [--variants V,...] [--paths P,...]

Gradient paths (what each sampler runs):
- jax-autodiff: jax.jit(jax.value_and_grad(pymc.sampling.jax.get_jaxified_logp(model))), the gradient
  numpyro, blackjax, tfp and nutpie-jax-jaxgrad take;
- pytensor-jax: PyTensor's own gradient graph compiled by its JAX linker (model.compile_fn(..., mode="JAX")),
  the function's jitted core called directly, as nutpie-jax does (pymc-jax calls it through PyTensor's
  Function wrapper, which adds Python overhead of tens of microseconds);
- pytensor-c, pytensor-numba: the same graph compiled to C (FAST_RUN) or Numba, on the CPU only.

Variants are the models of models/formulations/ at sweep sizes (radon's generator; radon_sorted is radon's
own data and gather), radon_sorted in float32 (`@float32`), and `radon_sorted+hint`: radon_sorted with
PyTensor's JAX indexing patched to pass jax's indices_are_sorted=True, which PyTensor 3.3 does not emit;
it says what that change would buy.

Per point (size, variant, path, device): the median of repeated calls after a warm-up, with its spread
and count, the compile time (building the function plus the first call), and on a GPU the device memory
peak. The CPU runs jax with its default threads (XLA sizes its pool by the schedulable CPUs; recorded),
not the cells' one thread per chain. A series (variant, path, device) stops growing once a point takes
longer than --budget-s or is predicted to; --total-s bounds the whole sweep. OUT.json (and OUT.md, the
tables) are rewritten after every point, so nothing measured is lost to a crash or a timeout.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

SIZES = [1_000, 10_000, 100_000, 1_000_000, 10_000_000]
GROUPS = 85
DEVICES = ("gpu", "cpu")
PATH_DEVICES = {"jax-autodiff": DEVICES, "pytensor-jax": DEVICES, "pytensor-c": ("cpu",), "pytensor-numba": ("cpu",)}
JAX_PATHS = ("jax-autodiff", "pytensor-jax")
# PyTensor's C backend compiles the graph anew at every size (its module cache keys hash the data constants):
# ~4 s a point on the rehearsal's CPU, where Numba, as fast on this model, takes ~1 s. So the C path runs
# the gather forms only, the CPU's baseline.
NO_C = JAX_PATHS + ("pytensor-numba",)


@dataclass(frozen=True)
class Variant:
    model: str  # in models/formulations
    precision: str = "float64"
    max_obs: Optional[int] = None
    paths: Tuple[str, ...] = tuple(PATH_DEVICES)
    devices: Tuple[str, ...] = DEVICES


# In the order they run at each size, so that a --total-s cut takes the least needed last: the gather as
# radon writes it (radon_sorted is radon itself: radon's generator gives its rows in county order, and the
# graph is the same gather), the gather on rows in random order (the CPU's fastest form), the forms that
# may suit a GPU, then float32.
VARIANTS = {
    "radon_sorted": Variant("radon_sorted"),
    "radon_shuffled": Variant("radon_shuffled"),
    "radon_segment": Variant("radon_segment", paths=NO_C),
    "radon_sorted+hint": Variant("radon_sorted", paths=JAX_PATHS, devices=("gpu",)),  # the GPU's scatter
    # the one-hot matrix takes 6.8 GB at 1e7; on the CPU a dense product never beats the gather, and its
    # first C compile took 2 minutes on the rehearsal's CPU, so only the JAX paths
    "radon_onehot": Variant("radon_onehot", max_obs=1_000_000, paths=JAX_PATHS),
    "radon_sorted@float32": Variant("radon_sorted", precision="float32", paths=NO_C),
}
TIMED_S = 0.3  # timed calls per point after the warm-up: for this long, at least MIN_CALLS
MIN_CALLS = 3  # timed calls per point, whatever their cost
MAX_CALLS = 200
OK, OVER, ERROR, SKIPPED = "ok", "over budget", "error", "skipped"


# --- the plan and the verdicts: pure functions, tested without pymc (tests/test_sweep.py) ---

def parse_sizes(text: str) -> List[int]:
    sizes = sorted({int(float(s)) for s in text.split(",") if s.strip()})
    if not sizes or sizes[0] < GROUPS:
        raise ValueError(f"sizes must be at least {GROUPS} observations (one per group): {text!r}")
    return sizes


def skip_reason(done: List[Dict[str, Any]], n: int, budget_s: float, max_obs: Optional[int] = None) -> Optional[str]:
    """Why the series' point at n_obs=n is not run (None: run it), from its points so far (`done`)."""
    if max_obs is not None and n > max_obs:
        return f"this formulation stops at {max_obs:,} observations"
    if not done:
        return None
    last = done[-1]
    if last["status"] in (OVER, ERROR, SKIPPED):
        return f"series stopped at {last['n']:,}: {last['status']}"
    predicted = (MIN_CALLS + 1) * last["grad_s"]["median"] * n / last["n"]
    if predicted > budget_s:
        return f"predicted {predicted:.0f} s from {last['n']:,} observations, over the {budget_s:.0f} s budget"
    return None


def summary(times: List[float]) -> Dict[str, Any]:
    quartiles = statistics.quantiles(times, n=4) if len(times) > 1 else [times[0]] * 3
    return {"median": statistics.median(times), "q25": quartiles[0], "q75": quartiles[2], "min": min(times),
            "calls": len(times)}


def time_calls(call: Callable[[], Any], seconds: float) -> Dict[str, Any]:
    """Repeated timed calls (the caller made the warm-up call): at least MIN_CALLS, then for `seconds`."""
    times: List[float] = []
    start = time.perf_counter()
    while len(times) < MIN_CALLS or (len(times) < MAX_CALLS and time.perf_counter() - start < seconds):
        t = time.perf_counter()
        call()
        times.append(time.perf_counter() - t)
    return summary(times)


def _seconds(point: Dict[str, Any]) -> Optional[float]:
    return point["grad_s"]["median"] if point["status"] in (OK, OVER) else None


def crossovers(points: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Per (path, variant) measured on the GPU: the smallest size from which the GPU beats the same path on
    the CPU at every larger size measured on both, and the same against the fastest CPU point of any path
    and variant of the same precision at that size (what a user choosing a machine compares); null, with
    the largest size compared, where the GPU does not pull ahead."""
    times: Dict[Tuple[str, str, str], Dict[int, float]] = {}
    for p in points:
        if _seconds(p) is not None:
            times.setdefault((p["path"], p["variant"], p["device"]), {})[p["n"]] = _seconds(p)
    precision = {p["variant"]: p.get("precision", "float64") for p in points}
    best_cpu: Dict[Tuple[str, int], float] = {}
    for (_, variant, device), series in times.items():
        if device == "cpu":
            for n, s in series.items():
                key = (precision[variant], n)
                best_cpu[key] = min(s, best_cpu.get(key, s))
    out = []
    for (path, variant, device), gpu in sorted(times.items()):
        if device != "gpu":
            continue
        entry = {"path": path, "variant": variant}
        same_precision = {n: s for (p, n), s in best_cpu.items() if p == precision[variant]}
        for key, cpu in (("vs_same_path", times.get((path, variant, "cpu"), {})), ("vs_best_cpu", same_precision)):
            sizes, since = sorted(set(gpu) & set(cpu)), None
            for n in reversed(sizes):  # from the largest size down, while the GPU is ahead
                if gpu[n] >= cpu[n]:
                    break
                since = n
            entry[key] = since
            entry[key + "_note"] = None if since else f"no crossover up to {sizes[-1]:,}" if sizes else "nothing to compare"
        out.append(entry)
    return out


def _cell(point: Optional[Dict[str, Any]]) -> str:
    if point is None:
        return ""
    if point["status"] in (OK, OVER):
        s = point["grad_s"]["median"]
        text = f"{s * 1e3:.3g} ms" if s < 1 else f"{s:.3g} s"
        return text + (" (over budget)" if point["status"] == OVER else "")
    return point["status"]


def markdown(payload: Dict[str, Any]) -> str:
    """The tables of OUT.md: gradient time per point, then the crossovers."""
    points = payload["points"]
    columns = [(path, device) for path, devices in PATH_DEVICES.items() for device in devices
               if device in payload["devices_measured"] and path in payload["paths"]]
    by_key = {(p["variant"], p["n"], p["path"], p["device"]): p for p in points}
    lines = [
        "# Gradient sweep: radon-style GLM, 85 groups",
        "",
        f"{payload['machine']}; " + ", ".join(f"{k} {v}" for k, v in payload["versions"].items() if v),
        "",
        "One log density + gradient, median of repeated calls after a warm-up; GPU peak: device memory "
        "(<= where a point did not raise the process's peak). Statuses and spreads are in the JSON.",
        "",
        "| variant | n_obs | " + " | ".join(f"{path} {device.upper()}" for path, device in columns) + " | GPU peak MB |",
        "|---|---:|" + "---:|" * (len(columns) + 1),
    ]
    for variant in payload["variants"]:
        for n in sorted({p["n"] for p in points if p["variant"] == variant}):
            row = [_cell(by_key.get((variant, n, path, device))) for path, device in columns]
            peaks = [p for p in points if p["variant"] == variant and p["n"] == n and p.get("device_peak_mb")]
            peak = max(peaks, key=lambda p: p["device_peak_mb"]) if peaks else None
            peak_text = "" if peak is None else ("" if peak.get("device_peak_rose") else "<= ") + f"{peak['device_peak_mb']:.0f}"
            lines.append(f"| {variant} | {n:,} | " + " | ".join(row) + f" | {peak_text} |")
    lines += ["", "Crossover: the smallest size from which the GPU is faster at every larger size measured.", "",
              "| path | variant | GPU beats the same path on the CPU from | GPU beats the fastest CPU point from |",
              "|---|---|---|---|"]
    for c in payload["crossovers"]:
        cells = [f"{c[k]:,}" if c[k] is not None else c[k + "_note"] for k in ("vs_same_path", "vs_best_cpu")]
        lines.append(f"| {c['path']} | {c['variant']} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines) + "\n"


def save(path: Path, payload: Dict[str, Any]) -> None:
    """OUT.json and OUT.md, rewritten whole (atomically) after every point."""
    from harness.worker.results import write_atomic

    payload["crossovers"] = crossovers(payload["points"])
    write_atomic(path, payload)
    md = path.with_suffix(".md")
    tmp = md.with_name(f".{md.name}.tmp")
    tmp.write_text(markdown(payload))
    os.replace(tmp, md)


# --- the measurements: run inside an environment with pymc, pytensor and jax ---

def _prepare_environment(devices: List[str]) -> None:
    """Before jax is imported: a CPU-only sweep keeps jax off any GPU, and GPU memory is allocated as used
    so the peak says what a point needs."""
    if "gpu" not in devices:
        os.environ.setdefault("JAX_PLATFORMS", "cpu")
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")


@contextmanager
def _sorted_indices_hint() -> Iterator[None]:
    """PyTensor's JAX indexing with jax's indices_are_sorted=True, while functions are built. Only for data
    sorted by group: a wrong hint gives wrong numbers silently."""
    from pytensor.link.jax.dispatch.basic import jax_funcify
    from pytensor.tensor.subtensor import AdvancedIncSubtensor, AdvancedSubtensor, indices_from_subtensor

    def index(op, ilists):
        indices = indices_from_subtensor(ilists, op.idx_list)
        return indices[0] if len(indices) == 1 else indices

    def gather(op, node, **kwargs):
        return lambda x, *ilists: x.at[index(op, ilists)].get(indices_are_sorted=True)

    def scatter(op, node, **kwargs):
        if op.set_instead_of_inc:
            return lambda x, y, *ilists: x.at[index(op, ilists)].set(y, indices_are_sorted=True)
        return lambda x, y, *ilists: x.at[index(op, ilists)].add(y, indices_are_sorted=True)

    originals = {cls: jax_funcify.dispatch(cls) for cls in (AdvancedSubtensor, AdvancedIncSubtensor)}
    jax_funcify.register(AdvancedSubtensor)(gather)
    jax_funcify.register(AdvancedIncSubtensor)(scatter)
    try:
        yield
    finally:
        for cls, fn in originals.items():
            jax_funcify.register(cls)(fn)


@contextmanager
def _precision(precision: str) -> Iterator[None]:
    """float32 as a float32 row runs it (harness.common.environment.cell_env): PyTensor's floatX and jax's
    x64 together, here switched in-process for the variant's points."""
    import jax
    import pytensor

    with pytensor.config.change_flags(floatX=precision), jax.enable_x64(precision == "float64"):
        yield


def _values(model: Any, names: List[str]) -> List[Any]:
    point = model.initial_point()
    return [point[name] for name in names]


def _jax_autodiff(model: Any) -> Callable[[Any], Callable[[], Any]]:
    import jax
    from pymc.sampling.jax import get_jaxified_logp

    fn = jax.jit(jax.value_and_grad(get_jaxified_logp(model)))
    values = _values(model, [v.name for v in model.value_vars])

    def on(device):
        x = jax.device_put(values, device)
        return lambda: jax.block_until_ready(fn(x))
    return on


def _pytensor_jax(model: Any) -> Callable[[Any], Callable[[], Any]]:
    import jax
    import pytensor.tensor as pt

    logp = model.logp()
    function = model.compile_fn([logp, *pt.grad(logp, model.value_vars)], mode="JAX").f
    values = _values(model, [i.variable.name for i in function.maker.inputs])

    def on(device):
        x = jax.device_put(values, device)
        return lambda: jax.block_until_ready(function.vm.jit_fn(*x))
    return on


def _pytensor_cpu(mode: str) -> Callable[[Any], Callable[[Any], Callable[[], Any]]]:
    def prepare(model):
        import pytensor

        from harness.worker.gradient import GRADIENT_CALLS

        if mode == "FAST_RUN" and not pytensor.config.cxx:  # it would run PyTensor's Python code instead
            raise RuntimeError("PyTensor finds no C++ compiler (config.cxx is empty): no C backend here")

        call = GRADIENT_CALLS[mode](model)
        return lambda device: call
    return prepare


PREPARE = {"jax-autodiff": _jax_autodiff, "pytensor-jax": _pytensor_jax,
           "pytensor-c": _pytensor_cpu("FAST_RUN"), "pytensor-numba": _pytensor_cpu("NUMBA")}


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:500]


def _process_threads() -> Optional[int]:
    """This process's threads (XLA's CPU pool among them, and Numba's and the BLAS's), where Linux says."""
    try:
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("Threads:"))
    except (OSError, StopIteration, ValueError):
        return None


def _dtype(result: Any) -> str:
    import numpy as np

    first = result[0] if isinstance(result, (list, tuple)) else result
    while isinstance(first, (list, tuple)):
        first = first[0]
    return str(np.asarray(first).dtype)


class Sweep:
    def __init__(self, out: Path, args: argparse.Namespace):
        import jax

        from harness.common.devices import GPU_PLATFORMS
        from harness.common.versions import installed_versions
        from harness.worker import fingerprint
        from models import load_models

        jax.config.update("jax_enable_x64", True)
        self.out, self.budget_s = out, args.budget_s
        self.deadline = time.perf_counter() + args.total_s
        self.models = load_models([str(Path(__file__).resolve().parents[2] / "models" / "formulations")])
        self.devices: Dict[str, Any] = {"cpu": jax.devices("cpu")[0]}
        gpus = [d for d in jax.devices() if d.platform in GPU_PLATFORMS]
        notes = []
        if "gpu" in args.devices and gpus:
            self.devices["gpu"] = gpus[0]
        elif "gpu" in args.devices:
            notes.append(f"no GPU: jax sees only {sorted({d.platform for d in jax.devices()})}; CPU points only")
        if "cpu" not in args.devices:
            del self.devices["cpu"]
        versions = installed_versions(["pymc", "pytensor", "jax", "jaxlib", "numpy", "numba", "jax-cuda13-plugin",
                                       "jax-cuda12-plugin"])
        self.payload: Dict[str, Any] = {
            "schema": "pymc-matrix-gradient-sweep/1",
            "command": sys.argv,
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "finished": None,
            "versions": versions,
            "machine": self._machine(fingerprint),
            "devices": fingerprint._probe(fingerprint._devices),
            "gpu_driver": fingerprint._probe(fingerprint._gpu_driver),
            "cpu_threads": self._cpu_threads(),
            "pytensor": {**fingerprint._probe(fingerprint._tensor_config), "cxx": self._cxx()},
            "devices_measured": list(self.devices),
            "sizes": args.sizes, "variants": args.variants, "paths": args.paths,
            "variant_definitions": {name: asdict(VARIANTS[name]) for name in args.variants},
            "budget_s": args.budget_s, "total_s": args.total_s, "notes": notes,
            "points": [], "builds": [],
        }

    def _machine(self, fingerprint: Any) -> str:
        gpu = self.devices.get("gpu")
        return (f"GPU {gpu.device_kind}; " if gpu is not None else "") + f"CPU {fingerprint._cpu()}"

    @staticmethod
    def _cpu_threads() -> Dict[str, Any]:
        """What jax's CPU backend computes with: XLA sizes its intra-op pool by the CPUs this process may
        run on, unless XLA_FLAGS says otherwise; the thread variables the C and Numba paths see."""
        return {"schedulable_cpus": len(os.sched_getaffinity(0)), "cpu_count": os.cpu_count(),
                **{k: os.environ.get(k) for k in ("XLA_FLAGS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                                   "NUMBA_NUM_THREADS")}}

    @staticmethod
    def _cxx() -> str:
        import pytensor

        return pytensor.config.cxx

    def _series(self, variant: str, path: str, device: str) -> List[Dict[str, Any]]:
        return [p for p in self.payload["points"] if (p["variant"], p["path"], p["device"]) == (variant, path, device)]

    def _record(self, point: Dict[str, Any]) -> None:
        self.payload["points"].append(point)
        save(self.out, self.payload)
        shown = _cell(point) if point["status"] in (OK, OVER) else f"{point['status']}: {point.get('reason')}"
        print(f"{point['variant']:>18} {point['n']:>10,} {point['path']:>14} {point['device']}: {shown}", flush=True)

    @staticmethod
    def _point(variant: str, n: int, path: str, device: str, **fields: Any) -> Dict[str, Any]:
        return {"n": n, "variant": variant, "precision": VARIANTS[variant].precision, "path": path, "device": device,
                **fields}

    def _pending(self, variant: str, n: int) -> List[Tuple[str, str]]:
        """The (path, device) points to run at this size; the others are recorded as skipped."""
        spec = VARIANTS[variant]
        pending = []
        for path in self.payload["paths"]:
            for device in PATH_DEVICES[path]:
                if device not in self.devices or path not in spec.paths or device not in spec.devices:
                    continue
                reason = "the sweep's --total-s is spent" if time.perf_counter() > self.deadline else \
                    skip_reason(self._series(variant, path, device), n, self.budget_s, spec.max_obs)
                if reason:
                    self._record(self._point(variant, n, path, device, status=SKIPPED, reason=reason))
                else:
                    pending.append((path, device))
        return pending

    def run(self) -> None:
        for n in self.payload["sizes"]:
            for variant in self.payload["variants"]:
                pending = self._pending(variant, n)
                if pending:
                    self._variant_at(variant, n, pending)
        self.payload["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.payload["cpu_threads"]["process_threads_at_end"] = _process_threads()
        save(self.out, self.payload)

    def _variant_at(self, variant: str, n: int, pending: List[Tuple[str, str]]) -> None:
        import pymc as pm

        from harness.worker.child import as_precision

        precision = VARIANTS[variant].precision
        spec = self.models[VARIANTS[variant].model]
        with ExitStack() as stack:
            stack.enter_context(_precision(precision))
            if variant.endswith("+hint"):  # only on data sorted by group: a wrong hint is a wrong gradient
                stack.enter_context(_sorted_indices_hint())
            start = time.perf_counter()
            try:
                model = spec.build(pm, "pymc", as_precision(spec.data(n_obs=n, n_counties=GROUPS), precision))
            except Exception as exc:  # a size too large to build is every pending point's error
                for path, device in pending:
                    self._record(self._point(variant, n, path, device, status=ERROR,
                                             reason=f"building the model: {_error(exc)}"))
                return
            self.payload["builds"].append({"variant": variant, "n": n, "data_and_model_s": time.perf_counter() - start})
            for path in dict.fromkeys(path for path, _ in pending):
                self._path_at(model, variant, n, path, [d for p, d in pending if p == path])

    def _path_at(self, model: Any, variant: str, n: int, path: str, devices: List[str]) -> None:
        start = time.perf_counter()
        try:
            on = PREPARE[path](model)
        except Exception as exc:
            for device in devices:
                self._record(self._point(variant, n, path, device, status=ERROR, reason=f"compiling: {_error(exc)}"))
            return
        prepare_s = time.perf_counter() - start
        for device in devices:
            point = self._point(variant, n, path, device, prepare_s=prepare_s)
            first = not self._series(variant, path, device)
            try:
                point.update(self._measure(on, device, prepare_s, first))
            except Exception as exc:  # an out-of-memory or a backend failure is this point's error
                point.update(status=ERROR, reason=_error(exc))
            self._record(point)

    def _measure(self, on: Callable[[Any], Callable[[], Any]], device: str, prepare_s: float,
                 first: bool) -> Dict[str, Any]:
        """One point: the first call (compile), then timed calls. A series' first point pays one-time costs
        (cold compile caches: PyTensor's C modules, Numba), so the budget stops a series from its second."""
        jax_device = self.devices[device]
        peak_before = self._device_peak(jax_device)
        start = time.perf_counter()
        call = on(jax_device)
        result = call()
        first_call_s = time.perf_counter() - start
        grad_s = time_calls(call, TIMED_S)
        wall_s = prepare_s + time.perf_counter() - start
        point = {"status": OVER if wall_s > self.budget_s and not first else OK, "grad_s": grad_s,
                 "compile_s": prepare_s + first_call_s, "first_call_s": first_call_s, "wall_s": wall_s,
                 "dtype": _dtype(result)}
        if point["status"] == OVER:
            point["reason"] = f"the point took {wall_s:.0f} s, over the {self.budget_s:.0f} s budget"
        peak = self._device_peak(jax_device)
        if peak is not None:
            point.update(device_peak_mb=peak / 2**20, device_peak_rose=peak_before is None or peak > peak_before)
        return point

    @staticmethod
    def _device_peak(device: Any) -> Optional[float]:
        if device.platform == "cpu":
            return None
        stats = device.memory_stats() or {}
        return stats.get("peak_bytes_in_use")


def parse_args(argv: List[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m harness.worker.sweep", description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the JSON file to write (OUT.md beside it)")
    parser.add_argument("--sizes", type=parse_sizes, default=SIZES, help="numbers of observations, comma-separated")
    parser.add_argument("--budget-s", type=float, default=30.0, help="per point: longer stops its series")
    parser.add_argument("--total-s", type=float, default=3600.0, help="the whole sweep: later points are skipped")
    parser.add_argument("--devices", type=lambda s: s.split(","), default=DEVICES, help="gpu,cpu or one of them")
    parser.add_argument("--variants", type=lambda s: s.split(","), default=list(VARIANTS))
    parser.add_argument("--paths", type=lambda s: s.split(","), default=list(PATH_DEVICES))
    args = parser.parse_args(argv)
    for key, known in (("devices", DEVICES), ("variants", VARIANTS), ("paths", PATH_DEVICES)):
        unknown = [v for v in getattr(args, key) if v not in known]
        if unknown:
            parser.error(f"--{key}: unknown {', '.join(unknown)}; known: {', '.join(known)}")
    return args


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    _prepare_environment(args.devices)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sweep = Sweep(args.out, args)
    sweep.run()
    print(f"sweep: {args.out} and {args.out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
