"""A model whose posterior is known in closed form: the exact truth for every backend.

Two independent blocks in one model, so both an unconstrained and a constrained (log-transformed)
parameter are checked:
- Bayesian linear regression with known noise: beta ~ N(0, tau^2 I), y ~ N(X beta, sigma^2 I); the
  posterior is N(S X'y / sigma^2, S) with S = (I / tau^2 + X'X / sigma^2)^-1;
- Gamma-Poisson: lam ~ Gamma(alpha, beta), k_i ~ Poisson(lam); the posterior is
  Gamma(alpha + sum k, beta + m).
"""

from __future__ import annotations

import numpy as np

from models.spec import ModelSpec

PRIOR_SD, NOISE_SD, ALPHA, BETA = 2.0, 1.0, 2.0, 0.5


class Conjugate(ModelSpec):
    name = "conjugate"
    description = "linear regression with known noise + Gamma-Poisson rate (closed-form posterior)"
    params = ["beta", "lam"]
    observed = {"y": "y", "k": "k"}
    sizes = {"quick": {"n": 50, "p": 4, "m": 20}, "full": {"n": 500, "p": 8, "m": 200}}

    def data(self, n=50, p=4, m=20):
        rng = np.random.RandomState(1763)  # Bayes' essay
        x = rng.normal(0.0, 1.0, (n, p))
        beta = rng.normal(0.0, 1.0, p)
        return {
            "x": x,
            "y": x @ beta + rng.normal(0.0, NOISE_SD, n),
            "k": rng.poisson(3.0, m).astype("int64"),
        }

    def build(self, pm, api, data):
        with pm.Model() as model:
            beta = pm.Normal("beta", mu=0.0, sigma=PRIOR_SD, shape=data["x"].shape[1])
            pm.Normal("y", mu=pm.math.dot(data["x"], beta), sigma=NOISE_SD, observed=data["y"])
            lam = pm.Gamma("lam", alpha=ALPHA, beta=BETA)
            pm.Poisson("k", mu=lam, observed=data["k"])
        return model

    def analytic_truth(self, data):
        x, y, k = data["x"], data["y"], data["k"]
        cov = np.linalg.inv(np.eye(x.shape[1]) / PRIOR_SD**2 + x.T @ x / NOISE_SD**2)
        mean = cov @ x.T @ y / NOISE_SD**2
        truth = {f"beta[{i}]": {"mean": float(mean[i]), "sd": float(np.sqrt(cov[i, i]))} for i in range(len(mean))}
        shape, rate = ALPHA + k.sum(), BETA + len(k)
        truth["lam"] = {"mean": float(shape / rate), "sd": float(np.sqrt(shape) / rate)}
        return truth


MODEL = Conjugate()
