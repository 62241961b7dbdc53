"""The numpy diagnostics agree with arviz, and the verdict catches what it should."""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.worker import diagnostics
from harness.worker.verdict import ALPHA_CONFIRM, ALPHA_SCREEN, judge, posterior_problems, z_critical


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
    assert not passed and any("sd off the truth" in p for p in problems)


def test_z_scores_take_the_standard_errors_at_the_truths_sd():
    """A run whose sd is half the truth's is judged with the errors it would have if it were right: twice
    its own (a score test), so a run that has not yet reached its tails is not made to look more certain."""
    params = {"theta": {"mean": 0.1, "sd": 0.5, "mcse_mean": 0.01, "mcse_sd": 0.02, "ess_bulk": 2500.0,
                        "r_hat": 1.0, "tail_khat": 0.0}}
    posterior_problems(params, {"theta": {"mean": 0.0, "sd": 1.0}}, ALPHA_SCREEN)
    assert params["theta"]["z_mean"] == pytest.approx(0.1 / 0.02)
    assert params["theta"]["z_sd"] == pytest.approx(-0.5 / 0.04)


def test_verdict_fails_unmixed_chains_and_nan():
    rng = np.random.RandomState(4)
    truth = {"theta": {"mean": 0.0, "sd": 1.0}}
    stuck = ar1(rng, 4, 1000, 0.5, offset=[-0.3, 0.3, -0.3, 0.3])
    passed, problems = judge(_params(stuck), truth, chains=4)
    assert not passed and any("R-hat" in p for p in problems)
    passed, problems = judge({"theta": {"mean": math.nan, "sd": 1.0}}, truth, chains=4)
    assert not passed and "non-finite" in problems[0]


def exact_cell(rng, n_params=20, draws=250):
    """Summaries of exact independent draws: what a correct sampler that mixes perfectly returns."""
    return {f"p{i}": diagnostics.summarize(rng.normal(size=(4, draws))) for i in range(n_params)}


TRUTH_20 = {f"p{i}": {"mean": 0.0, "sd": 1.0} for i in range(20)}


def test_screen_fails_a_correct_cell_at_about_its_level():
    rng = np.random.RandomState(5)
    fails = sum(bool(posterior_problems(exact_cell(rng), TRUTH_20, ALPHA_SCREEN)) for _ in range(300))
    assert 0.01 <= fails / 300 <= 0.09  # ALPHA_SCREEN = 5%, Bonferroni over 40 tests: at most 5%


def test_two_stage_verdict_calls_a_correct_cell_wrong_at_most_half_a_percent_of_the_time():
    """The screen, and the confirmation on an independent sample only when the screen failed."""
    rng = np.random.RandomState(6)
    screened = confirmed = 0
    for _ in range(600):
        if posterior_problems(exact_cell(rng), TRUTH_20, ALPHA_SCREEN):
            screened += 1
            confirmed += bool(posterior_problems(exact_cell(rng), TRUTH_20, ALPHA_CONFIRM))
    assert screened >= 5  # the screen did fire, so the confirmation was exercised
    assert confirmed <= 9  # expected <= 600 x 0.5% = 3; P(Poisson(3) > 9) is about 0.1%


def test_confirmation_still_catches_a_shifted_posterior():
    rng = np.random.RandomState(7)
    shifted = {name: {"mean": 0.15, "sd": 1.0} for name in TRUTH_20}  # every mean off by 0.15 sd
    caught = sum(bool(posterior_problems(exact_cell(rng, draws=1000), shifted, ALPHA_SCREEN))
                 and bool(posterior_problems(exact_cell(rng, draws=1000), shifted, ALPHA_CONFIRM)) for _ in range(50))
    assert caught >= 45


def test_z_critical_is_bonferroni():
    assert z_critical(1, alpha=0.01) == pytest.approx(2.5758, abs=1e-3)
    assert z_critical(40, ALPHA_SCREEN) == pytest.approx(3.2272, abs=1e-3)
    assert z_critical(100, ALPHA_SCREEN) > z_critical(10, ALPHA_SCREEN)


def test_pareto_shape_is_arviz_gpdfit():
    az_stats = pytest.importorskip("arviz.stats.stats")  # arviz 0.x; 1.x moved it to arviz-stats (below)
    rng = np.random.RandomState(8)
    for tail in (rng.exponential(size=60), np.abs(rng.standard_cauchy(size=150)), rng.pareto(3.0, size=90)):
        exceedances = np.sort(tail)
        assert diagnostics._pareto_shape(exceedances) == pytest.approx(az_stats._gpdfit(exceedances)[0], rel=1e-9)


def test_tail_khat_is_arviz_stats_pareto_khat():
    array_stats = pytest.importorskip("arviz_stats.base").array_stats
    rng = np.random.RandomState(9)
    for x in (rng.normal(size=(4, 500)), rng.standard_t(3, size=(4, 500)), rng.standard_cauchy(size=(4, 500))):
        for r_eff in (1.0, 0.25):
            assert diagnostics.tail_khat(x, ess=r_eff * x.size) == pytest.approx(
                float(array_stats.pareto_khat(x, r_eff=r_eff)), rel=1e-9)


def test_tail_khat_tells_light_from_heavy_tails():
    """k is 0 for a normal, 1/3 for Student t(3) (moments below 3), 1 for a half-Cauchy; at 2000 draws."""
    rng = np.random.RandomState(10)
    normal = [diagnostics.tail_khat(rng.normal(size=(4, 500)), 2000) for _ in range(100)]
    student = [diagnostics.tail_khat(rng.standard_t(3, size=(4, 500)), 2000) for _ in range(100)]
    cauchy = [diagnostics.tail_khat(np.abs(rng.standard_cauchy(size=(4, 500))), 2000) for _ in range(100)]
    assert max(normal) < 0.25  # a normal's sd is never left untested
    assert 0.25 < np.median(student) < 0.45
    assert min(cauchy) > 0.5


def test_a_heavy_tail_leaves_the_tests_it_voids_unmade():
    """Student t(2.5) draws (k = 0.4): the sd has no standard error (no fourth moment), so a wrong sd is not
    a failure; the mean's test is still made and still catches a shifted mean."""
    rng = np.random.RandomState(11)
    x = rng.standard_t(2.5, size=(4, 2000))
    params = _params(x)
    assert 0.25 <= params["theta"]["tail_khat"] < 0.5
    wrong_sd = {"theta": {"mean": 0.0, "sd": 3.0}}
    assert posterior_problems(params, wrong_sd, ALPHA_SCREEN) == []
    assert "z_sd" in params["theta"]["untested"] and "z_mean" not in params["theta"]["untested"]
    shifted = {"theta": {"mean": 0.5, "sd": float(np.sqrt(5.0))}}
    assert any("mean off the truth" in p for p in posterior_problems(_params(x), shifted, ALPHA_SCREEN))


def test_a_references_error_is_at_least_the_spread_of_its_chains():
    """Chains that each sit at a slightly different level (dependence longer than the autocorrelations
    the ESS sums, as a rarely visited funnel's neck makes) disagree by more than the ESS-based error says:
    the reference's error takes the larger of the two."""
    from harness.worker.reference import with_chain_spread

    rng = np.random.RandomState(12)
    offsets = rng.normal(scale=0.05, size=(8, 1))  # a slow component: each chain's level, fixed over its run
    slow = rng.normal(size=(8, 5000)) + offsets
    summary = diagnostics.summarize(slow)
    raised = with_chain_spread(summary, slow)
    assert raised["mcse_mean"] > 1.5 * summary["mcse_mean"]
    assert raised["mcse_mean"] == pytest.approx(slow.mean(axis=1).std(ddof=1) / np.sqrt(8))
    iid = rng.normal(size=(8, 5000))
    plain = diagnostics.summarize(iid)
    kept = with_chain_spread(plain, iid)
    assert all(kept[k] >= plain[k] for k in ("mcse_mean", "mcse_sd"))  # never lowered
    assert kept["mcse_mean"] < 2.0 * plain["mcse_mean"]  # chains that agree keep about the ESS-based error
