"""The backend registry: one entry per sampler backend, carrying everything that is per-backend.

A new backend is one entry here (plus the rows of matrix.toml that run it). Each entry says
- `api`: which rows can run it (pymc3 or pymc 5/6 model builders and entry points);
- `modules`: import names that must be present in the row (a missing one makes the cell `unavailable`);
- `sampler` and `options`: the sampler family in `harness.worker.samplers.SAMPLERS` and its arguments;
- `gradient`: how `harness.worker.gradient` times one log density + gradient evaluation the way this
  backend computes it (a PyTensor mode, JAX autodiff of the jaxified log density, Theano), or
  `unmeasured` where the harness has no such probe (the figure is then recorded as not measured, and why);
- `discrete`: whether it samples models with discrete free variables (gradient-only samplers cannot).

Plain data, so the host validates matrix.toml against it without importing any sampling library.
`tests/test_backends.py` fails when an entry is incomplete or names a family or gradient kind that does not
exist.
"""

from dataclasses import dataclass, field
from typing import Any, Dict, Tuple

APIS = ("pymc3", "pymc")


@dataclass(frozen=True)
class Backend:
    name: str
    api: str
    description: str
    modules: Tuple[str, ...]
    sampler: str
    gradient: str
    discrete: bool = False
    options: Dict[str, Any] = field(default_factory=dict, hash=False)

    def applies_to(self, model: Any) -> bool:
        """Can this backend sample the model at all (not: does it sample it right)?"""
        return self.discrete or not getattr(model, "discrete", False)


_PYMC = ("pymc",)
_JAX = ("pymc", "jax")

BACKENDS: Dict[str, Backend] = {
    b.name: b
    for b in (
        Backend("pymc-c", "pymc", "pymc NUTS (Python), PyTensor C backend", _PYMC,
                "pymc-nuts", "FAST_RUN", discrete=True, options={"mode": "c"}),
        Backend("pymc-numba", "pymc", "pymc NUTS (Python), PyTensor Numba backend", ("pymc", "numba"),
                "pymc-nuts", "NUMBA", discrete=True, options={"mode": "numba"}),
        Backend("pymc-jax", "pymc", "pymc NUTS (Python), PyTensor JAX backend", _JAX,
                "pymc-nuts", "JAX", discrete=True, options={"mode": "jax"}),
        Backend("nutpie-numba", "pymc", "nutpie (Rust NUTS), Numba log density", ("pymc", "nutpie", "numba"),
                "nutpie", "NUMBA", options={"backend": "numba"}),
        Backend("nutpie-jax", "pymc", "nutpie (Rust NUTS), JAX log density, PyTensor gradient", ("pymc", "nutpie", "jax"),
                "nutpie", "JAX", options={"backend": "jax", "gradient_backend": "pytensor"}),
        Backend("nutpie-jax-jaxgrad", "pymc", "nutpie (Rust NUTS), JAX log density, JAX gradient", ("pymc", "nutpie", "jax"),
                "nutpie", "jax-autodiff", options={"backend": "jax", "gradient_backend": "jax"}),
        Backend("numpyro-parallel", "pymc", "NumPyro NUTS, chains in parallel", ("pymc", "jax", "numpyro"),
                "pm-sample-jax", "jax-autodiff", options={"sampler": "numpyro", "chain_method": "parallel"}),
        Backend("numpyro-vectorized", "pymc", "NumPyro NUTS, chains vectorized", ("pymc", "jax", "numpyro"),
                "pm-sample-jax", "jax-autodiff", options={"sampler": "numpyro", "chain_method": "vectorized"}),
        Backend("blackjax", "pymc", "BlackJAX NUTS through pm.sample", ("pymc", "jax", "blackjax"),
                "pm-sample-jax", "jax-autodiff", options={"sampler": "blackjax", "chain_method": "parallel"}),
        Backend("tfp", "pymc", "TFP NUTS on the model's JAX log density", ("pymc", "jax", "tensorflow_probability"),
                "tfp-nuts", "jax-autodiff"),
        Backend("pymc3-nuts", "pymc3", "pymc3 NUTS (Python), Theano-PyMC C backend", ("pymc3",),
                "pymc3-nuts", "theano", discrete=True),
        Backend("pymc3-numpyro", "pymc3", "pymc3.sampling_jax.sample_numpyro_nuts", ("pymc3", "jax", "numpyro"),
                "pymc3-jax", "unmeasured", options={"function": "sample_numpyro_nuts"}),
        Backend("pymc3-tfp", "pymc3", "pymc3.sampling_jax.sample_tfp_nuts", ("pymc3", "jax", "tensorflow_probability"),
                "pymc3-jax", "unmeasured", options={"function": "sample_tfp_nuts"}),
    )
}
