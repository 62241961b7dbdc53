"""radon with the observations in a fixed random order, effects gathered a[county]: data as a user's table
usually comes, in no particular order. Its gradient is a scatter-add onto 85 counties from scattered rows."""

import numpy as np
from _radon_variant import variant


def rows(self, county):
    return np.random.RandomState(1).permutation(len(county))


MODEL = variant("radon_shuffled", "radon, rows in random order, gather a[county]", rows=rows)
