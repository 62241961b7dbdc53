"""One cell, in its own process: build a model, sample it with one backend, summarise the draws.

    python -m harness.cell SPEC.json OUT.json

SPEC holds model, size, api, backend, chains, tune, draws, seed and model_dirs. OUT receives
{"status": "sampled" | "unavailable" | "device-missing" | "error", "reason", "params", "timings", "divergences"}.
A crash or hang of this process leaves OUT unwritten; the parent (harness.isolation) records that.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import traceback
from typing import Any, Dict


def _prepare_environment(spec: Dict[str, Any]) -> None:
    """Must run before jax is imported: one XLA host device per chain, so numpyro can run them in parallel."""
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_force_host_platform_device_count" not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={spec['chains']}".strip()


def run(spec: Dict[str, Any]) -> Dict[str, Any]:
    from harness.backends import BACKENDS, SampleConfig
    from harness.devices import jax_fallback_reason
    from harness.diagnostics import scalars, summarize
    from models import load_models

    model_spec = load_models(spec.get("model_dirs", []))[spec["model"]]
    data = model_spec.data(**model_spec.knobs(spec["size"]))
    backend = BACKENDS[spec["backend"]]
    missing = [m for m in backend.modules if importlib.util.find_spec(m) is None]
    if missing:
        return {"status": "unavailable", "reason": f"not installed in this row: {', '.join(missing)}"}
    if "jax" in backend.modules:
        fallback = jax_fallback_reason(spec.get("device", "cpu"))
        if fallback:
            return {"status": "device-missing", "reason": fallback}
    pm = importlib.import_module(spec["api"])
    model = model_spec.build(pm, spec["api"], data)
    config = SampleConfig(
        chains=spec["chains"], tune=spec["tune"], draws=spec["draws"], seed=spec["seed"],
        target_accept=model_spec.target_accept,
    )
    draws = backend.sample(model, config, list(model_spec.params))
    params = {}
    for var in model_spec.params:
        for name, values in scalars(var, draws.posterior[var]):
            params[name] = summarize(values)
    return {
        "status": "sampled",
        "params": params,
        "timings": draws.timings,
        "divergences": draws.divergences,
        "draws_shape": {k: list(v.shape) for k, v in draws.posterior.items()},
    }


def main(argv) -> int:
    spec_path, out_path = argv[1], argv[2]
    with open(spec_path) as fh:
        spec = json.load(fh)
    _prepare_environment(spec)
    try:
        result = run(spec)
    except Exception as exc:  # any failure of the sampler stack is this cell's `error`, with its cause
        result = {
            "status": "error",
            "reason": f"{type(exc).__name__}: {exc}".splitlines()[0][:500],
            "traceback": traceback.format_exc()[-4000:],
        }
    tmp = out_path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(result, fh, allow_nan=True)
    os.replace(tmp, out_path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
