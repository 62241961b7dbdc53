"""Inference Gym `NonIdentifiableQuarticMeasurementModel` (Au, Graham & Thiery 2020), two dimensions:
a posterior concentrated near a curve, with four weakly separated modes.

    theta[i] ~ Normal(0, 1)
    1.0 ~ Normal(theta[1]**2 + 3 theta[0]**2 (theta[0]**2 - 1), 0.1)

Truth: mean 0 by symmetry (the gym's); the sd, which the gym does not give, by quadrature (export.py).
"""

from __future__ import annotations

from _gym import GymTarget


class NonIdentifiableQuartic(GymTarget):
    name = "gym_quartic"
    gym_class = "NonIdentifiableQuarticMeasurementModel"
    description = "Inference Gym non-identifiable quartic measurement model, 2-D (symmetry + quadrature truth)"
    params = ["theta"]

    def build(self, pm, api, data):
        with pm.Model() as model:
            theta = pm.Normal("theta", 0.0, 1.0, shape=2)
            y_hat = theta[1] ** 2 + 3.0 * theta[0] ** 2 * (theta[0] ** 2 - 1.0)
            pm.Normal("y", y_hat, float(data["noise_scale"]), observed=1.0)
        return model


MODEL = NonIdentifiableQuartic()
