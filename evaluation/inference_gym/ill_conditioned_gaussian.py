"""Inference Gym `IllConditionedGaussian`: a 100-D zero-mean normal whose covariance has eigenvalues
1 / Gamma(0.5) draws, rotated by a random orthogonal matrix (the gym's seed 10).

The covariance comes from export.py (the gym's own numpy construction); the truth is exact: mean 0,
sd sqrt(diag(covariance)). The gym itself samples a float32 Cholesky factor of it; here it is float64.
"""

from __future__ import annotations

import numpy as np
from _gym import GymTarget


class IllConditionedGaussian(GymTarget):
    name = "gym_ill_conditioned_gaussian"
    gym_class = "IllConditionedGaussian"
    description = "Inference Gym ill-conditioned Gaussian, 100-D, rotated (exact truth)"
    params = ["x"]

    def build(self, pm, api, data):
        cov = data["covariance"]
        with pm.Model() as model:
            pm.MvNormal("x", mu=np.zeros(len(cov)), chol=np.linalg.cholesky(cov))
        return model


MODEL = IllConditionedGaussian()
