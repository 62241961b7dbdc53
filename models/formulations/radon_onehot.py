"""radon with the county effects as a matrix product with a dense one-hot design, pm.math.dot(onehot, a):
the gradient is a matrix product too (onehot.T @ g), which a GPU does at its memory bandwidth, where the
gather's gradient is a scatter-add. The one-hot matrix holds n_obs x n_counties floats (6.8 GB at 1e7
observations in float64), so this form stops where the data grow large."""

import numpy as np
from _radon_variant import variant


def effects(self, pm, api, a, b, data):
    onehot = np.eye(data["n_counties"], dtype=data["floor"].dtype)[data["county"]]
    return pm.math.dot(onehot, a), pm.math.dot(onehot, b)


MODEL = variant("radon_onehot", "radon, county effects as a one-hot matrix product", effects=effects)
