"""Inference Gym `NealsFunnel` (Neal 2003), ten dimensions, centred as the gym samples it.

    x[0] ~ Normal(0, 3)
    x[i] ~ Normal(0, exp(x[0] / 2))      i = 1..9

The truth is exact: mean 0, sd 3 for x[0] and exp(9/4) for the rest. Plain NUTS is expected not to
explore the funnel's neck: a cell that fails here with divergences, R-hat or ESS is the verdict working.
"""

from __future__ import annotations

from _gym import GymTarget


class NealsFunnel(GymTarget):
    name = "gym_neals_funnel"
    gym_class = "NealsFunnel"
    description = "Inference Gym Neal's funnel, 10-D, centred (exact truth)"
    params = ["x"]

    def build(self, pm, api, data):
        with pm.Model() as model:
            x0 = pm.Normal("x0", 0.0, 3.0)
            rest = pm.Normal("x_rest", 0.0, pm.math.exp(x0 / 2.0), shape=int(data["ndims"]) - 1)
            pm.Deterministic("x", pm.math.concatenate([pm.math.stack([x0]), rest]))
        return model


MODEL = NealsFunnel()
