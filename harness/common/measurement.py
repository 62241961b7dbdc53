"""How the harness measures, as one number.

Bump MEASUREMENT_VERSION whenever a change to the harness changes what a cell's figures mean (its draws,
tuning, chains or seeds, how time or ESS is taken, how a verdict is reached), so a step in the timeline
that comes from the harness is never read as a step of the ecosystem. Every stored point of the timeline
carries it; the timeline reruns a stored point measured by an older version.
"""

MEASUREMENT_VERSION = 1
