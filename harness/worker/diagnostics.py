"""Convergence diagnostics in plain numpy, so every row (arviz 0.11 to 1.x) is judged by the same code.

Rank-normalised split R-hat and bulk ESS follow Vehtari, Gelman, Simpson, Carpenter & Buerkner (2021),
"Rank-normalization, folding, and localization: an improved R-hat", Bayesian Analysis 16(2), and match
arviz's implementation (tests/test_diagnostics.py checks that).
"""

from __future__ import annotations

from typing import Dict, Iterator, Tuple

import numpy as np
from scipy.special import ndtri
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


def summarize(x: np.ndarray) -> Dict[str, float]:
    """Mean, sd and their Monte Carlo standard errors, bulk ESS and R-hat of one scalar's (chains, draws).

    mcse_sd uses the delta method on the variance: var(s^2) = (m4 - s^4) / ESS(squared deviations), so
    it stays right for skewed or heavy-tailed marginals where the normal-theory sd / sqrt(2 ESS) is not.
    """
    x = np.asarray(x, dtype=float)
    mean, sd = float(x.mean()), float(x.std(ddof=1))
    if sd == 0.0 or x.shape[1] < 4:
        return {"mean": mean, "sd": sd, "mcse_mean": float("nan"), "mcse_sd": float("nan"),
                "ess_bulk": float("nan"), "r_hat": float("nan")}
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
