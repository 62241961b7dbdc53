"""Eight schools, non-centred (posteriordb's eight_schools-eight_schools_noncentered).

Data: Rubin (1981), the SAT coaching experiments, as printed in Gelman et al., Bayesian Data Analysis.
The truth is a long reference run (references/eight_schools.json; `nox -s reference -- eight_schools`).
"""

from __future__ import annotations

import numpy as np

from models.spec import ModelSpec


class EightSchools(ModelSpec):
    name = "eight_schools"
    description = "eight schools, non-centred parameterisation (Rubin 1981)"
    params = ["mu", "tau", "theta_tilde"]
    observed = {"y": "y"}
    sizes = {"quick": {}, "full": {}}

    def data(self):
        return {
            "y": np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0]),
            "sigma": np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0]),
        }

    def build(self, pm, api, data):
        with pm.Model() as model:
            mu = pm.Normal("mu", mu=0.0, sigma=5.0)
            tau = pm.HalfCauchy("tau", beta=5.0)
            theta_tilde = pm.Normal("theta_tilde", mu=0.0, sigma=1.0, shape=8)
            theta = pm.Deterministic("theta", mu + tau * theta_tilde)
            pm.Normal("y", mu=theta, sigma=data["sigma"], observed=data["y"])
        return model


MODEL = EightSchools()
