"""Does a sampled posterior match the model's truth? The statistical test behind `passed` / `failed`.

For every checked scalar parameter with a known truth (analytic, or a long reference run with its own
Monte Carlo error):

- mean:  z = (mean - truth) / sqrt(mcse_mean^2 + truth_mcse^2)
- sd:    z = (sd - truth_sd) / sqrt(mcse_sd^2 + truth_mcse_sd^2)

each compared with the two-sided normal quantile at a Bonferroni-corrected level, so that one cell of a
correct sampler fails the z-tests with probability at most ALPHA whatever the number of parameters.
The MCSEs are only trustworthy once the chains mix, so a cell must also have R-hat <= RHAT_MAX and
bulk ESS >= ESS_PER_CHAIN * chains for every parameter (Vehtari et al. 2021 recommend R-hat < 1.01 and
ESS > 100 per chain before trusting either).

The suite's false-alarm budget is 1% of a correct sampler's cells. Half goes to the z-tests (ALPHA). The
other half is for R-hat and the ESS floor, which are not calibrated tests: models that mix slowly get
longer runs (`draws_scale`) until repeated seeds show them far inside those limits (docs/verdicts.md).
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Tuple

from scipy.special import ndtri

ALPHA = 0.005
RHAT_MAX = 1.01
ESS_PER_CHAIN = 100
_SHOWN = 4  # failures named in a reason before "and N more"


def z_critical(n_tests: int, alpha: float = ALPHA) -> float:
    return float(ndtri(1.0 - alpha / (2.0 * max(n_tests, 1))))


def _z(value: float, truth: float, se: float, truth_se: Optional[float]) -> float:
    scale = math.sqrt(se ** 2 + (truth_se or 0.0) ** 2)
    return (value - truth) / scale if scale > 0 else (0.0 if value == truth else math.inf)


def judge(params: Dict[str, Dict[str, Any]], truth: Optional[Dict[str, Dict[str, float]]], chains: int) -> Tuple[bool, List[str]]:
    """Add z-scores to `params` (in place) and return (passed, reasons it did not)."""
    problems: List[str] = []
    non_finite = [name for name, p in params.items() if not all(math.isfinite(p[k]) for k in ("mean", "sd"))]
    if non_finite:
        return False, [f"non-finite draws in {_names(non_finite)}"]

    checked = [name for name in params if truth and name in truth]
    z_max = z_critical(2 * len(checked))
    for name in checked:
        stats, ref = params[name], truth[name]
        stats["truth_mean"], stats["truth_sd"] = ref["mean"], ref["sd"]
        stats["z_mean"] = _z(stats["mean"], ref["mean"], stats["mcse_mean"], ref.get("mcse_mean"))
        stats["z_sd"] = _z(stats["sd"], ref["sd"], stats["mcse_sd"], ref.get("mcse_sd"))
    for key in ("z_mean", "z_sd"):
        bad = [(n, params[n][key]) for n in checked if not abs(params[n][key]) <= z_max]
        if bad:
            what = "mean" if key == "z_mean" else "sd"
            problems.append(f"{what} off the truth: {_pairs(bad, 'z')} (|z| limit {z_max:.2f})")

    rhat_bad = [(n, p["r_hat"]) for n, p in params.items() if not p["r_hat"] <= RHAT_MAX]
    if rhat_bad:
        problems.append(f"R-hat > {RHAT_MAX}: {_pairs(rhat_bad, 'r_hat')}")
    floor = ESS_PER_CHAIN * chains
    ess_bad = [(n, p["ess_bulk"]) for n, p in params.items() if not p["ess_bulk"] >= floor]
    if ess_bad:
        problems.append(f"bulk ESS < {floor}: {_pairs(ess_bad, 'ess', largest_first=False)}")
    if truth is None:
        problems.append("no truth for this model and size: give it analytic_truth() or a reference (README, 'Add a model')")
    elif not checked:
        problems.append("the truth names none of the sampled parameters")
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
