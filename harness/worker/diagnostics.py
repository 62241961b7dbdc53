"""Convergence diagnostics in plain numpy, so every row (arviz 0.11 to 1.x) is judged by the same code.

Rank-normalised split R-hat and bulk ESS follow Vehtari, Gelman, Simpson, Carpenter & Buerkner (2021),
"Rank-normalization, folding, and localization: an improved R-hat", Bayesian Analysis 16(2), and match
arviz's implementation (tests/test_diagnostics.py checks that). The tail shape k-hat follows Vehtari,
Simpson, Gelman, Yao & Gabry (2024), "Pareto smoothed importance sampling", JMLR 25, as the R package
posterior's `pareto_khat` computes it for MCMC draws (both tails, no prior on k).
"""

from __future__ import annotations

from typing import Dict, Iterator, Tuple

import numpy as np
from scipy.special import logsumexp, ndtri
from scipy.stats import rankdata


def _split_chains(x: np.ndarray) -> np.ndarray:
    """(chains, draws) -> (2 * chains, draws // 2): first and last halves of every chain."""
    half = x.shape[1] // 2
    return np.concatenate([x[:, :half], x[:, x.shape[1] - half :]], axis=0)


def _z_scale(x: np.ndarray) -> np.ndarray:
    ranks = rankdata(x, method="average").reshape(x.shape)
    return ndtri((ranks - 0.375) / (x.size + 0.25))


def _autocov(x: np.ndarray) -> np.ndarray:
    """Autocovariance of each chain (row) at every lag, by FFT."""
    n = x.shape[1]
    centred = x - x.mean(axis=1, keepdims=True)
    size = 2 ** int(np.ceil(np.log2(2 * n)))
    spectrum = np.fft.rfft(centred, n=size, axis=1)
    return np.fft.irfft(spectrum * np.conjugate(spectrum), n=size, axis=1)[:, :n] / n


def _ess(x: np.ndarray) -> float:
    """ESS of (chains, draws) with Geyer's initial monotone sequence estimator."""
    n_chain, n_draw = x.shape
    if np.ptp(x) < np.finfo(float).resolution:
        return float(x.size)
    acov = _autocov(x)
    mean_var = acov[:, 0].mean() * n_draw / (n_draw - 1.0)
    var_plus = mean_var * (n_draw - 1.0) / n_draw
    if n_chain > 1:
        var_plus += x.mean(axis=1).var(ddof=1)

    rho = np.zeros(n_draw)
    rho_even, rho_odd = 1.0, 1.0 - (mean_var - acov[:, 1].mean()) / var_plus
    rho[0], rho[1] = rho_even, rho_odd
    t = 1
    while t < n_draw - 3 and rho_even + rho_odd > 0.0:
        rho_even = 1.0 - (mean_var - acov[:, t + 1].mean()) / var_plus
        rho_odd = 1.0 - (mean_var - acov[:, t + 2].mean()) / var_plus
        if rho_even + rho_odd >= 0:
            rho[t + 1], rho[t + 2] = rho_even, rho_odd
        t += 2
    max_t = t - 2
    if rho_even > 0:
        rho[max_t + 1] = rho_even
    t = 1
    while t <= max_t - 2:  # make the sequence of pair sums monotone
        if rho[t + 1] + rho[t + 2] > rho[t - 1] + rho[t]:
            rho[t + 1] = rho[t + 2] = (rho[t - 1] + rho[t]) / 2.0
        t += 2
    size = n_chain * n_draw
    tau = -1.0 + 2.0 * rho[: max_t + 1].sum() + rho[max_t + 1 : max_t + 2].sum()
    return float(size / max(tau, 1.0 / np.log10(size)))


def _rhat(x: np.ndarray) -> float:
    n = x.shape[1]
    between = n * x.mean(axis=1).var(ddof=1)
    within = x.var(axis=1, ddof=1).mean()
    return float(np.sqrt((between / within + n - 1) / n))


def ess_bulk(x: np.ndarray) -> float:
    return _ess(_split_chains(_z_scale(x)))


def r_hat(x: np.ndarray) -> float:
    """max(bulk, tail) rank-normalised split R-hat."""
    split = _split_chains(x)
    folded = np.abs(split - np.median(split))
    return max(_rhat(_z_scale(split)), _rhat(_z_scale(folded)))


def _pareto_shape(exceedances: np.ndarray) -> float:
    """Shape k of a generalized Pareto fit to sorted positive exceedances: the profile-likelihood weighted
    estimate of Zhang & Stephens (2009), Technometrics 51(3), with the weakly informative prior on k
    (centred at 1/2, weight 10 draws) of arviz-stats' `_gpdfit`, which tests/test_diagnostics.py matches."""
    n = exceedances.size
    grid = 30 + int(np.sqrt(n))
    quartile = exceedances[int(n / 4 + 0.5) - 1]
    if quartile <= exceedances[0]:
        return float("nan")  # the tail is nothing like a generalized Pareto's
    b = 1.0 - np.sqrt(grid / (np.arange(1, grid + 1) - 0.5))
    b = b / (3.0 * quartile) + 1.0 / exceedances[-1]
    k = np.log1p(-b[:, None] * exceedances).mean(axis=1)
    profile = n * (np.log(-b / k) - k - 1.0)
    weights = np.exp(profile - logsumexp(profile))
    keep = weights >= 10 * np.finfo(float).eps
    b_post = float((b[keep] * weights[keep]).sum() / weights[keep].sum())
    k_post = float(np.log1p(-b_post * exceedances).mean())
    return (n * k_post + 10 * 0.5) / (n + 10)


def tail_khat(x: np.ndarray, ess: float) -> float:
    """The heavier of the two tails' Pareto shapes k (Vehtari et al. 2024; arviz-stats' `pareto_khat`
    with r_eff = ESS / S): moments of order below 1/k exist. A z-test needs its estimate's variance to
    exist: the mean's needs k < 1/2 (a finite variance), the sd's k < 1/4 (a finite fourth moment)."""
    draws = np.sort(np.ravel(x))
    size = draws.size
    r_eff = min(max(ess / size, 1e-6), 1.0) if np.isfinite(ess) else 1.0
    tail = int(np.floor(3.0 * np.sqrt(size / r_eff))) if size * r_eff > 225 else size // 5
    tail = min(tail, size // 2)
    if tail < 5:
        return float("nan")
    shapes = []
    for ascending in (draws, -draws[::-1]):
        exceedances = ascending[-tail:] - ascending[-tail - 1]
        if exceedances[-1] - exceedances[0] > 0.0:  # a constant tail (a bound reached) has no shape
            shapes.append(_pareto_shape(exceedances))
    return max(shapes, default=float("nan"))


def summarize(x: np.ndarray) -> Dict[str, float]:
    """Mean, sd and their Monte Carlo standard errors, bulk ESS and R-hat of one scalar's (chains, draws).

    mcse_sd uses the delta method on the variance: var(s^2) = (m4 - s^4) / ESS(squared deviations), so
    it stays right for skewed marginals where the normal-theory sd / sqrt(2 ESS) is not. Neither error is
    defined when the tails are too heavy for the moment it needs: `tail_khat` says whether they are.
    """
    x = np.asarray(x, dtype=float)
    mean, sd = float(x.mean()), float(x.std(ddof=1))
    if sd == 0.0 or x.shape[1] < 4:
        return {"mean": mean, "sd": sd, "mcse_mean": float("nan"), "mcse_sd": float("nan"),
                "ess_bulk": float("nan"), "r_hat": float("nan"), "tail_khat": float("nan")}
    ess_mean = _ess(_split_chains(x))
    squared = (x - mean) ** 2
    ess_sq = _ess(_split_chains(squared))
    mcse_sd = float(np.sqrt(squared.var(ddof=1) / ess_sq) / (2.0 * sd))
    return {
        "mean": mean,
        "sd": sd,
        "mcse_mean": float(sd / np.sqrt(ess_mean)),
        "mcse_sd": mcse_sd,
        "ess_bulk": ess_bulk(x),
        "r_hat": r_hat(x),
        "tail_khat": tail_khat(x, ess_mean),
    }


def scalars(name: str, draws: np.ndarray) -> Iterator[Tuple[str, np.ndarray]]:
    """Split a (chain, draw, *shape) array into named scalars: mu, a[3], w[0,1]."""
    draws = np.asarray(draws)
    shape = draws.shape[2:]
    if not shape:
        yield name, draws
        return
    for index in np.ndindex(*shape):
        yield f"{name}[{','.join(map(str, index))}]", draws[(slice(None), slice(None)) + index]
