"""Inference Gym `Banana` (Haario, Saksman & Tamminen 1999): a 2-D normal with scales (10, 1), bent.

    x[0] ~ Normal(0, 10)
    x[1] ~ Normal(curvature * (x[0]**2 - 100), 1)        curvature = 0.03

The gym samples x itself (identity bijector); its truth is exact: mean 0, sd (10, sqrt(1 + 2 c^2 10^4)).
"""

from __future__ import annotations

from _gym import GymTarget


class Banana(GymTarget):
    name = "gym_banana"
    gym_class = "Banana"
    description = "Inference Gym Banana: 2-D normal sheared along a parabola (exact truth)"
    params = ["x"]

    def build(self, pm, api, data):
        with pm.Model() as model:
            x0 = pm.Normal("x0", 0.0, 10.0)
            x1 = pm.Normal("x1", float(data["curvature"]) * (x0**2 - 100.0), 1.0)
            pm.Deterministic("x", pm.math.stack([x0, x1]))  # the gym's vector, so its truth's names apply
        return model


MODEL = Banana()
