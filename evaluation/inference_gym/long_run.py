"""A truth for a gym target from a long run on the gym's own density, where the gym's Stan truth is off.

    /tmp/gym/bin/python evaluation/inference_gym/long_run.py gym_stochastic_volatility_sp500_small \
        [--chains 8] [--draws 10000] [--warmup 1000] [--seed 11]

NumPyro's NUTS (target acceptance 0.95) on the gym's JAX `unnormalized_log_prob`, unconstrained by the
gym's own `default_event_space_bijector`: nothing of the pymc translation or of the harness's samplers is
used, so the truth is as independent of what it judges as the gym's own. The draws go through the same
summaries as the project's references (harness.worker.diagnostics; errors at least the chains' spread,
harness.worker.reference), and the reference keeps the gym's truth beside it (`gym_truth`, with each
scalar's difference in standard errors), so the replacement can be checked.

Run it in the scratch environment of export.py, with numpyro added (`uv pip install numpyro`). It is used
only where the evidence says the gym's truth is off: evaluation/README.md says where and why.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
TARGET_ACCEPT = 0.95
# The models/__init__ loader imports every file of this folder: imports beyond numpy stay in functions.


def long_run(target, chains: int, draws: int, warmup: int, seed: int) -> np.ndarray:
    """(chains, draws, scalars) on the constrained scale, in the order of the gym's truth."""
    import jax
    import jax.numpy as jnp
    from numpyro.infer import MCMC, NUTS
    from tensorflow_probability.substrates.jax import bijectors as tfb

    jax.config.update("jax_enable_x64", True)
    bijectors, structure = jax.tree_util.tree_flatten(target.default_event_space_bijector,
                                                      is_leaf=lambda b: isinstance(b, tfb.Bijector))
    dtype = jax.tree_util.tree_leaves(target.dtype)[0]  # the gym's targets compute in float32

    def constrained(u):
        u = u.astype(dtype)
        return [b.forward(u[i]) for i, b in enumerate(bijectors)]

    def potential(u):
        u = u.astype(dtype)
        jacobian = sum(b.forward_log_det_jacobian(u[i], event_ndims=0) for i, b in enumerate(bijectors))
        density = target.unnormalized_log_prob(jax.tree_util.tree_unflatten(structure, constrained(u)))
        return -(density + jacobian).astype(jnp.float64)

    truth_mean = target.sample_transformations["identity"].ground_truth_mean
    start = np.concatenate([np.atleast_1d(np.asarray(v, np.float64)) for v in jax.tree_util.tree_leaves(truth_mean)])
    if start.size != len(bijectors):
        raise SystemExit(f"long_run: {start.size} truth scalars but {len(bijectors)} event parts; this target is not "
                         "one scalar per part, so long_run.py cannot order its draws")
    u0 = np.array([float(b.inverse(jnp.asarray(v, dtype))) for b, v in zip(bijectors, start)])
    jitter = np.random.default_rng(seed).uniform(-0.1, 0.1, size=(chains, u0.size))
    mcmc = MCMC(NUTS(potential_fn=potential, target_accept_prob=TARGET_ACCEPT), num_warmup=warmup, num_samples=draws,
                num_chains=chains, chain_method="vectorized", progress_bar=False)
    mcmc.run(jax.random.PRNGKey(seed), init_params=jnp.asarray(u0 + jitter), extra_fields=("diverging",))
    divergences = int(np.asarray(mcmc.get_extra_fields()["diverging"]).sum())
    print(f"long_run: {divergences} divergent transitions")
    unconstrained = mcmc.get_samples(group_by_chain=True)
    return np.asarray(jax.vmap(jax.vmap(lambda v: jnp.stack(constrained(v))))(unconstrained), dtype=np.float64)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("--chains", type=int, default=8)
    parser.add_argument("--draws", type=int, default=10000)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    sys.path[:0] = [str(HERE.parents[1]), str(HERE)]
    from export import targets, truth_params
    from inference_gym import using_jax as gym

    from harness.worker.diagnostics import summarize
    from harness.worker.reference import MIN_ESS, RHAT_MAX, with_chain_spread

    known = targets()
    if args.name not in known:
        parser.error(f"unknown target {args.name!r}; known: {', '.join(known)}")
    gym_class, kwargs, variable, model_data = known[args.name]
    target = getattr(gym.targets, gym_class)(**kwargs)
    gym_truth = truth_params(target, variable, model_data)
    started = time.monotonic()
    draws = long_run(target, args.chains, args.draws, args.warmup, args.seed)
    seconds = time.monotonic() - started
    params, against = {}, {}
    for i, name in enumerate(gym_truth):
        s = with_chain_spread(summarize(draws[:, :, i]), draws[:, :, i])
        params[name] = {k: s[k] for k in ("mean", "sd", "mcse_mean", "mcse_sd")}
        g = gym_truth[name]
        against[name] = {"gym_mean": g["mean"], "gym_sd": g["sd"],
                         "z_mean": (g["mean"] - s["mean"]) / float(np.hypot(s["mcse_mean"], g["mcse_mean"])),
                         "z_sd": (g["sd"] - s["sd"]) / float(np.hypot(s["mcse_sd"], g["mcse_sd"])),
                         "r_hat": s["r_hat"], "ess_bulk": s["ess_bulk"], "tail_khat": s["tail_khat"]}
    worst = max(against, key=lambda n: abs(against[n]["z_mean"]))
    provenance = {
        "made": datetime.date.today().isoformat(),
        "command": "python evaluation/inference_gym/long_run.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "source": "inference-gym " + importlib.metadata.version("inference-gym"),
        "target": f"inference_gym.targets.{gym_class}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})",
        "sample_transformation": "identity",
        "truth": (f"numpyro NUTS on the gym's own density and bijector, {args.chains} chains x {args.draws} draws "
                  f"after {args.warmup}, target acceptance {TARGET_ACCEPT}, seed {args.seed} ({seconds:.0f} s); "
                  "errors the larger of the ESS-based ones and the chains' spread"),
        "max_r_hat": max(a["r_hat"] for a in against.values()),
        "min_ess_bulk": min(a["ess_bulk"] for a in against.values()),
        "gym_truth": against,
        "packages": {p: importlib.metadata.version(p) for p in ("inference-gym", "tfp-nightly", "jax", "numpyro", "numpy")},
    }
    if provenance["max_r_hat"] > RHAT_MAX or provenance["min_ess_bulk"] < MIN_ESS:
        raise SystemExit(f"long_run: not converged enough for a truth (max R-hat {provenance['max_r_hat']:.4f} > "
                         f"{RHAT_MAX} or min bulk ESS {provenance['min_ess_bulk']:.0f} < {MIN_ESS}); rerun with more --draws")
    reference = {"model": args.name, "entries": [{"size": {}, "provenance": provenance, "params": params}]}
    path = HERE / "references" / f"{args.name}.json"
    path.write_text(json.dumps(reference, indent=1) + "\n")
    print(f"wrote {path} in {seconds:.0f} s; max R-hat {provenance['max_r_hat']:.4f}, min bulk ESS "
          f"{provenance['min_ess_bulk']:.0f}; the gym's truth is furthest on {worst}'s mean "
          f"(z = {against[worst]['z_mean']:.1f})")


if __name__ == "__main__":
    main()
