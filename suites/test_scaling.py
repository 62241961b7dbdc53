"""Scaling sweep, opt-in (`-- --scaling`): how each backend's cost grows with the data and the parameters.

The radon-style hierarchical GLM at growing numbers of observations (and, in the full tier, ten times the
groups), one cold sampling call per point in a fresh worker. Recorded per backend under the results'
`scaling`: each point's wall, compile and sampling time and ESS/s, and the fitted growth exponent b of
sample_s ~ n_obs^b (least squares on logs), so a user sees where the JAX/GPU paths overtake the CPU ones.
"""

import math

import pytest

from harness.worker.evaluation import blocked_reason, start_worker, worker_spec

MODEL = "radon"
SWEEPS = {  # by the tier's model size: smoke and timeline sample the quick size, so they sweep as quick does
    "quick": [{"n_obs": 1000, "n_counties": 85}, {"n_obs": 3000, "n_counties": 85}, {"n_obs": 10000, "n_counties": 85}],
    "full": [{"n_obs": 1000, "n_counties": 85}, {"n_obs": 10000, "n_counties": 85}, {"n_obs": 100000, "n_counties": 85},
             {"n_obs": 10000, "n_counties": 850}],
}


def growth_exponent(points):
    """Slope of log(sample_s) against log(n_obs) over the points with the base number of groups."""
    pairs = [(math.log(p["knobs"]["n_obs"]), math.log(p["sample_s"])) for p in points
             if p.get("sample_s") and p["knobs"]["n_counties"] == points[0]["knobs"]["n_counties"]]
    if len(pairs) < 2:
        return None
    mean_x = sum(x for x, _ in pairs) / len(pairs)
    mean_y = sum(y for _, y in pairs) / len(pairs)
    return sum((x - mean_x) * (y - mean_y) for x, y in pairs) / sum((x - mean_x) ** 2 for x, _ in pairs)


def test_scaling(backend_only, plan, seed, results_file, pytestconfig):
    model = pytestconfig.matrix_models[MODEL]
    blocked = blocked_reason(plan, model, backend_only)
    if blocked:
        pytest.skip(f"{blocked['status']}: {blocked['reason']}")
    tier = plan.tier
    points = []
    for knobs in SWEEPS.get(tier.size, SWEEPS["quick"]):
        with start_worker(plan, worker_spec(plan, MODEL, backend_only, seed, knobs=knobs, model_dirs=[])) as worker:
            reply = worker.call({"op": "sample"}, timeout_s=tier.timeout_s)
        point = {"knobs": knobs, "status": reply["status"]}
        if reply["status"] == "sampled":
            min_ess = min(p["ess_bulk"] for p in reply["params"].values())
            point.update(reply["timings"], ess_per_s=min_ess / reply["timings"]["sample_s"])
        else:
            point["reason"] = reply.get("reason")
        points.append(point)
        if reply["status"] != "sampled":
            break  # larger sizes will not do better
    entry = {"model": MODEL, "backend": backend_only, "points": points, "exponent_n_obs": growth_exponent(points)}
    results_file.payload.setdefault("scaling", []).append(entry)
    results_file.save()
    broken = [p for p in points if p["status"] != "sampled"]
    if broken:
        pytest.fail(f"scaling stopped at {broken[0]['knobs']}: {broken[0]['status']}: {broken[0].get('reason')}", pytrace=False)
