"""Write each Inference Gym target's data (data/<name>.npz) and ground truth (references/<name>.json).

Run once, in a scratch environment that has inference-gym (the row environments need not):

    uv venv /tmp/gym --python 3.12 && VIRTUAL_ENV=/tmp/gym uv pip install inference-gym tfp-nightly jax numpy
    /tmp/gym/bin/python evaluation/inference_gym/export.py

Every target used here ships its data inside the package (or has none), so nothing is downloaded. The
truths are the gym's own, for its 'identity' sample transformation: the target's parameters on their
constrained scale. They are either exact (closed form in the gym's code) or from the gym's long Stan runs,
which give a standard error for the mean but none for the sd (mcse_sd is then 0). The quartic target's
gym truth is its mean alone; its sd comes from quadrature here. Where a posterior is computable here
(eight schools by quadrature, the Brownian motion in closed form), the reference's provenance also says
how far the gym's Stan truth is from it (`gym_truth_against_exact`).

The models/__init__ loader imports every file of this folder, this one included: keep inference_gym
imports inside functions.
"""

from __future__ import annotations

import datetime
import importlib
import importlib.metadata
import json
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
PACKAGES = ["inference-gym", "tfp-nightly", "jax", "numpy"]
# Eight schools as the gym's EightSchools writes it (its constructor keeps them in closed-over constants).
TREATMENT_EFFECTS = [28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0]
TREATMENT_STDDEVS = [15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0]


def gym_data():
    return importlib.import_module("inference_gym.dynamic.backend_jax.internal.data")


def ill_conditioned_covariance(ndims, gamma_shape_parameter, seed):
    """The covariance IllConditionedGaussian draws (its constructor's numpy code, which keeps only the
    float32 Cholesky factor); export checks it against the gym's truth."""
    rng = np.random.RandomState(seed=seed & (2**32 - 1))
    eigenvalues = 1.0 / np.sort(rng.gamma(shape=gamma_shape_parameter, scale=1.0, size=ndims))
    q, r = np.linalg.qr(rng.randn(ndims, ndims))
    q *= np.sign(np.diag(r))
    return (q * eigenvalues).dot(q.T)


def quartic_sd(noise_scale, half_width=4.0, points=4001):
    """Posterior sd of both coordinates of NonIdentifiableQuarticMeasurementModel (ndims = 2), by the
    trapezoid rule on a grid: the density is smooth and negligible at the edges, so the rule converges
    fast; halving the grid spacing must not move the answer."""

    def sd(n):
        grid = np.linspace(-half_width, half_width, n)
        t0, t1 = np.meshgrid(grid, grid, indexing="ij")
        y_hat = t1**2 + 3.0 * t0**2 * (t0**2 - 1.0)
        logp = -0.5 * (t0**2 + t1**2) - 0.5 * ((1.0 - y_hat) / noise_scale) ** 2
        w = np.exp(logp - logp.max())
        w /= w.sum()
        return np.sqrt([(w * t0**2).sum(), (w * t1**2).sum()])  # the means are 0 by symmetry

    coarse, fine = sd(points), sd(2 * points - 1)
    assert np.allclose(coarse, fine, rtol=1e-9, atol=0), (coarse, fine)
    return fine


def eight_schools_exact(y, sigma, n=1201):
    """EightSchools' posterior moments by quadrature: (avg_effect, log_stddev) on a grid, with the school
    effects integrated analytically (normal given both)."""
    avg, log_sd = np.meshgrid(np.linspace(-60, 70, n), np.linspace(-6, 9, n), indexing="ij")
    tau2 = np.exp(2 * log_sd)[..., None]
    var = sigma**2 + tau2
    logp = -0.5 * (avg / 10) ** 2 - 0.5 * (log_sd - 5) ** 2 + (-0.5 * (y - avg[..., None]) ** 2 / var - 0.5 * np.log(var)).sum(-1)
    w = np.exp(logp - logp.max())[..., None]
    w /= w.sum()
    cond_var = 1 / (1 / sigma**2 + 1 / tau2)
    cond_mean = cond_var * (y / sigma**2 + avg[..., None] / tau2)
    moments = {}
    for key, mean, var in (("avg_effect", avg[..., None], 0), ("log_stddev", log_sd[..., None], 0),
                           ("school_effects", cond_mean, cond_var)):
        m = (w * mean).sum((0, 1))
        sd = np.sqrt((w * (var + (mean - m) ** 2)).sum((0, 1)))
        if key != "school_effects":
            m, sd = m[0], sd[0]
        moments.update({scalar: (a, b) for (scalar, a), (_, b) in zip(scalar_items(key, m), scalar_items(key, sd))})
    return moments


def brownian_motion_exact(observed, innovation, observation):
    """BrownianMotionMissingMiddleObservations is linear-Gaussian: its posterior in closed form."""
    steps = np.arange(len(observed))
    prior_cov = innovation**2 * (np.minimum.outer(steps, steps) + 1)
    seen = np.isfinite(observed)
    precision = np.linalg.inv(prior_cov) + np.diag(seen / observation**2)
    cov = np.linalg.inv(precision)
    mean = cov @ np.where(seen, observed, 0) / observation**2
    return {f"locs[{i}]": (mean[i], np.sqrt(cov[i, i])) for i in steps}


def exact_check(name, model_data, params):
    """Where the posterior is computable here, how far the gym's Stan truth is from it: the largest
    |gym - exact| / gym standard error of a mean, and the largest relative difference of an sd."""
    if name == "gym_eight_schools":
        exact = eight_schools_exact(np.asarray(model_data["treatment_effects"]), np.asarray(model_data["treatment_stddevs"]))
    elif name == "gym_brownian_motion_missing_middle":
        exact = brownian_motion_exact(*(model_data[k] for k in ("observed_locs", "innovation_noise_scale", "observation_noise_scale")))
    else:
        return None
    z = max(abs(p["mean"] - exact[k][0]) / p["mcse_mean"] for k, p in params.items())
    rel = max(abs(p["sd"] / exact[k][1] - 1) for k, p in params.items())
    return {"largest_z_mean": round(float(z), 2), "largest_relative_sd_difference": round(float(rel), 4)}


# model name -> (gym class, constructor kwargs, the model's name for a single-vector target, its data)
def targets():
    data = gym_data()
    bm = data.brownian_motion_missing_middle_observations()
    irt = data.synthetic_item_response_theory()
    pairs = set(zip(irt["train_student_ids"].tolist(), irt["train_question_ids"].tolist()))
    # the gym's likelihood is over the dense (student, question) matrix: a repeated pair would count once
    assert len(pairs) == len(irt["train_correct"]), "repeated (student, question) pairs"
    lgcp = data.synthetic_log_gaussian_cox_process()
    return {
        "gym_banana": ("Banana", dict(ndims=2, curvature=0.03), "x", dict(curvature=0.03)),
        "gym_neals_funnel": ("NealsFunnel", dict(ndims=10), "x", dict(ndims=10)),
        "gym_ill_conditioned_gaussian": (
            "IllConditionedGaussian", dict(ndims=100, gamma_shape_parameter=0.5, seed=10), "x",
            dict(covariance=ill_conditioned_covariance(100, 0.5, 10)),
        ),
        "gym_eight_schools": (
            "EightSchools", {}, None,
            dict(treatment_effects=TREATMENT_EFFECTS, treatment_stddevs=TREATMENT_STDDEVS),
        ),
        "gym_brownian_motion_missing_middle": (
            "BrownianMotionMissingMiddleObservations", {}, "locs",
            dict(observed_locs=bm["observed_locs"].astype(np.float64),
                 innovation_noise_scale=bm["innovation_noise_scale"],
                 observation_noise_scale=bm["observation_noise_scale"]),
        ),
        "gym_synthetic_irt": (
            "SyntheticItemResponseTheory", {}, None,
            dict(student_ids=irt["train_student_ids"].astype(np.int16),
                 question_ids=irt["train_question_ids"].astype(np.int16),
                 correct=irt["train_correct"].astype(np.int8)),
        ),
        "gym_stochastic_volatility_sp500_small": (
            "StochasticVolatilitySP500Small", {}, None,
            dict(centered_returns=data.sp500_returns(num_points=100)["centered_returns"]),
        ),
        "gym_synthetic_lgcp": (
            "SyntheticLogGaussianCoxProcess", {}, None,
            dict(locations=lgcp["train_locations"], extents=lgcp["train_extents"],
                 counts=lgcp["train_counts"].astype(np.int32)),
        ),
        "gym_quartic": (
            "NonIdentifiableQuarticMeasurementModel", dict(ndims=2, noise_scale=0.1), "theta",
            dict(noise_scale=0.1),
        ),
    }


def scalar_items(name, values):
    """(scalar name, value) pairs named as harness.worker.diagnostics.scalars names them: mu, a[3]."""
    values = np.asarray(values, dtype=np.float64)
    if values.shape == ():
        return [(name, float(values))]
    return [(f"{name}[{','.join(map(str, i))}]", float(values[i])) for i in np.ndindex(*values.shape)]


def flat_truth(part, variable):
    """The gym's truth of one part ('mean', 'sd', ...) as {scalar name: value}; None if the gym has none.
    Single-vector targets are named `variable`; structured ones by their own field names."""
    if part is None:
        return None
    if isinstance(part, dict):
        return dict(item for key, value in part.items() for item in scalar_items(key, value))
    if hasattr(part, "_fields"):  # a namedtuple of the target's parts
        return dict(item for key, value in zip(part._fields, part) for item in scalar_items(key, value))
    return dict(scalar_items(variable, part))


def truth_params(target, variable, model_data):
    """{scalar: {mean, sd, mcse_mean, mcse_sd}} from the target's 'identity' sample transformation."""
    st = target.sample_transformations["identity"]
    mean = flat_truth(st.ground_truth_mean, variable)
    sd = flat_truth(st.ground_truth_standard_deviation, variable)
    sem = flat_truth(st.ground_truth_mean_standard_error, variable) or {}
    sd_se = flat_truth(st.ground_truth_standard_deviation_standard_error, variable) or {}
    if sd is None:  # the quartic: the gym gives the mean (0 by symmetry) alone
        sd = dict(zip(mean, quartic_sd(model_data["noise_scale"])))
    return {k: {"mean": mean[k], "sd": sd[k], "mcse_mean": sem.get(k, 0.0), "mcse_sd": sd_se.get(k, 0.0)}
            for k in mean}


def how(st, name):
    if name == "gym_quartic":
        return "mean: the gym's (0 by symmetry); sd: trapezoid-rule quadrature of the 2-D density (export.py)"
    if st.ground_truth_mean_standard_error is None:
        return "exact: closed form in the gym's code"
    return "the gym's Stan run (standard errors of the means; none for the sds, so mcse_sd = 0)"


def provenance(target, gym_class, kwargs, name, model_data, params):
    st = target.sample_transformations["identity"]
    module = getattr(type(target), "GROUND_TRUTH_MODULE", None)
    doc = (module.__doc__ or "") if module else ""
    command = doc.split("```")[1].replace("\\\n", " ").split() if "```" in doc else None
    return {
        "made": datetime.date.today().isoformat(),
        "command": "python evaluation/inference_gym/export.py",
        "source": "inference-gym " + importlib.metadata.version("inference-gym"),
        "target": f"inference_gym.targets.{gym_class}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})",
        "sample_transformation": "identity",
        "truth": how(st, name),
        "gym_ground_truth_command": " ".join(command) if command else None,
        "gym_truth_against_exact": exact_check(name, model_data, params),
        "packages": {p: importlib.metadata.version(p) for p in PACKAGES},
    }


def check(name, target, model_data, params):
    """The exported copies must be the gym's own: checked where the gym keeps the numbers."""
    if name == "gym_ill_conditioned_gaussian":
        gym_sd = np.asarray(target.sample_transformations["identity"].ground_truth_standard_deviation)
        assert np.allclose(np.sqrt(np.diag(model_data["covariance"])), gym_sd, rtol=1e-12), name
    assert all(np.isfinite([v["mean"], v["sd"]]).all() for v in params.values()), name


def main():
    from inference_gym import using_jax as gym

    (HERE / "data").mkdir(exist_ok=True)
    (HERE / "references").mkdir(exist_ok=True)
    for name, (gym_class, kwargs, variable, model_data) in targets().items():
        target = getattr(gym.targets, gym_class)(**kwargs)
        params = truth_params(target, variable, model_data)
        check(name, target, model_data, params)
        np.savez_compressed(HERE / "data" / f"{name}.npz", **{k: np.asarray(v) for k, v in model_data.items()})
        reference = {"model": name, "entries": [
            {"size": {}, "provenance": provenance(target, gym_class, kwargs, name, model_data, params), "params": params}]}
        (HERE / "references" / f"{name}.json").write_text(json.dumps(reference, indent=1) + "\n")
        print(f"{name:<40} {gym_class:<42} {len(params):>4} scalars")


if __name__ == "__main__":
    main()
