"""Probabilistic PCA with an ordered loading vector (the seed notebook's PPCA).

The notebook orders `w` of shape (D, K) = (2, 1) along its last axis, which has length one, so the order
constrains nothing and the posterior keeps both signs of (w, z): two modes, so no sampler can pass R-hat.
Here `w` has shape (K, D) and is ordered along D, which removes the sign flip (K = 1) and leaves one mode.
The data come from loadings well apart (-1.5, 2.5) so the ordering boundary is far from the mass.
The truth is a long reference run (references/ppca.json; `nox -s reference -- ppca`).
"""

from __future__ import annotations

import numpy as np

from models.spec import ModelSpec


class PPCA(ModelSpec):
    name = "ppca"
    description = "probabilistic PCA, ordered loadings (seed notebook; N latent points)"
    params = ["w", "z"]
    sizes = {"quick": {"n": 100}, "full": {"n": 300}}

    def data(self, n=100, d=2, k=1):
        rng = np.random.RandomState(5000)
        w = np.array([[-1.5], [2.5]])[:d, :k]
        z = rng.normal(0.0, 1.0, (k, n))
        return {"x": rng.normal(w @ z, 1.0), "k": k}

    def build(self, pm, api, data):
        d, n = data["x"].shape
        k = data["k"]
        start = {"testval" if api == "pymc3" else "initval": np.tile(np.linspace(-1.0, 1.0, d), (k, 1))}
        with pm.Model() as model:
            w = pm.Normal("w", mu=0.0, sigma=2.0, shape=(k, d), transform=pm.distributions.transforms.ordered, **start)
            z = pm.Normal("z", mu=0.0, sigma=1.0, shape=(n, k))
            pm.Normal("x", mu=pm.math.dot(w.T, z.T), sigma=1.0, observed=data["x"])
        return model


MODEL = PPCA()
