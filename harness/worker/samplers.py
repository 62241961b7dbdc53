"""Sampler families: how to sample a model through each backend of the registry (harness.common.backends).

A backend entry names its family here and the family's options; `sampler_for(backend)` is the call. The
functions run inside a row's environment (Python 3.8 included) and import the sampling libraries lazily. Each returns a `Draws`: the posterior of the requested variables as arrays shaped
(chain, draw, *shape), the divergence count, and timings:

- `compile_s`: time before the first draw (model compilation, JIT, initialisation), measured apart where
  the library allows it, else the call's wall time less the sampling time the library reports;
- `sample_s`: time spent drawing (tuning included);
- `wall_s`: the whole sampling call.

The calls follow the installed versions (a row resolved as of an earlier date has older releases), by the
releases where each API appeared (API_SINCE). Where the harness cannot drive a release at all, a family
raises `HarnessCannotDrive`, which the cell records as `unavailable` with its own reason: a shortcoming of
the harness, never a break of the ecosystem.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

import numpy as np

# The first release of each API the harness calls (read from each release's source).
API_SINCE = {
    "pm.sample(compile_kwargs=)": ("pymc", "5.19.0"),  # before it: the PyTensor mode set in pytensor.config
    "pm.sample(backend=, nuts=)": ("pymc", "6.0.0"),  # pymc's own NUTS on a named PyTensor backend
    "pm.sample(nuts={chain_method})": ("pymc", "6.3.0"),  # 6.0-6.2 pass it to the kernel: call sample_jax_nuts
    "nutpie.compile_pymc_model(backend=, gradient_backend=)": ("nutpie", "0.12.0"),  # before it: Numba only
}


class HarnessCannotDrive(RuntimeError):
    """The harness has no way to drive the installed release for this backend (its own call is at fault, or
    the release lacks what the backend means). The cell is `unavailable`, with this message as its reason."""

    def __init__(self, what: str, why: str):  # what: the releases, e.g. "nutpie 0.11.0"
        super().__init__(f"the harness cannot drive {what}: {why}")


@dataclass
class SampleConfig:
    chains: int
    tune: int
    draws: int
    seed: int
    target_accept: float = 0.8
    cores: Optional[int] = None  # the cores the cell runs on (harness.worker.scheduler); None: the library's default

    def cores_kwargs(self) -> Dict[str, int]:
        """`cores=` for a sampler that runs chains in processes or threads, where the cell has a core set."""
        return {} if self.cores is None else {"cores": self.cores}


@dataclass
class Draws:
    posterior: Dict[str, np.ndarray]
    divergences: Optional[int]
    timings: Dict[str, float]
    info: Dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------------------
# Shared helpers


def _posterior(idata: Any, var_names: List[str]) -> Dict[str, np.ndarray]:
    """Arrays of the named variables from an InferenceData (arviz < 1) or a DataTree (arviz >= 1)."""
    post = _group(idata, "posterior")
    missing = [name for name in var_names if name not in post]
    if missing:
        raise KeyError(f"sampler returned no draws for {missing}")
    return {name: np.asarray(post[name].values) for name in var_names}


def _group(idata: Any, name: str) -> Any:
    """A group of an InferenceData (attribute) or a DataTree (item), or None when it is absent."""
    groups = idata.groups() if callable(getattr(idata, "groups", None)) else list(getattr(idata, "children", {}))
    if name not in [g.strip("/") for g in groups]:
        return None
    return getattr(idata, name) if hasattr(idata, name) else idata[name]


def _stat_total(idata: Any, keys: tuple) -> Optional[int]:
    """The sum over chains and draws of the first of `keys` the sampler's statistics have."""
    stats = _group(idata, "sample_stats")
    for key in keys if stats is not None else ():
        if key in stats:
            return int(np.asarray(stats[key].values).sum())
    return None


def _divergences(idata: Any) -> Optional[int]:
    return _stat_total(idata, ("diverging", "divergences", "divergent"))


def _grad_evals(idata: Any) -> Optional[int]:
    """Leapfrog steps (= gradient evaluations) summed over all kept draws of all chains."""
    return _stat_total(idata, ("n_steps", "tree_size", "num_steps"))


# pymc's NUTS, numpyro and blackjax (through pymc; pymc maps num_steps / num_trajectory_expansions): tree_depth;
# nutpie: depth. TFP's NUTS reports leapfrogs taken, not the depth.
TREE_DEPTH_KEYS = ("tree_depth", "depth")


def _tree_depths(idata: Any) -> Optional[Dict[str, int]]:
    """{depth: draws} over the kept draws of all chains, from the sampler's own statistics; None where the
    sampler reports none."""
    stats = _group(idata, "sample_stats")
    for key in TREE_DEPTH_KEYS if stats is not None else ():
        if key in stats:
            values, counts = np.unique(np.asarray(stats[key].values).astype(int), return_counts=True)
            return {str(int(v)): int(c) for v, c in zip(values, counts)}
    return None


def _sampling_time(idata: Any) -> Optional[float]:
    value = _group(idata, "posterior").attrs.get("sampling_time")
    return float(value) if value is not None else None


def _timed_call(fn: Callable[[], Any]):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def _from_idata(idata: Any, wall_s: float, var_names: List[str], compile_s: Optional[float] = None) -> Draws:
    """Draws with timings: the library's own sampling time where it reports one."""
    sample_s = _sampling_time(idata)
    if compile_s is None:
        sample_s = wall_s if sample_s is None else min(sample_s, wall_s)
        compile_s = wall_s - sample_s
        wall = wall_s
    else:
        sample_s = wall_s
        wall = compile_s + wall_s
    return Draws(
        posterior=_posterior(idata, var_names),
        divergences=_divergences(idata),
        timings={"compile_s": compile_s, "sample_s": sample_s, "wall_s": wall},
        info={"grad_evals": _grad_evals(idata), "tree_depth": _tree_depths(idata)},
    )


def _version(module: str) -> str:
    return str(__import__(module).__version__)


def _has(api: str) -> bool:
    """Does the installed release have this API (API_SINCE)?"""
    from packaging.version import Version

    module, since = API_SINCE[api]
    return Version(_version(module)) >= Version(since)


# --------------------------------------------------------------------------------------------------------
# pymc 5 / pymc 6


def _pm_sample(model: Any, cfg: SampleConfig, var_names: List[str], **kwargs: Any) -> Draws:
    import pymc as pm

    def call():
        with model:
            return pm.sample(
                draws=cfg.draws,
                tune=cfg.tune,
                chains=cfg.chains,
                random_seed=cfg.seed,
                progressbar=False,
                compute_convergence_checks=False,
                **cfg.cores_kwargs(),
                **kwargs,
            )

    idata, wall_s = _timed_call(call)
    return _from_idata(idata, wall_s, var_names)


def _pymc_nuts(mode: str) -> Callable[..., Draws]:
    """pymc's own Python NUTS with the model compiled by PyTensor to `mode` (c, numba or jax)."""

    def sample(model: Any, cfg: SampleConfig, var_names: List[str]) -> Draws:
        import pytensor

        nuts = {"nuts": {"target_accept": cfg.target_accept}}  # `nuts=` reaches NUTS alone, not Gibbs steps
        if _has("pm.sample(backend=, nuts=)"):
            return _pm_sample(model, cfg, var_names, nuts_sampler="pymc", backend=mode, **nuts)
        pytensor_mode = {"c": "FAST_RUN", "numba": "NUMBA", "jax": "JAX"}[mode]
        if _has("pm.sample(compile_kwargs=)"):
            return _pm_sample(model, cfg, var_names, nuts_sampler="pymc", compile_kwargs={"mode": pytensor_mode}, **nuts)
        with pytensor.config.change_flags(mode=pytensor_mode):  # every function pm.sample compiles
            return _pm_sample(model, cfg, var_names, nuts_sampler="pymc", **nuts)

    return sample


def _jax_nuts(sampler: str, chain_method: str = "parallel") -> Callable[..., Draws]:
    """numpyro or blackjax NUTS on the model's JAX log density, through pm.sample."""

    def sample(model: Any, cfg: SampleConfig, var_names: List[str]) -> Draws:
        settings = {"chain_method": chain_method}
        if _has("pm.sample(nuts={chain_method})"):
            return _pm_sample(
                model, cfg, var_names, nuts_sampler=sampler, nuts=dict(settings, target_accept=cfg.target_accept)
            )
        if _has("pm.sample(backend=, nuts=)"):  # pymc 6.0-6.2: pm.sample would hand chain_method to the kernel
            return _sample_jax_nuts(model, cfg, var_names, sampler, chain_method)
        return _pm_sample(
            model, cfg, var_names, nuts_sampler=sampler, nuts_sampler_kwargs=settings, target_accept=cfg.target_accept
        )

    return sample


def _sample_jax_nuts(model: Any, cfg: SampleConfig, var_names: List[str], sampler: str, chain_method: str) -> Draws:
    """pymc.sampling.jax.sample_jax_nuts, the function pm.sample calls for numpyro and blackjax."""
    from pymc.sampling.jax import sample_jax_nuts

    idata, wall_s = _timed_call(lambda: sample_jax_nuts(
        draws=cfg.draws, tune=cfg.tune, chains=cfg.chains, target_accept=cfg.target_accept, random_seed=cfg.seed,
        model=model, progressbar=False, chain_method=chain_method, nuts_sampler=sampler,
        compute_convergence_checks=False,
    ))
    return _from_idata(idata, wall_s, var_names)


def _nutpie(backend: str, gradient_backend: str = "pytensor") -> Callable[..., Draws]:
    """nutpie's Rust NUTS on a Numba- or JAX-compiled log density; compile and sampling timed apart."""

    def sample(model: Any, cfg: SampleConfig, var_names: List[str]) -> Draws:
        import nutpie

        kwargs = {"backend": backend}
        if backend == "jax":
            kwargs["gradient_backend"] = gradient_backend
        if not _has("nutpie.compile_pymc_model(backend=, gradient_backend=)"):
            if backend != "numba":
                raise HarnessCannotDrive(f"nutpie {nutpie.__version__}", f"no {backend} backend before nutpie "
                                         f"{API_SINCE['nutpie.compile_pymc_model(backend=, gradient_backend=)'][1]}")
            kwargs = {}  # Numba, the only backend, takes no argument
        compiled, compile_s = _timed_call(lambda: nutpie.compile_pymc_model(model, **kwargs))
        idata, sample_s = _timed_call(
            lambda: nutpie.sample(
                compiled, draws=cfg.draws, tune=cfg.tune, chains=cfg.chains, seed=cfg.seed,
                target_accept=cfg.target_accept, progress_bar=False, **cfg.cores_kwargs(),
            )
        )
        draws = _from_idata(idata, sample_s, var_names, compile_s=compile_s)
        return draws

    return sample


def _tfp_nuts(model: Any, cfg: SampleConfig, var_names: List[str]) -> Draws:
    """TFP's NUTS on the model's JAX log density (the current stack has no pymc entry point for TFP).

    Warm-up in two halves, like Stan's windowed adaptation reduced to one window: dual-averaging step size
    on the raw log density, then a diagonal preconditioner from the first half's draws and a fresh step-size
    adaptation. Chains are vmapped; the whole run is one jitted function.
    """
    import jax
    import jax.numpy as jnp
    import tensorflow_probability.substrates.jax as tfp
    from jax.flatten_util import ravel_pytree
    from pymc.sampling.jax import get_jaxified_graph, get_jaxified_logp

    start = time.perf_counter()
    logp = get_jaxified_logp(model)  # sic: the default negative_logp=True returns +logp (the name is inverted)
    point = model.initial_point()
    names = [v.name for v in model.value_vars]
    flat0, unravel = ravel_pytree([jnp.asarray(point[n]) for n in names])
    rng = np.random.RandomState(cfg.seed)
    inits = jnp.asarray(flat0[None, :] + rng.uniform(-1, 1, size=(cfg.chains, flat0.size)), dtype=flat0.dtype)
    keys = jax.random.split(jax.random.PRNGKey(cfg.seed), cfg.chains)
    first = cfg.tune // 2

    def flat_logp(x):
        return logp(unravel(x))

    def nuts_run(target, init, n_burn, n_draws, key):
        kernel = tfp.mcmc.DualAveragingStepSizeAdaptation(
            tfp.mcmc.NoUTurnSampler(target_log_prob_fn=target, step_size=0.1),
            num_adaptation_steps=max(int(0.8 * n_burn), 1),
            target_accept_prob=cfg.target_accept,
        )
        return tfp.mcmc.sample_chain(
            num_results=n_draws,
            num_burnin_steps=n_burn,
            current_state=init,
            kernel=kernel,
            trace_fn=lambda _, pkr: (pkr.inner_results.has_divergence, pkr.inner_results.leapfrogs_taken),
            seed=key,
        )

    def chain(init, key):
        key1, key2 = jax.random.split(key)
        warm, _ = nuts_run(flat_logp, init, first // 2, first - first // 2, key1)
        loc, scale = warm.mean(axis=0), warm.std(axis=0) + 1e-6

        def preconditioned(u):
            return flat_logp(loc + scale * u)

        u, (divergent, leapfrogs) = nuts_run(preconditioned, (warm[-1] - loc) / scale, cfg.tune - first, cfg.draws, key2)
        return loc + scale * u, divergent, leapfrogs

    run = jax.jit(jax.vmap(chain))
    compiled = run.lower(inits, keys).compile()
    compile_s = time.perf_counter() - start
    (flat, divergent, leapfrogs), sample_s = _timed_call(lambda: jax.block_until_ready(compiled(inits, keys)))

    outputs = [v for v in model.unobserved_value_vars if v.name in var_names]
    to_constrained = get_jaxified_graph(inputs=model.value_vars, outputs=outputs)
    values = jax.vmap(jax.vmap(lambda x: to_constrained(*unravel(x))))(flat)
    posterior = {v.name: np.asarray(arr) for v, arr in zip(outputs, values)}
    missing = [n for n in var_names if n not in posterior]
    if missing:
        raise KeyError(f"sampler returned no draws for {missing}")
    return Draws(
        posterior=posterior,
        divergences=int(np.asarray(divergent).sum()),
        timings={"compile_s": compile_s, "sample_s": sample_s, "wall_s": compile_s + sample_s},
        info={"grad_evals": int(np.asarray(leapfrogs).sum())},
    )


# --------------------------------------------------------------------------------------------------------
# pymc3 (legacy row)


def _pymc3_nuts(model: Any, cfg: SampleConfig, var_names: List[str]) -> Draws:
    import pymc3 as pm

    def call():
        with model:
            # target_accept must reach NUTS alone: pymc3 hands sample()'s extra arguments to every step
            # method, and its Gibbs steps for discrete variables reject it
            if model.disc_vars:
                tuning = {"step": pm.NUTS(vars=model.cont_vars, target_accept=cfg.target_accept)}
            else:
                tuning = {"target_accept": cfg.target_accept}
            return pm.sample(
                draws=cfg.draws,
                tune=cfg.tune,
                chains=cfg.chains,
                random_seed=[cfg.seed + i for i in range(cfg.chains)],
                progressbar=False,
                compute_convergence_checks=False,
                return_inferencedata=True,
                **cfg.cores_kwargs(),
                **tuning,
            )

    idata, wall_s = _timed_call(call)
    return _from_idata(idata, wall_s, var_names)


def _pymc3_jax(function: str) -> Callable[..., Draws]:
    """pymc3.sampling_jax: the model's Theano graph as JAX, sampled by numpyro or TFP."""

    def sample(model: Any, cfg: SampleConfig, var_names: List[str]) -> Draws:
        import pymc3.sampling_jax as sampling_jax

        sampler = getattr(sampling_jax, function)
        idata, wall_s = _timed_call(
            lambda: sampler(
                draws=cfg.draws,
                tune=cfg.tune,
                chains=cfg.chains,
                target_accept=cfg.target_accept,
                random_seed=cfg.seed,
                model=model,
            )
        )
        return _from_idata(idata, wall_s, var_names)

    return sample


# --------------------------------------------------------------------------------------------------------
# The families a registry entry can name, each taking the entry's options.

SAMPLERS: Dict[str, Callable[..., Callable[..., Draws]]] = {
    "pymc-nuts": lambda mode: _pymc_nuts(mode),
    "pm-sample-jax": lambda sampler, chain_method: _jax_nuts(sampler, chain_method),
    "nutpie": lambda backend, gradient_backend="pytensor": _nutpie(backend, gradient_backend),
    "tfp-nuts": lambda: _tfp_nuts,
    "pymc3-nuts": lambda: _pymc3_nuts,
    "pymc3-jax": lambda function: _pymc3_jax(function),
}


def sampler_for(backend: Any) -> Callable[..., Draws]:
    """`sample(model, config, var_names) -> Draws` for a registry entry (harness.common.backends.Backend).

    A TypeError raised by the harness's own call (a keyword or argument the installed release does not
    take: the call's frame is the last of the traceback, in this file) becomes HarnessCannotDrive."""
    family = SAMPLERS[backend.sampler](**backend.options)

    def sample(model: Any, cfg: SampleConfig, var_names: List[str]) -> Draws:
        if "jax" in backend.modules:
            _jax_cache_or_none()
        try:
            return family(model, cfg, var_names)
        except TypeError as exc:
            if not _raised_by_own_call(exc):
                raise
            stack = ", ".join(f"{m} {_version(m)}" for m in backend.modules if _imported(m)) or backend.name
            raise HarnessCannotDrive(stack, f"{type(exc).__name__}: {exc}") from exc

    return sample


def _jax_cache_or_none() -> None:
    """The harness gives jax a persistent compilation cache (harness.common.environment). Where etils is
    installed, jax opens that cache through etils.epath; etils without its epath extra's dependencies (jax
    0.5 with optax's etils, early 2025: `importlib_resources` missing) fails every compile. Such a stack
    runs without the harness's cache, as its users ran it."""
    import importlib
    import importlib.util
    import sys

    if not os.environ.get("JAX_COMPILATION_CACHE_DIR") or importlib.util.find_spec("etils") is None:
        return
    try:
        importlib.import_module("etils.epath")
    except ImportError as exc:
        import jax

        os.environ.pop("JAX_COMPILATION_CACHE_DIR")  # for the chain processes pymc starts
        jax.config.update("jax_compilation_cache_dir", None)
        print(f"harness: jax's persistent compilation cache is off: etils.epath does not import ({exc})", file=sys.stderr)


def _raised_by_own_call(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename) == os.path.abspath(__file__)


def _imported(module: str) -> bool:
    import sys

    return hasattr(sys.modules.get(module), "__version__")
