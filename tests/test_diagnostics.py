"""The numpy diagnostics agree with arviz, and the verdict catches what it should."""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.worker import diagnostics
from harness.worker.verdict import judge, z_critical


def ar1(rng, chains, draws, phi, offset=None):
    x = np.zeros((chains, draws))
    noise = rng.normal(size=(chains, draws))
    for t in range(1, draws):
        x[:, t] = phi * x[:, t - 1] + noise[:, t]
    return x + (0.0 if offset is None else np.asarray(offset)[:, None])


@pytest.mark.parametrize("phi", [0.0, 0.6, 0.95])
def test_ess_and_rhat_match_arviz(phi):
    az = pytest.importorskip("arviz")
    stats = pytest.importorskip("arviz_stats") if az.__version__.startswith("1.") else None
    x = ar1(np.random.RandomState(1), 4, 500, phi)
    if stats is None:
        ess, rhat = az.ess(x, method="bulk"), az.rhat(x, method="rank")
        mcse = az.mcse(x, method="mean")
    else:
        ess, rhat, mcse = stats.ess(x, method="bulk"), stats.rhat(x, method="rank"), stats.mcse(x, method="mean")
    assert diagnostics.ess_bulk(x) == pytest.approx(float(ess), rel=1e-6)
    assert diagnostics.r_hat(x) == pytest.approx(float(rhat), rel=1e-6)
    assert diagnostics.summarize(x)["mcse_mean"] == pytest.approx(float(mcse), rel=1e-6)


def test_mcse_sd_is_calibrated():
    """Across replications, the spread of sd estimates matches the reported mcse_sd (within 15%)."""
    rng = np.random.RandomState(2)
    sds, mcses = [], []
    for _ in range(300):
        x = rng.standard_t(df=8, size=(4, 250))  # heavier tails than normal
        s = diagnostics.summarize(x)
        sds.append(s["sd"])
        mcses.append(s["mcse_sd"])
    assert np.std(sds) == pytest.approx(np.mean(mcses), rel=0.15)


def test_scalars_are_named_by_index():
    draws = np.zeros((2, 3, 2, 2))
    assert [n for n, _ in diagnostics.scalars("w", draws)] == ["w[0,0]", "w[0,1]", "w[1,0]", "w[1,1]"]
    assert [n for n, _ in diagnostics.scalars("mu", np.zeros((2, 3)))] == ["mu"]


def _params(x, name="theta"):
    return {name: diagnostics.summarize(x)}


def test_verdict_passes_exact_draws_and_fails_shifted_ones():
    rng = np.random.RandomState(3)
    truth = {"theta": {"mean": 0.0, "sd": 1.0}}
    good = rng.normal(size=(4, 1000))
    passed, problems = judge(_params(good), truth, chains=4)
    assert passed, problems
    passed, problems = judge(_params(good + 0.2), truth, chains=4)
    assert not passed and "mean off the truth" in problems[0]
    passed, problems = judge(_params(good * 1.2), truth, chains=4)
    assert not passed and "sd off the truth" in problems[0]


def test_verdict_fails_unmixed_chains_and_nan():
    rng = np.random.RandomState(4)
    truth = {"theta": {"mean": 0.0, "sd": 1.0}}
    stuck = ar1(rng, 4, 1000, 0.5, offset=[-0.3, 0.3, -0.3, 0.3])
    passed, problems = judge(_params(stuck), truth, chains=4)
    assert not passed and any("R-hat" in p for p in problems)
    passed, problems = judge({"theta": {"mean": math.nan, "sd": 1.0}}, truth, chains=4)
    assert not passed and "non-finite" in problems[0]


def test_verdict_false_alarm_rate_is_near_alpha():
    """Exact independent draws of 20 parameters: the cell fails in about ALPHA = 0.5% of replications."""
    rng = np.random.RandomState(5)
    truth = {f"p{i}": {"mean": 0.0, "sd": 1.0} for i in range(20)}
    fails = 0
    for _ in range(300):
        params = {f"p{i}": diagnostics.summarize(rng.normal(size=(4, 250))) for i in range(20)}
        fails += not judge(params, truth, chains=4)[0]
    assert fails / 300 <= 0.04


def test_z_critical_is_bonferroni():
    assert z_critical(1, alpha=0.01) == pytest.approx(2.5758, abs=1e-3)
    assert z_critical(1) == pytest.approx(2.8070, abs=1e-3)  # ALPHA = 0.5%
    assert z_critical(100) > z_critical(10)
