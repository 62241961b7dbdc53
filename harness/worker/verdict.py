"""Does a sampled posterior match the model's truth? The statistical tests behind a cell's verdict.

Three questions, asked in this order of a cell's run (harness.worker.evaluation drives them):

1. Are the draws finite? NaN or infinite draws fail the cell outright.
2. Did the chains mix? Every checked scalar needs R-hat <= RHAT_MAX and bulk ESS >= ESS_PER_CHAIN * chains
   (Vehtari et al. 2021): the MCSEs below are only trustworthy then. A run that misses this gate samples
   longer, up to its tier's cap; at the cap it is `did-not-mix`, never `failed`: a run too short to judge
   is not a wrong posterior.
3. Is the posterior right? For every checked scalar with a known truth (analytic, or a long reference run
   with its own Monte Carlo error):

   - mean:  z = (mean - truth) / sqrt((mcse_mean * r)^2 + truth_mcse^2)
   - sd:    z = (sd - truth_sd) / sqrt((mcse_sd * r)^2 + truth_mcse_sd^2),   r = truth_sd / sd

   each against the two-sided normal quantile at a Bonferroni-corrected level, in two stages: a screen at
   ALPHA_SCREEN on the cell's own seed and, only when the screen fails, a confirmation at ALPHA_CONFIRM
   on a fresh, independent seed. The cell is `failed` only when both fail. For a correct sampler the two
   stages are independent, so it is called wrong with probability at most ALPHA_SCREEN * ALPHA_CONFIRM
   = 0.5%, the z-tests' half of the suite's 1% false-alarm budget per cell. A single test at 0.5% would
   need |z| > 3.89 for 50 tests; the screen needs 3.29 and the confirmation 3.09, so a wrong posterior
   whose z-scores sit near 4-5 is caught more often (docs/verdicts.md has the catch rates), and a chance
   failure at the default seed no longer fails the same cell every night. The other half of the budget is
   for the mixing gate, which longer runs keep out of reach.

   Both Monte Carlo errors scale with the posterior's sd (mcse_mean = sd / sqrt(ESS), mcse_sd = sd *
   sqrt((kurtosis - 1) / ESS) / 2), and r puts the truth's sd where the run's own stood: the errors are
   those the estimates have if the run is right, as a score test takes them under its null hypothesis.
   Taken from the run's own sd (a Wald test), the sd's error shrinks exactly when a run that has not yet
   visited its marginal's tails reports a small sd, so the sd's z-scores had a long lower tail: 2.2-7.6x
   the normal's mass below -3 in simulation (normal, gamma, lognormal and t marginals, AR(1) draws, 4 x
   500), and 15 of the 17 sd screens that fired in the quick false-alarm campaign were below the truth.
   At the truth's sd the excess is 1.1-5.0x (docs/verdicts.md, "Standard errors at the truth, and the
   references' own error").

   A z-test needs its estimate's standard error to exist: the mean's needs a finite variance, the sd's a
   finite fourth moment. Where the draws' tail shape says otherwise (diagnostics.tail_khat: k >= 1/2 for
   the mean, k >= 1/4 for the sd; a heavy-tailed marginal, e.g. a location whose Cauchy prior shows through
   where the data stop constraining it), that test is not made and the scalar records why
   (`untested`). The Bonferroni count stays that of every test: leaving a test out can only turn a failure
   into a pass, so the false-alarm rate measured with every test made stays an upper bound.
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Tuple

from scipy.special import ndtri

ALPHA_SCREEN = 0.05
ALPHA_CONFIRM = 0.10
RHAT_MAX = 1.01
ESS_PER_CHAIN = 100
# The tail shape from which a z-test's standard error no longer exists (moments of order < 1/k exist).
KHAT_MAX = {"z_mean": 0.5, "z_sd": 0.25}
_SHOWN = 4  # failures named in a reason before "and N more"


def z_critical(n_tests: int, alpha: float) -> float:
    return float(ndtri(1.0 - alpha / (2.0 * max(n_tests, 1))))


def _z(value: float, truth: float, se: float, truth_se: Optional[float]) -> float:
    scale = math.sqrt(se ** 2 + (truth_se or 0.0) ** 2)
    return (value - truth) / scale if scale > 0 else (0.0 if value == truth else math.inf)


def non_finite(params: Dict[str, Dict[str, Any]]) -> Optional[str]:
    """Why the draws cannot be judged at all, or None."""
    bad = [name for name, p in params.items() if not all(math.isfinite(p[k]) for k in ("mean", "sd"))]
    return f"non-finite draws in {_names(bad)}" if bad else None


def mixing_problems(params: Dict[str, Dict[str, Any]], chains: int) -> List[str]:
    """R-hat and bulk-ESS gate failures (empty when the chains mixed well enough to judge)."""
    problems = []
    rhat_bad = [(n, p["r_hat"]) for n, p in params.items() if not p["r_hat"] <= RHAT_MAX]
    if rhat_bad:
        problems.append(f"R-hat > {RHAT_MAX}: {_pairs(rhat_bad, 'r_hat')}")
    floor = ESS_PER_CHAIN * chains
    ess_bad = [(n, p["ess_bulk"]) for n, p in params.items() if not p["ess_bulk"] >= floor]
    if ess_bad:
        problems.append(f"bulk ESS < {floor}: {_pairs(ess_bad, 'ess', largest_first=False)}")
    return problems


def no_truth(params: Dict[str, Dict[str, Any]], truth: Optional[Dict[str, Dict[str, float]]]) -> Optional[str]:
    """Why the posterior cannot be compared with a truth, or None."""
    if truth is None:
        return "no truth for this model and size: give it analytic_truth() or a reference (README, 'Add a model')"
    if not any(name in truth for name in params):
        return "the truth names none of the sampled parameters"
    return None


def posterior_problems(params: Dict[str, Dict[str, Any]], truth: Dict[str, Dict[str, float]], alpha: float) -> List[str]:
    """Add z-scores to `params` (in place) and return the z-tests failed at family-wise level `alpha`."""
    problems: List[str] = []
    checked = [name for name in params if name in truth]
    z_max = z_critical(2 * len(checked), alpha)
    for name in checked:
        stats, ref = params[name], truth[name]
        stats["truth_mean"], stats["truth_sd"] = ref["mean"], ref["sd"]
        at_truth = ref["sd"] / stats["sd"] if stats["sd"] > 0 else math.nan  # the errors if the run is right
        stats["z_mean"] = _z(stats["mean"], ref["mean"], stats["mcse_mean"] * at_truth, ref.get("mcse_mean"))
        stats["z_sd"] = _z(stats["sd"], ref["sd"], stats["mcse_sd"] * at_truth, ref.get("mcse_sd"))
        khat = stats.get("tail_khat", float("nan"))  # results of older harnesses have none: every test made
        untested = [key for key, k_max in KHAT_MAX.items() if khat >= k_max]
        if untested:
            stats["untested"] = {key: f"tail k-hat {khat:.2f} >= {KHAT_MAX[key]}" for key in untested}
    for key in ("z_mean", "z_sd"):
        bad = [(n, params[n][key]) for n in checked
               if key not in params[n].get("untested", {}) and not abs(params[n][key]) <= z_max]
        if bad:
            what = "mean" if key == "z_mean" else "sd"
            problems.append(f"{what} off the truth: {_pairs(bad, 'z')} (|z| limit {z_max:.2f})")
    return problems


def judge(params: Dict[str, Dict[str, Any]], truth: Optional[Dict[str, Dict[str, float]]], chains: int,
          alpha: float = ALPHA_SCREEN) -> Tuple[bool, List[str]]:
    """One run's verdict at one level: (passed, every problem found). The two-stage verdict of a cell is
    harness.worker.evaluation's, built from the pieces above."""
    broken = non_finite(params)
    if broken:
        return False, [broken]
    problems = mixing_problems(params, chains)
    missing = no_truth(params, truth)
    problems += [missing] if missing else posterior_problems(params, truth, alpha)
    return not problems, problems


def _names(names: List[str]) -> str:
    more = f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else ""
    return ", ".join(names[:_SHOWN]) + more


def _pairs(pairs: List[Tuple[str, float]], label: str, largest_first: bool = True) -> str:
    """The worst few (name, value) pairs, worst first; non-finite values count as worst."""
    sign = -1.0 if largest_first else 1.0
    pairs = sorted(pairs, key=lambda p: sign * abs(p[1]) if math.isfinite(p[1]) else -math.inf)
    shown = ", ".join(f"{n} ({label}={v:.3g})" for n, v in pairs[:_SHOWN])
    return shown + (f" and {len(pairs) - _SHOWN} more" if len(pairs) > _SHOWN else "")
