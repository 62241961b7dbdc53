"""Missing Jacobian: lam sampled on the log scale with the Gamma density of exp(log_lam) but without the
log |d lam / d log_lam| = log_lam term, so the posterior of lam is Gamma(alpha - 1 + sum k, beta + m)."""

import numpy as np
from _mutant import mutant

from models.conjugate import ALPHA, BETA, NOISE_SD, PRIOR_SD


def build(self, pm, api, data):
    with pm.Model() as model:
        beta = pm.Normal("beta", mu=0.0, sigma=PRIOR_SD, shape=data["x"].shape[1])
        pm.Normal("y", mu=pm.math.dot(data["x"], beta), sigma=NOISE_SD, observed=data["y"])
        log_lam = pm.Flat("log_lam", **{"testval" if api == "pymc3" else "initval": np.log(3.0)})
        lam = pm.Deterministic("lam", pm.math.exp(log_lam))
        # Gamma log density of lam, written out, with the Jacobian term log_lam left out
        pm.Potential("lam_prior", (ALPHA - 1.0) * log_lam - BETA * lam)
        pm.Poisson("k", mu=lam, observed=data["k"])
    return model


MODEL = mutant("conjugate", "mutant_conjugate_missing_jacobian", __doc__, build)
