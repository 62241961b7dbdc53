"""Are a backend's z-scores standard normal on the model with a closed-form truth? Samples `conjugate` at its
full size with the harness's own sampler call, summary and z-tests, once per seed, and prints var(z) and the
share of |z| > 3 (the normal's: 0.27%) for the means and the sds. A variance well above 1 says the Monte
Carlo standard errors are too small for that sampler's draws (e.g. anti-correlated NUTS draws whose ESS is
overestimated). Fixed seeds 1..N; run in a row's environment from the project's root:

    .nox/cpu-pymc-6/bin/python docs/campaigns/z_calibration.py tfp 150 [--draws 2500] [--out z.json]

tfp: about 5 s a seed on one core; nutpie-numba: about 4 s.
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pymc as pm

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from harness.worker.diagnostics import scalars, summarize  # noqa: E402
from harness.worker.samplers import SampleConfig, _nutpie, _tfp_nuts  # noqa: E402
from harness.worker.verdict import ALPHA_SCREEN, posterior_problems  # noqa: E402
from models.conjugate import MODEL  # noqa: E402

SAMPLERS = {"tfp": lambda: _tfp_nuts, "nutpie-numba": lambda: _nutpie("numba")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("backend", choices=sorted(SAMPLERS))
    parser.add_argument("seeds", type=int)
    parser.add_argument("--draws", type=int, default=2500, help="per chain (the full tier's screen: 2500)")
    parser.add_argument("--out", type=Path, help="write every seed's z-scores here")
    args = parser.parse_args()
    data = MODEL.data(**MODEL.sizes["full"])
    truth, model, sample = MODEL.analytic_truth(data), MODEL.build(pm, None, data), SAMPLERS[args.backend]()
    z_mean, z_sd = [], []
    for seed in range(1, args.seeds + 1):
        draws = sample(model, SampleConfig(chains=4, tune=1500, draws=args.draws, seed=seed), MODEL.params)
        params = {key: summarize(x) for name, arr in draws.posterior.items() for key, x in scalars(name, arr)}
        posterior_problems(params, truth, ALPHA_SCREEN)
        z_mean.append([p["z_mean"] for p in params.values()])
        z_sd.append([p["z_sd"] for p in params.values()])
        print(f"seed {seed}/{args.seeds}", flush=True)
    for what, z in (("mean", np.array(z_mean)), ("sd", np.array(z_sd))):
        print(f"{args.backend} {what}: var(z) {z.var():.3f}, mean {z.mean():+.3f}, |z| > 3 in "
              f"{(np.abs(z) > 3).mean():.2%} of {z.size} tests")
    if args.out:
        args.out.write_text(json.dumps({"backend": args.backend, "z_mean": z_mean, "z_sd": z_sd}))


if __name__ == "__main__":
    main()
