"""Shared by the radon formulations: radon's model and posterior, its data reordered or its county effects
computed another way. Where a GLM's gradient runs fastest (GPU or CPU) depends on how the per-observation
effects a[county] are written, not on the model, so each formulation is a model a user can write.

At radon's own size every variant sees radon's data (the same rows, reordered at most) and has radon's
posterior, so it is judged by radon's reference (models/references/radon.json); regenerating a variant's
reference rewrites that file, which is fine since the posterior is the same. At other sizes (the gradient
sweep, harness/worker/sweep.py) the data come from radon's generator too.
"""

import importlib

import numpy as np

from models import BUILTIN_DIR
from models.radon import Radon


def tensor_module(api):
    return importlib.import_module("theano.tensor" if api == "pymc3" else "pytensor.tensor")


class RadonVariant(Radon):
    def rows(self, county):
        """The order of the observations; radon's generator already gives them sorted by county."""
        return np.arange(len(county))

    def effects(self, pm, api, a, b, data):
        """The per-observation intercept and slope, a[county] and b[county]: a gather, whose gradient
        scatters every observation's contribution back onto the 85 counties. The index goes in as a
        tensor: indexing by a numpy array makes PyTensor 3.3 look at every element in Python
        (TensorVariable.__getitem__, includes_bool), 35 s per model at 1e7 observations."""
        county = tensor_module(api).as_tensor_variable(data["county"])
        return a[county], b[county]

    @property
    def reference_path(self):
        return BUILTIN_DIR / "references" / "radon.json"

    def data(self, n_obs=919, n_counties=85):
        data = super().data(n_obs, n_counties)
        rows = self.rows(data["county"])
        return {k: v[rows] if isinstance(v, np.ndarray) else v for k, v in data.items()}


def variant(name, description, **methods):
    """A formulation's MODEL: RadonVariant with its name and the methods it overrides."""
    model = type(name, (RadonVariant,), methods)()
    model.name, model.description = name, description
    return model
