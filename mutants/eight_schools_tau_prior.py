"""Prior scale off by 20% on the group scale: tau ~ HalfCauchy(6) where the model says HalfCauchy(5)."""

from _mutant import mutant


def build(self, pm, api, data):
    with pm.Model() as model:
        mu = pm.Normal("mu", mu=0.0, sigma=5.0)
        tau = pm.HalfCauchy("tau", beta=6.0)
        theta_tilde = pm.Normal("theta_tilde", mu=0.0, sigma=1.0, shape=8)
        pm.Normal("y", mu=mu + tau * theta_tilde, sigma=data["sigma"], observed=data["y"])
    return model


MODEL = mutant("eight_schools", "mutant_eight_schools_tau_prior", __doc__, build)
