"""The discrete-cluster model of the seed notebook: a Categorical assignment per observation.

Only samplers that can step discrete variables (pymc's own, pymc3's) apply; the gradient-only ones are
`not-applicable`. The notebook fits N(0, 1) noise: the components are not identified and pymc's compound
sampler mixed so slowly there (bulk ESS about 60 from 4 x 1000 draws, R-hat 1.06) that no verdict could
pass. Here the data come from two separated clusters (30% at -1.2, 70% at 1.2, sd 0.6) and `mu` starts
at (-1, 1): all points start in the likelier cluster, and from mu = (0, 0) some chains stayed in the
label-switched mode (R-hat 1.7). With these, 4 x 1000 draws gave R-hat <= 1.005 and bulk ESS >= 474.
The truth for mu and sigma is a long run of the same model with the assignments summed out
(a NormalMixture, identical marginal posterior; references/discrete_cluster.json).
"""

from __future__ import annotations

import numpy as np

from models.spec import ModelSpec

WEIGHTS = [0.3, 0.7]


class DiscreteCluster(ModelSpec):
    name = "discrete_cluster"
    description = "two-component mixture with explicit Categorical assignments (seed notebook)"
    params = ["mu", "sigma"]
    sizes = {"quick": {"n": 100}, "full": {"n": 100}}
    discrete = True

    def data(self, n=100):
        rng = np.random.RandomState(100)
        cluster = (rng.uniform(size=n) < WEIGHTS[1]).astype("int64")
        return {"y": np.where(cluster == 1, rng.normal(1.2, 0.6, n), rng.normal(-1.2, 0.6, n))}

    def build(self, pm, api, data):
        n = len(data["y"])
        start = {"testval" if api == "pymc3" else "initval": np.array([-1.0, 1.0])}
        with pm.Model() as model:
            cluster = pm.Categorical("cluster", p=np.array(WEIGHTS), shape=n)
            mu = pm.Normal("mu", mu=0.0, sigma=1.0, shape=2, **start)
            sigma = pm.HalfNormal("sigma", sigma=1.0, shape=2)
            pm.Normal("obs", mu=mu[cluster], sigma=sigma[cluster], observed=data["y"])
        return model

    def reference_model(self, pm, data):
        with pm.Model() as model:
            mu = pm.Normal("mu", mu=0.0, sigma=1.0, shape=2, initval=np.array([-1.0, 1.0]))
            sigma = pm.HalfNormal("sigma", sigma=1.0, shape=2)
            pm.NormalMixture("obs", w=np.array(WEIGHTS), mu=mu, sigma=sigma, observed=data["y"])
        return model


MODEL = DiscreteCluster()
