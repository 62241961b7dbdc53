"""Make a model's reference posterior: a long nutpie run, checked for convergence, stored with provenance.

    nox -s reference -- MODEL [MODEL ...] [--chains 8] [--draws 50000] [--tune 2000]

Writes references/<model>.json beside the model file, one entry per distinct size (the knobs of each
tier). Each entry records how it was made (packages, chains, draws, seed, target acceptance, date,
command) and refuses to be written unless every scalar has R-hat <= 1.005 and bulk ESS >= 10 x the quick
tier's floor, so its own Monte Carlo error is small next to a quick run's and enters the verdict's
z-scores anyway.

Every cell of every run is judged against the same reference, so an error in it is not averaged away:
a scalar whose reference is off by three of a quick run's standard errors fails in most runs of most
backends. Three things keep that error small and stated honestly:
- **Length.** 8 chains x 50,000 draws by default: a reference's error is then about a tenth of a quick
  run's (4 x 500-2000 draws).
- **A Monte Carlo error that sees slow mixing.** The ESS-based error (Geyer's initial sequence) misses
  dependence longer than the autocorrelations it sums: radon's slopes in small counties, whose sd moves
  with rare visits to the neck of sigma_b's funnel, varied about twice as much between four 8 x 10,000
  runs as that error said (docs/verdicts.md, "The references' own error"). Each error is therefore the larger of
  the ESS-based one and the spread of the chains' own estimates (sd of the 8 chain means, or chain sds,
  over sqrt(8)): the chains are independent, so that spread sees dependence of any length up to a chain.
- **Target acceptance** of at least REFERENCE_TARGET_ACCEPT (or the model's own, if higher): a smaller
  step than a cell's, so a funnel's neck is sampled without the bias its divergences bring.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from importlib import metadata
from typing import Any, Dict

RHAT_MAX = 1.005
MIN_ESS = 4000
REFERENCE_TARGET_ACCEPT = 0.95


class NotConverged(RuntimeError):
    """The long run did not converge well enough to serve as a truth."""


def with_chain_spread(summary: Dict[str, float], values: Any) -> Dict[str, float]:
    """`summary` with each Monte Carlo error raised to the spread of the chains' own estimates, where that
    is larger: independent chains disagree by as much as dependence of any length makes them."""
    import numpy as np

    chains = np.asarray(values, dtype=float)
    root = np.sqrt(chains.shape[0])
    spread = {"mcse_mean": float(chains.mean(axis=1).std(ddof=1) / root),
              "mcse_sd": float(chains.std(axis=1, ddof=1).std(ddof=1) / root)}
    return {**summary, **{k: max(summary[k], v) for k, v in spread.items()}}


def make_entry(model_spec: Any, knobs: Dict[str, Any], args: argparse.Namespace) -> Dict[str, Any]:
    import nutpie
    import pymc as pm

    from harness.worker.diagnostics import scalars, summarize
    from harness.worker.samplers import _posterior
    from models.spec import ModelSpec

    model = model_spec.reference_model(pm, model_spec.data(**knobs))
    compiled = nutpie.compile_pymc_model(model, backend="numba")
    target_accept = max(REFERENCE_TARGET_ACCEPT, model_spec.target_accept)
    idata = nutpie.sample(compiled, draws=args.draws, tune=args.tune, chains=args.chains, seed=args.seed,
                          target_accept=target_accept, progress_bar=False)
    params = {}
    for var, draws in _posterior(idata, model_spec.params).items():
        for name, values in scalars(var, draws):
            params[name] = with_chain_spread(summarize(values), values)
    worst_rhat = max(p["r_hat"] for p in params.values())
    least_ess = min(p["ess_bulk"] for p in params.values())
    if worst_rhat > RHAT_MAX or least_ess < MIN_ESS:
        raise NotConverged(
            f"reference for {model_spec.name} {knobs}: not converged enough (max R-hat {worst_rhat:.4f} > {RHAT_MAX} "
            f"or min bulk ESS {least_ess:.0f} < {MIN_ESS}); rerun with more --draws"
        )
    return {
        "size": knobs,
        "provenance": {
            "made": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
            "command": "nox -s reference -- " + " ".join(sys.argv[1:]),
            "sampler": "nutpie (numba backend), diag mass matrix adaptation",
            "model": "reference_model()" if type(model_spec).reference_model is not ModelSpec.reference_model else "build()",
            "chains": args.chains, "tune": args.tune, "draws": args.draws, "seed": args.seed,
            "target_accept": target_accept,
            "mcse": "the larger of the ESS-based error and the spread of the chains' own estimates",
            "packages": {p: metadata.version(p) for p in ("pymc", "pytensor", "nutpie", "numpy")},
            "max_r_hat": worst_rhat, "min_ess_bulk": least_ess,
        },
        "params": {name: {k: p[k] for k in ("mean", "sd", "mcse_mean", "mcse_sd")} for name, p in params.items()},
    }


def main(argv=None) -> int:
    from models import load_models

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+")
    parser.add_argument("--models-dir", action="append", default=[], help="also look for models in this folder")
    parser.add_argument("--chains", type=int, default=8)
    parser.add_argument("--tune", type=int, default=2000)
    parser.add_argument("--draws", type=int, default=50000)
    parser.add_argument("--seed", type=int, default=20261122)
    args = parser.parse_args(argv)
    registry = load_models(args.models_dir)
    failures = 0
    for name in args.models:
        if name not in registry:
            parser.error(f"unknown model {name!r}; known: {', '.join(registry)}")
        spec = registry[name]
        if spec.analytic_truth(spec.data(**spec.knobs(next(iter(spec.sizes))))) is not None:
            print(f"{name}: has an analytic truth; no reference needed")
            continue
        distinct = []
        for size in spec.sizes:
            if spec.knobs(size) not in distinct:
                distinct.append(spec.knobs(size))
        path = spec.reference_path
        stored = json.loads(path.read_text()) if path.exists() else {"model": name, "entries": []}
        for knobs in distinct:
            try:
                entry = make_entry(spec, knobs, args)
            except NotConverged as exc:
                print(exc)
                failures += 1
                continue
            stored["entries"] = [e for e in stored["entries"] if e["size"] != knobs] + [entry]
            print(f"{name} {knobs}: max R-hat {entry['provenance']['max_r_hat']:.4f}, min ESS {entry['provenance']['min_ess_bulk']:.0f}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(stored, indent=1) + "\n")
        print(f"wrote {path}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
