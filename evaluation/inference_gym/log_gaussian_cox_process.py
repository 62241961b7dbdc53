"""Inference Gym `SyntheticLogGaussianCoxProcess`: counts on a 10 x 10 grid (simulated from the prior,
shipped in the package) with a Matern-3/2 Gaussian-process log intensity, sampled centred as the gym does.

    amplitude ~ LogNormal(-1, 0.5);  length_scale ~ LogNormal(-1, 1)
    log_intensity ~ MvNormal(mean_log_intensity, K + 1e-6 I)
        K[i, j] = (amplitude + 0.001)**2 * (1 + r) * exp(-r),  r = sqrt(3) |x_i - x_j| / (length_scale + 0.001)
        mean_log_intensity = mean(log(counts) - log(extents))
    counts[i] ~ Poisson(extents[i] * exp(log_intensity[i]))

Truth: the gym's Stan run (50,000 draws).
"""

from __future__ import annotations

import numpy as np
from _gym import GymTarget


class SyntheticLogGaussianCoxProcess(GymTarget):
    name = "gym_synthetic_lgcp"
    gym_class = "SyntheticLogGaussianCoxProcess"
    description = "Inference Gym log-Gaussian Cox process, 10 x 10 grid, 102 parameters (Stan truth)"
    params = ["amplitude", "length_scale", "log_intensity"]

    def build(self, pm, api, data):
        locations, extents, counts = data["locations"], data["extents"], data["counts"].astype("int64")
        distance = np.sqrt(((locations[:, None, :] - locations[None, :, :]) ** 2).sum(-1))
        mean = np.full(len(counts), np.mean(np.log(counts) - np.log(extents)))
        with pm.Model() as model:
            amplitude = pm.LogNormal("amplitude", -1.0, 0.5)
            length_scale = pm.LogNormal("length_scale", -1.0, 1.0)
            r = np.sqrt(3.0) * distance / (length_scale + 0.001)
            cov = (amplitude + 0.001) ** 2 * (1.0 + r) * pm.math.exp(-r) + 1e-6 * np.eye(len(counts))
            log_intensity = pm.MvNormal("log_intensity", mu=mean, cov=cov)
            pm.Poisson("counts", mu=extents * pm.math.exp(log_intensity), observed=counts)
        return model


MODEL = SyntheticLogGaussianCoxProcess()
