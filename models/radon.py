"""The radon hierarchical model of the seed notebook: varying intercepts and slopes by county.

The Minnesota radon data (Gelman & Hill 2007) cannot be fetched at run time, so `data` generates a set of
the same shape: 919 houses in 85 counties with the real data's skewed county sizes (most counties have a
handful of houses, a few have over fifty) and about one reading in six taken on a first floor.
The seed writes the county effects centred (a ~ N(mu_a, sigma_a)). On data of this shape most counties
have no first-floor reading, the slopes are informed by their prior alone, and sigma_b sits in a funnel:
nutpie on the centred form gave R-hat 1.12 and bulk ESS 51 for sigma_b (4 x 1000 draws), a model problem
that every sampler would share. The county effects are therefore written non-centred (the same posterior
for a and b, reparameterised), so a verdict speaks about the sampler.
The truth is a long reference run (references/radon.json; regenerate with `nox -s reference -- radon`).
"""

from __future__ import annotations

import numpy as np

from models.spec import ModelSpec


class Radon(ModelSpec):
    name = "radon"
    description = "hierarchical linear model, varying intercepts and slopes (seed notebook, 919 x 85)"
    params = ["mu_a", "sigma_a", "mu_b", "sigma_b", "a", "b", "eps"]
    sizes = {"quick": {"n_obs": 919, "n_counties": 85}, "full": {"n_obs": 919, "n_counties": 85}}
    target_accept = 0.9  # as in the seed notebook

    def data(self, n_obs=919, n_counties=85):
        rng = np.random.RandomState(919)
        weights = rng.lognormal(0.0, 1.0, n_counties)
        counts = 1 + rng.multinomial(n_obs - n_counties, weights / weights.sum())
        county = np.repeat(np.arange(n_counties), counts).astype("int32")
        floor = (rng.uniform(size=n_obs) < 1.0 / 6.0).astype("float64")
        a = rng.normal(1.5, 0.35, n_counties)
        b = rng.normal(-0.65, 0.3, n_counties)
        log_radon = a[county] + b[county] * floor + rng.normal(0.0, 0.75, n_obs)
        return {"county": county, "floor": floor, "log_radon": log_radon, "n_counties": n_counties}

    def effects(self, pm, api, a, b, data):
        """Each house's intercept and slope: its county's (the formulations write this another way)."""
        return a[data["county"]], b[data["county"]]

    def build(self, pm, api, data):
        n = data["n_counties"]
        with pm.Model() as model:
            mu_a = pm.Normal("mu_a", mu=0.0, sigma=100.0)
            sigma_a = pm.HalfNormal("sigma_a", 5.0)
            mu_b = pm.Normal("mu_b", mu=0.0, sigma=100.0)
            sigma_b = pm.HalfNormal("sigma_b", 5.0)
            a_offset = pm.Normal("a_offset", mu=0.0, sigma=1.0, shape=n)
            b_offset = pm.Normal("b_offset", mu=0.0, sigma=1.0, shape=n)
            a = pm.Deterministic("a", mu_a + sigma_a * a_offset)
            b = pm.Deterministic("b", mu_b + sigma_b * b_offset)
            eps = pm.HalfCauchy("eps", 5.0)
            a_obs, b_obs = self.effects(pm, api, a, b, data)
            pm.Normal("radon_like", mu=a_obs + b_obs * data["floor"], sigma=eps, observed=data["log_radon"])
        return model


MODEL = Radon()
