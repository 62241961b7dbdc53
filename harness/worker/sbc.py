"""Simulation-based calibration (Talts et al. 2018; Modrak et al. 2023): does a backend's posterior
average back to the prior?

For each of N simulations: draw parameters from the prior and data from the likelihood (pymc's prior
predictive), refit with the backend, thin the posterior to L = 99 roughly independent draws, and take the
rank of the true value among them, for every scalar parameter and for the log likelihood of the simulated
data (a test quantity that depends on the data, as Modrak et al. recommend for the joint density).
A calibrated sampler gives uniform ranks on 0..L. Uniformity is a chi-square test on 10 equal bins per
quantity, Bonferroni-corrected over the quantities so a calibrated backend fails with probability
ALPHA = 1% per cell.

`simulate_and_rank` runs in the cell's worker (pymc 5/6 only); `uniformity` in the parent.
"""

from __future__ import annotations

from typing import Any, Dict, List

import numpy as np

ALPHA = 0.01
L_DRAWS = 99
BINS = 10
FIT = {"chains": 2, "tune": 300, "draws": 300}


def _thin(values: np.ndarray, count: int) -> np.ndarray:
    flat = values.reshape(-1)
    return flat[np.linspace(0, flat.size - 1, count).astype(int)]


def simulate_and_rank(model_spec: Any, backend: Any, data: Dict[str, Any], sims: int, seed: int) -> Dict[str, Any]:
    import pymc as pm

    from harness.worker.diagnostics import scalars
    from harness.worker.samplers import SampleConfig, sampler_for

    if not model_spec.observed:
        raise ValueError(f"{model_spec.name} declares no `observed` mapping, so it cannot be simulated for SBC")
    template = model_spec.simulator(pm, data)
    with template:
        prior = pm.sample_prior_predictive(draws=sims, random_seed=seed)
    prior_params = {name: np.asarray(prior["prior"][name].values)[0] for name in model_spec.params}
    simulated = {obs: np.asarray(prior["prior_predictive"][obs].values)[0] for obs in model_spec.observed}
    ranks: Dict[str, List[int]] = {}
    for i in range(sims):
        sim_data = dict(data)
        for obs, key in model_spec.observed.items():
            sim_data[key] = simulated[obs][i].astype(np.asarray(data[key]).dtype)
        model = model_spec.build(pm, "pymc", sim_data)
        config = SampleConfig(seed=seed + 1 + i, target_accept=model_spec.target_accept, **FIT)
        draws = sampler_for(backend)(model, config, list(model_spec.params))
        for var in model_spec.params:
            truth = dict(scalars(var, prior_params[var][i][None, None]))
            for name, values in scalars(var, draws.posterior[var]):
                kept = _thin(values, L_DRAWS)
                ranks.setdefault(name, []).append(int((kept < float(truth[name].reshape(-1)[0])).sum()))
        ranks.setdefault("log_likelihood", []).append(_loglik_rank(pm, model, model_spec, draws, prior_params, i))
    return {"sims": sims, "draws_per_rank": L_DRAWS, "fit": FIT, "ranks": ranks}


def _loglik_rank(pm: Any, model: Any, model_spec: Any, draws: Any, prior_params: Dict[str, np.ndarray], i: int) -> int:
    """Rank of the simulated data's log likelihood at the true parameters among its values at the draws."""
    import pytensor
    import pytensor.tensor as pt

    inputs = [model[name] for name in model_spec.params]  # the graph is cut at the parameters themselves
    loglik = pt.add(*[pm.logp(rv, model.rvs_to_values[rv]).sum() for rv in model.observed_RVs])
    fn = pytensor.function(inputs, loglik, on_unused_input="ignore")
    at_truth = float(fn(*[prior_params[name][i] for name in model_spec.params]))
    flat = {name: draws.posterior[name].reshape((-1,) + draws.posterior[name].shape[2:]) for name in model_spec.params}
    picks = np.linspace(0, next(iter(flat.values())).shape[0] - 1, L_DRAWS).astype(int)
    at_draws = [float(fn(*[flat[name][j] for name in model_spec.params])) for j in picks]
    return int((np.asarray(at_draws) < at_truth).sum())


def uniformity(ranks: Dict[str, List[int]], draws_per_rank: int = L_DRAWS, bins: int = BINS) -> Dict[str, Any]:
    """Chi-square uniformity test of each quantity's ranks; passed when every p-value clears ALPHA / k."""
    from scipy.stats import chi2

    edges = np.linspace(0, draws_per_rank + 1, bins + 1)
    p_values = {}
    for name, values in ranks.items():
        counts, _ = np.histogram(values, bins=edges)
        expected = len(values) / bins
        statistic = float(((counts - expected) ** 2 / expected).sum())
        p_values[name] = float(chi2.sf(statistic, bins - 1))
    limit = ALPHA / max(len(p_values), 1)
    failing = sorted((p, n) for n, p in p_values.items() if p < limit)
    return {
        "p_values": p_values,
        "p_limit": limit,
        "passed": not failing,
        "reason": None if not failing else "ranks not uniform: " + ", ".join(f"{n} (p={p:.2g})" for p, n in failing[:4]),
    }
