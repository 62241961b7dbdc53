"""radon with the observations sorted by county and the effects written as a running sum of steps at each
county's first row: a[county] = cumsum(steps), steps zero except a[0], a[1] - a[0], ... at the counties'
starts. The gradient is then a reverse cumulative sum read at 85 starts, a contiguous segment sum of the
observations' contributions, with no scatter-add of n_obs values (the gather's gradient) and no dense
one-hot matrix (which does not fit at 1e7 observations).

`pt.repeat(a, counts)` reads more naturally but its gradient in PyTensor is a scatter-add again
(Repeat.pullback: zeros_like(a)[repeat(arange, counts)].inc(g)), and so is jax's gradient of jnp.repeat.
Every county must have an observation (radon's generator gives each at least one).
"""

import numpy as np
from _radon_variant import tensor_module, variant


def rows(self, county):
    return np.argsort(county, kind="stable")


def effects(self, pm, api, a, b, data):
    tensor, county = tensor_module(api), data["county"]
    starts = np.searchsorted(county, np.arange(data["n_counties"]))
    if len(np.unique(starts)) != len(starts) or county[0] != 0:
        raise ValueError("radon_segment needs at least one observation in every county")

    def per_observation(v):
        steps = tensor.concatenate([v[:1], v[1:] - v[:-1]])
        return tensor.cumsum(tensor.set_subtensor(tensor.zeros(len(county), dtype=v.dtype)[starts], steps))

    return per_observation(a), per_observation(b)


MODEL = variant("radon_segment", "radon, rows sorted by county, effects as a cumulative sum of steps",
                rows=rows, effects=effects)
