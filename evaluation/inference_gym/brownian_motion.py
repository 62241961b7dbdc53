"""Inference Gym `BrownianMotionMissingMiddleObservations`: a 30-step random walk observed with noise,
steps 10-19 unobserved (NaN in the gym's data).

    locs[0] ~ Normal(0, 0.1);  locs[t] ~ Normal(locs[t-1], 0.1)
    observed_locs[t] ~ Normal(locs[t], 0.15)  where observed

The walk is sampled on locs itself, as the gym does. Truth: the gym's Stan run (20,000 draws).
"""

from __future__ import annotations

import numpy as np
from _gym import GymTarget


class BrownianMotionMissingMiddle(GymTarget):
    name = "gym_brownian_motion_missing_middle"
    gym_class = "BrownianMotionMissingMiddleObservations"
    description = "Inference Gym Brownian motion, 30 steps, middle 10 unobserved (Stan truth)"
    params = ["locs"]

    def build(self, pm, api, data):
        observed = data["observed_locs"]
        seen = np.flatnonzero(np.isfinite(observed))
        innovation = float(data["innovation_noise_scale"])
        with pm.Model() as model:
            locs = pm.GaussianRandomWalk(
                "locs", mu=0.0, sigma=innovation, init_dist=pm.Normal.dist(0.0, innovation), steps=len(observed) - 1
            )
            pm.Normal("observed_locs", locs[seen], float(data["observation_noise_scale"]), observed=observed[seen])
        return model


MODEL = BrownianMotionMissingMiddle()
