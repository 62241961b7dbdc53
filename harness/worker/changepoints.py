"""Change points in a series of speed figures, per (row, tier, model, backend, metric), with ruptures.

    python -m harness.worker.changepoints SERIES.json [--alpha A]   (in an environment with ruptures;
                                                                   nox -s compare -- --changepoints)

SERIES.json: [{"key": [row, tier, model, backend, metric], "points": [{"label", "side", "value", "sd"}, ...]},
...] in order (dated points of the timeline, nightly runs). Prints JSON: for each series, its change points
with the step's size, relative to the segment before, the segment means, and the points on either side (their
labels, and the `side` nox -s compare rebuilds each from: a date or a results file).

Why ruptures: a maintained library (1.1.10, 2025) with an exact search (PELT: the optimal segmentation for
a penalty, not a greedy one) and pluggable costs, so each point's own noise can enter the cost. (Otava /
MongoDB's e-divisive test with permutations and know nothing of a point's stated uncertainty; asv's
step_detect assumes one noise level for the whole series.)

How each point's noise enters: a point i has a value x_i (log of the figure: steps are relative) and its own
standard error s_i (from its repeated timings: the sd of its rounds over sqrt(rounds), in log units). The
cost of a segment is the weighted Gaussian one, sum w_i (x_i - mean_w)^2 with w_i = 1 / (s_i^2 + tau^2):
a chi-square where the points' errors are right. tau^2, the run-to-run noise the points' own errors do
not see (the machine, another day's neighbours), is estimated from the series itself: the robust variance
of successive differences (MAD, halved) less the mean s_i^2, at least 0. A split then lowers the cost by a
chi-square(1) statistic where nothing changed; the penalty is its (1 - alpha / (n - 1)) quantile
(Bonferroni over the n - 1 candidate positions), so a flat series gives a false change point with
probability <= alpha.
A step must also exceed `min_step` (relative) to be reported: a real but negligible change is not news.
"""

from __future__ import annotations

import json
import math
import sys
from statistics import NormalDist
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

ALPHA = 0.01
MIN_STEP = 0.03


def chi2_1_quantile(p: float) -> float:
    """The p-quantile of chi-square with one degree of freedom."""
    z = NormalDist().inv_cdf(0.5 + p / 2.0)
    return z * z


def extra_variance(x: np.ndarray, se: np.ndarray) -> float:
    """tau^2: the noise between points beyond their own standard errors, robustly from successive
    differences (a step moves one difference, not the median)."""
    if len(x) < 3:
        return 0.0
    diffs = np.diff(x)
    mad = np.median(np.abs(diffs - np.median(diffs))) * 1.4826
    return max(mad * mad / 2.0 - float(np.mean(se * se)), 0.0)


def _weighted_cost():
    import ruptures as rpt

    class WeightedNormal(rpt.base.BaseCost):
        """Sum of w_i (x_i - weighted mean)^2 over a segment: column 0 is x, column 1 the weight."""

        model = "weighted_normal"
        min_size = 1

        def fit(self, signal):
            signal = np.asarray(signal, dtype=float)
            self.signal = signal
            self.x, self.w = signal[:, 0], signal[:, 1]
            zero = np.zeros(1)
            self.cw = np.concatenate([zero, np.cumsum(self.w)])
            self.cwx = np.concatenate([zero, np.cumsum(self.w * self.x)])
            self.cwxx = np.concatenate([zero, np.cumsum(self.w * self.x * self.x)])
            return self

        def error(self, start, end):
            w, wx, wxx = (c[end] - c[start] for c in (self.cw, self.cwx, self.cwxx))
            return float(wxx - wx * wx / w) if w > 0 else 0.0

    return WeightedNormal()


def detect(values: Sequence[float], sds: Optional[Sequence[Optional[float]]] = None, alpha: float = ALPHA,
           min_step: float = MIN_STEP) -> Dict[str, Any]:
    """Change points of one series of positive figures (seconds, ...). `sds`: each point's own standard
    deviation in the figure's units (None: unknown, 0 assumed and tau^2 carries all the noise)."""
    import ruptures as rpt

    x = np.log(np.asarray(values, dtype=float))
    n = len(x)
    raw = np.asarray([s if s is not None else 0.0 for s in (sds or [None] * n)], dtype=float)
    se = raw / np.asarray(values, dtype=float)  # relative error ~ the error of the log
    tau2 = extra_variance(x, se)
    variance = se * se + tau2
    if n < 4 or not np.all(variance > 0):
        return {"n": n, "tau": math.sqrt(tau2), "change_points": [], "note": "too few points or no noise to scale by"}
    weights = 1.0 / variance
    penalty = chi2_1_quantile(1.0 - alpha / max(n - 1, 1))
    algo = rpt.Pelt(custom_cost=_weighted_cost(), min_size=1, jump=1).fit(np.column_stack([x, weights]))
    bounds = [0] + algo.predict(pen=penalty)
    means = [float(np.average(x[a:b], weights=weights[a:b])) for a, b in zip(bounds[:-1], bounds[1:])]
    points = []
    for i, at in enumerate(bounds[1:-1]):
        step = math.exp(means[i + 1] - means[i]) - 1.0
        if abs(step) >= min_step:
            points.append({"index": int(at), "step": step})
    return {"n": n, "tau": math.sqrt(tau2), "penalty": penalty, "change_points": points,
            "segment_means": [math.exp(m) for m in means]}


def analyse(series: List[Dict[str, Any]], alpha: float = ALPHA, min_step: float = MIN_STEP) -> List[Dict[str, Any]]:
    out = []
    for one in series:
        points = one["points"]
        found = detect([p["value"] for p in points], [p.get("sd") for p in points], alpha, min_step)
        for cp in found["change_points"]:
            before, after = points[cp["index"] - 1], points[cp["index"]]
            cp["before"], cp["after"] = before["label"], after["label"]
            cp["before_source"], cp["after_source"] = before.get("side", before["label"]), after.get("side", after["label"])
            cp["before_value"], cp["after_value"] = before["value"], after["value"]
            if before.get("measurement") != after.get("measurement"):  # the harness measured differently
                cp["suspect"] = f"the harness: measurement version {before.get('measurement')} -> {after.get('measurement')}"
        out.append(dict(key=one["key"], **found))
    return out


def main(argv: List[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m harness.worker.changepoints")
    parser.add_argument("series")
    parser.add_argument("--alpha", type=float, default=ALPHA, help="a flat series' chance of a false change point")
    args = parser.parse_args(argv[1:])
    series = json.loads(open(args.series).read())
    print(json.dumps(analyse(series, alpha=args.alpha), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
