"""The evaluation of a cell: from a (model, backend) pair of a row to one recorded cell with its status.

The statuses are defined in harness.common.statuses.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

from harness.common.backends import BACKENDS
from harness.common.environment import cell_env
from harness.common.matrix import KnownFailure
from harness.common.plan import Plan
from harness.common.statuses import BROKEN, DEVICE_MISSING, FAILED, KNOWN_FAILURE, NOT_APPLICABLE, PASSED, UNAVAILABLE
from harness.worker.handle import WorkerHandle
from harness.worker.verdict import judge


def blocked_reason(plan: Plan, model_spec: Any, backend: str) -> Optional[Dict[str, str]]:
    """Why this cell cannot run at all, as {status, reason}, or None."""
    if plan.device_missing:
        return {"status": DEVICE_MISSING, "reason": plan.device_missing}
    reason = plan.unavailable.get(backend) or plan.unavailable.get("*")
    if reason:
        return {"status": UNAVAILABLE, "reason": reason}
    if not BACKENDS[backend].applies_to(model_spec):
        return {"status": NOT_APPLICABLE, "reason": f"{backend} samples continuous variables only; {model_spec.name} has discrete free variables"}
    return None


def worker_spec(plan: Plan, model: str, backend: str, seed: int, **overrides: Any) -> Dict[str, Any]:
    """What a cell's worker process needs to build its model and sampler (harness.worker.child)."""
    tier = plan.tier
    spec = dict(model=model, size=tier.size, api=plan.row.api, backend=backend, device=plan.row.device,
                precision=plan.row.precision, model_dirs=plan.model_dirs, seed=seed,
                chains=tier.chains, tune=tier.tune, draws=tier.draws)
    spec.update(overrides)
    return spec


def start_worker(plan: Plan, spec: Dict[str, Any]) -> WorkerHandle:
    return WorkerHandle(spec, env=cell_env(plan.row), memory_limit_mb=plan.tier.memory_limit_mb)


def evaluate(plan: Plan, model_spec: Any, backend: str, seed: int,
             keep_worker: bool = False) -> Tuple[Dict[str, Any], Optional[WorkerHandle]]:
    """Sample one cell in its own worker process; return its record and, if asked and it sampled, the
    still-running worker (for the speed suite; the caller closes it)."""
    tier = plan.tier
    cell: Dict[str, Any] = {"model": model_spec.name, "backend": backend}
    blocked = blocked_reason(plan, model_spec, backend)
    if blocked:
        cell.update(blocked)
        return cell, None
    spec = worker_spec(plan, model_spec.name, backend, seed, draws=tier.draws * model_spec.draws_scale)
    cell["sampling"] = {k: spec[k] for k in ("chains", "tune", "draws", "seed")}
    worker = start_worker(plan, spec)
    result = worker.call({"op": "sample"}, timeout_s=tier.timeout_s)
    status = result.pop("status")
    cell["timings"] = dict(result.pop("timings", {}), cell_wall_s=worker.age_s)
    cell["divergences"] = result.pop("divergences", None)
    cell["grad_evals"] = result.pop("grad_evals", None)
    if status == "sampled":
        params = result.pop("params")
        passed, problems = judge(params, model_spec.truth(tier.size), tier.chains)
        cell["params"] = params
        cell["ess_per_s"] = ess_per_second(params, cell["timings"])
        memory = worker.call({"op": "memory"}, 60)
        cell["peak_rss_mb"] = memory.get("peak_rss_mb")
        if memory.get("peak_device_mb") is not None:
            cell["peak_device_mb"] = memory["peak_device_mb"]
        status, reason = (PASSED, None) if passed else (FAILED, "; ".join(problems))
    else:
        reason = result.pop("reason", status)
    cell.update(status=status, reason=reason)
    for key in ("output", "traceback"):  # the log tail and, for an `error`, where it was raised
        if key in result:
            cell[key] = result[key]
    cell = apply_known_failure(cell, plan.known_failure(model_spec.name, backend))
    if keep_worker and "params" in cell:
        return cell, worker
    worker.close()
    return cell, None


def ess_per_second(params: Dict[str, Dict[str, float]], timings: Dict[str, Any]) -> Optional[float]:
    """The slowest-mixing parameter's bulk ESS per second of sampling (tuning included)."""
    sample_s = timings.get("sample_s")
    if not params or not sample_s:
        return None
    return min(p["ess_bulk"] for p in params.values()) / sample_s


def apply_known_failure(cell: Dict[str, Any], entry: Optional[KnownFailure]) -> Dict[str, Any]:
    """A listed cell that broke is `known-failure`; one that passed keeps `passed` and says the entry can go."""
    if entry is None:
        return cell
    cell["known_failure"] = {"reason": entry.reason, "link": entry.link}
    if cell["status"] in BROKEN:
        cell["reason"] = f"{entry.reason} ({entry.link}); this run: {cell['status']}: {cell['reason']}"
        cell["status"] = KNOWN_FAILURE
    elif cell["status"] == PASSED:
        cell["reason"] = "listed as a known failure but passed: remove its entry from matrix.toml"
    return cell
