"""Prior scale off by 20%: beta ~ N(0, 2.4) where the model says N(0, 2)."""

from _mutant import mutant

from models.conjugate import NOISE_SD


def build(self, pm, api, data):
    with pm.Model() as model:
        beta = pm.Normal("beta", mu=0.0, sigma=2.4, shape=data["x"].shape[1])
        pm.Normal("y", mu=pm.math.dot(data["x"], beta), sigma=NOISE_SD, observed=data["y"])
        lam = pm.Gamma("lam", alpha=2.0, beta=0.5 * 1.2)  # and the Gamma prior's rate off by 20%
        pm.Poisson("k", mu=lam, observed=data["k"])
    return model


MODEL = mutant("conjugate", "mutant_conjugate_prior_scale", __doc__, build)
