"""Likelihood scale off by 10%: y ~ N(X beta, 1.1) where the noise sd is 1."""

from _mutant import mutant

from models.conjugate import ALPHA, BETA, PRIOR_SD


def build(self, pm, api, data):
    with pm.Model() as model:
        beta = pm.Normal("beta", mu=0.0, sigma=PRIOR_SD, shape=data["x"].shape[1])
        pm.Normal("y", mu=pm.math.dot(data["x"], beta), sigma=1.1, observed=data["y"])
        lam = pm.Gamma("lam", alpha=ALPHA, beta=BETA)
        pm.Poisson("k", mu=lam, observed=data["k"])
    return model


MODEL = mutant("conjugate", "mutant_conjugate_likelihood_scale", __doc__, build)
