"""Time one evaluation of the model's log density and its gradient, compiled the way a backend compiles it.

With the sampler's gradient-evaluation count this gives the cost floor of a run, and the sampler overhead
ratio: sampling time / (gradient evaluations x time per evaluation). A ratio near 1 means the time goes
into the model; a large one means it goes into the sampler's own loop (Python NUTS, transfers, dispatch).
"""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, Optional


def _pytensor(model: Any, mode: str) -> Callable[[], Any]:
    import pytensor.tensor as pt

    logp = model.logp()
    fn = model.compile_fn([logp, *pt.grad(logp, model.value_vars)], mode=mode)
    point = model.initial_point()
    return lambda: fn(point)


def _jax_autodiff(model: Any) -> Callable[[], Any]:
    import jax
    from pymc.sampling.jax import get_jaxified_logp

    logp = get_jaxified_logp(model)
    point = model.initial_point()
    x = [jax.numpy.asarray(point[v.name]) for v in model.value_vars]
    fn = jax.jit(jax.value_and_grad(logp))
    return lambda: jax.block_until_ready(fn(x))


def _theano(model: Any) -> Callable[[], Any]:
    fn = model.logp_dlogp_function()
    fn.set_extra_values({})
    x = fn.dict_to_array(model.test_point)
    return lambda: fn(x)


# The gradient kinds a registry entry (harness.common.backends) can name: a PyTensor mode, JAX's autodiff of
# the jaxified log density, Theano's compiled logp-dlogp; "unmeasured" has no probe.
GRADIENT_CALLS: Dict[str, Callable[[Any], Callable[[], Any]]] = {
    "FAST_RUN": lambda model: _pytensor(model, "FAST_RUN"),
    "NUMBA": lambda model: _pytensor(model, "NUMBA"),
    "JAX": lambda model: _pytensor(model, "JAX"),
    "jax-autodiff": _jax_autodiff,
    "theano": _theano,
}
UNMEASURED = "unmeasured"


def prepared_call(model: Any, gradient: str) -> Optional[Callable[[], Any]]:
    """The compiled log density + gradient call, called once (compile / JIT and first-call costs paid), or
    None for an unmeasured kind."""
    if gradient == UNMEASURED:
        return None
    call = GRADIENT_CALLS[gradient](model)
    call()
    return call


def seconds_per_eval(call: Optional[Callable[[], Any]], budget_s: float = 2.0) -> Optional[float]:
    """Mean wall time of one call of a prepared_call, over `budget_s` of calls (at most 100,000)."""
    if call is None:
        return None
    n, start = 0, time.perf_counter()
    while True:
        call()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= budget_s or n >= 100_000:
            return elapsed / n
