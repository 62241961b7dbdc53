"""How heavy are the z-scores' tails for a correct sampler? The Wald and the at-the-truth standard errors.

    python evaluation/standard_errors.py [--reps 4000] [--seed 2]

Draws with a known marginal (normal, gamma(3), lognormal(0, 0.5), Student t(7)) and AR(1) autocorrelation
0 or 0.5, 4 chains x 500 draws, are summarised by the harness's own diagnostics and z-tested against the
marginal's true mean and sd two ways: with the run's standard errors as they are (Wald: mcse from the
run's own sd) and with the run's errors rescaled to the truth's sd (harness.worker.verdict, since
measurement version 5). For each, the mass below -3 and above +3 as a multiple of the normal's (0.135%
each), and the same at 2.5. A correct test sits near 1x on both sides; the verdict's Bonferroni limits
(3.0-4.2) sit further out still, where an excess is larger. docs/verdicts.md has the table of one run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness.worker.diagnostics import summarize  # noqa: E402

CHAINS, DRAWS, BURN = 4, 500, 200


def marginals():
    """name -> (transform of a standard normal, true mean, true sd)."""
    s = 0.5
    lognormal_sd = float(np.sqrt((np.exp(s * s) - 1) * np.exp(s * s)))
    return {
        "normal": (lambda x: x, 0.0, 1.0),
        "gamma(3)": (lambda x: stats.gamma.ppf(stats.norm.cdf(x), 3), 3.0, float(np.sqrt(3))),
        "lognormal(0, 0.5)": (lambda x: np.exp(s * x), float(np.exp(s * s / 2)), lognormal_sd),
        "t(7)": (lambda x: stats.t.ppf(stats.norm.cdf(x), 7), 0.0, float(np.sqrt(7 / 5))),
    }


def ar1(rng: np.random.Generator, phi: float) -> np.ndarray:
    noise = rng.standard_normal((CHAINS, DRAWS + BURN))
    x = np.empty_like(noise)
    x[:, 0] = noise[:, 0]
    for t in range(1, DRAWS + BURN):
        x[:, t] = phi * x[:, t - 1] + np.sqrt(1 - phi ** 2) * noise[:, t]
    return x[:, BURN:]


def tails(z: np.ndarray) -> str:
    out = []
    for cut in (3.0, 2.5):
        p = stats.norm.cdf(-cut)
        out.append(f"<-{cut}: {np.mean(z < -cut) / p:.1f}x  >{cut}: {np.mean(z > cut) / p:.1f}x")
    return "  ".join(out)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=2)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    print(f"{args.reps} replications of {CHAINS} x {DRAWS} draws; mass beyond the cut / the normal's")
    for name, (transform, mean, sd) in marginals().items():
        for phi in (0.0, 0.5):
            z = {"mean Wald": [], "mean at truth": [], "sd Wald": [], "sd at truth": []}
            for _ in range(args.reps):
                s = summarize(transform(ar1(rng, phi)))
                at_truth = sd / s["sd"]
                z["mean Wald"].append((s["mean"] - mean) / s["mcse_mean"])
                z["mean at truth"].append((s["mean"] - mean) / (s["mcse_mean"] * at_truth))
                z["sd Wald"].append((s["sd"] - sd) / s["mcse_sd"])
                z["sd at truth"].append((s["sd"] - sd) / (s["mcse_sd"] * at_truth))
            for test, values in z.items():
                print(f"{name:18s} phi={phi:.1f}  {test:14s} {tails(np.asarray(values))}", flush=True)


if __name__ == "__main__":
    main()
