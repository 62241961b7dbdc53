"""Make a model's reference posterior: a long nutpie run, checked for convergence, stored with provenance.

    nox -s reference -- MODEL [MODEL ...] [--chains 8] [--draws 10000] [--tune 2000]

Writes references/<model>.json beside the model file, one entry per distinct size (the knobs of each
tier). Each entry records how it was made (packages, chains, draws, seed, date, command) and refuses to
be written unless every scalar has R-hat <= 1.005 and bulk ESS >= 10 x the quick tier's floor, so its
own Monte Carlo error is small next to a quick run's and enters the verdict's z-scores anyway.
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


class NotConverged(RuntimeError):
    """The long run did not converge well enough to serve as a truth."""


def make_entry(model_spec: Any, knobs: Dict[str, Any], args: argparse.Namespace) -> Dict[str, Any]:
    import nutpie
    import pymc as pm

    from harness.worker.diagnostics import scalars, summarize
    from harness.worker.samplers import _posterior
    from models.spec import ModelSpec

    model = model_spec.reference_model(pm, model_spec.data(**knobs))
    compiled = nutpie.compile_pymc_model(model, backend="numba")
    idata = nutpie.sample(compiled, draws=args.draws, tune=args.tune, chains=args.chains, seed=args.seed, progress_bar=False)
    params = {}
    for var, draws in _posterior(idata, model_spec.params).items():
        for name, values in scalars(var, draws):
            params[name] = {k: v for k, v in summarize(values).items()}
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
    parser.add_argument("--draws", type=int, default=10000)
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
