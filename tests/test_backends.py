"""The backend registry: one complete entry per backend, naming a sampler family and a gradient probe that
exist, so a new backend is one entry and a half-filled one fails here instead of recording nothing."""

from __future__ import annotations

import inspect

import pytest

from harness.common.backends import APIS, BACKENDS, Backend
from harness.worker.gradient import GRADIENT_CALLS, UNMEASURED
from harness.worker.samplers import SAMPLERS


@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_registry_entry_is_complete(name):
    backend = BACKENDS[name]
    assert backend.name == name
    assert backend.api in APIS
    assert backend.description.strip() and backend.modules
    assert backend.sampler in SAMPLERS, f"{name}: sampler family {backend.sampler!r} is not in harness.worker.samplers.SAMPLERS"
    assert backend.gradient in GRADIENT_CALLS or backend.gradient == UNMEASURED, f"{name}: gradient kind {backend.gradient!r}"
    family = inspect.signature(SAMPLERS[backend.sampler])
    family.bind(**backend.options)  # the options are exactly what the family takes


def test_an_incomplete_entry_is_caught():
    broken = Backend("x", "pymc", "x", ("pymc",), "no-such-family", "FAST_RUN")
    assert broken.sampler not in SAMPLERS
    with pytest.raises(TypeError):
        inspect.signature(SAMPLERS["nutpie"]).bind(**{"mode": "c"})


def test_applicability_follows_discrete_variables():
    class Discrete:
        discrete = True

    assert BACKENDS["pymc-c"].applies_to(Discrete()) and not BACKENDS["nutpie-numba"].applies_to(Discrete())
    assert BACKENDS["nutpie-numba"].applies_to(object())
