"""How the harness measures, as one number.

Bump MEASUREMENT_VERSION whenever a change to the harness changes what a cell's figures mean (its draws,
tuning, chains or seeds, how time or ESS is taken, how a verdict is reached), so a step in the timeline
that comes from the harness is never read as a step of the ecosystem. Every stored point of the timeline
carries it; the timeline reruns a stored point measured by an older version.
"""

# 2 (2026-11-26): cells run side by side, each pinned to its own core set (one core per cell on a 2-core
#   machine) with its sampler told how many cores it has; before, a cell had the whole machine (nutpie and
#   the JAX samplers used every core, pymc's NUTS half of them).
# 3 (2026-11-26, later): a failed screen's confirmation draws 4x the screen's draws (up to the tier's cap).
# 4 (2026-11-26, later): a z-test whose standard error does not exist (the draws' tail k-hat >= 1/2 for the
#   mean, >= 1/4 for the sd) is not made; a cell that failed only on such tests now passes.
# 5 (2026-11-27): the z-tests take a run's Monte Carlo errors at the truth's sd rather than the run's own
#   (harness.worker.verdict): a score test; the sd's z-scores lost most of their long lower tail. And the
#   project's references are 5x longer, with errors that see the chains' spread (harness.worker.reference):
#   radon's old reference was off by 3 of its stated errors on a few scalars.
# 6 (2026-11-27, later): a cell's warm speed rounds repeat its first call (the tier's draws) instead of the
#   run lengthened to mix, so sample_s, compile_s and ESS/s no longer move with how long a cell needed to
#   mix at one point and not the next (harness.worker.speed); ESS/s is scaled to the round's draws.
MEASUREMENT_VERSION = 6
