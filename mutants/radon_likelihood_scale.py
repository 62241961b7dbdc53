"""Likelihood scale off by 10%: the observation sd is 1.1 x eps, so eps comes out 10% too small."""

from _mutant import mutant


def build(self, pm, api, data):
    county, n = data["county"], data["n_counties"]
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
        pm.Normal("radon_like", mu=a[county] + b[county] * data["floor"], sigma=1.1 * eps, observed=data["log_radon"])
    return model


MODEL = mutant("radon", "mutant_radon_likelihood_scale", __doc__, build)
