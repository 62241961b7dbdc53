"""radon with the observations sorted by county and the effects gathered, a[county]: the order the GPU's
sorted-indices gather and scatter want (jax's `indices_are_sorted`, which PyTensor does not emit). Radon's
generator already gives its rows in county order, so here the sort states the order instead of relying on it."""

import numpy as np
from _radon_variant import variant


def rows(self, county):
    return np.argsort(county, kind="stable")


MODEL = variant("radon_sorted", "radon, rows sorted by county, gather a[county]", rows=rows)
