"""Step size too large: adaptation aims at 30% acceptance instead of the model's 90%, so the sampler takes
steps far larger than this posterior's curvature allows (divergences, sticky chains)."""

from _mutant import mutant

MODEL = mutant("radon", "mutant_radon_large_step", __doc__, target_accept=0.3)
