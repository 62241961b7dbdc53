"""From a (model, backend) pair of a row to one recorded cell with its status.

Statuses (the `status` of every cell in a results file):

    passed          sampled, and the posterior matches the truth (harness.verdict)
    failed          sampled, but the verdict found the posterior or its convergence wrong
    error           the sampler stack raised an exception
    crashed         the cell's process died without a result (segfault, OOM kill, abort)
    timeout         the cell ran past the tier's timeout and was killed
    known-failure   did not pass, and matrix.toml lists it as a known failure (reason and link)
    not-applicable  the backend cannot sample this model (discrete variables, gradient-only sampler)
    unavailable     the backend's packages could not be installed or imported in this row
    device-missing  a GPU row found no GPU of its kind
"""

from __future__ import annotations

import fnmatch
from typing import Any, Dict, List, Optional, Tuple

from harness.backends import BACKENDS
from harness.isolation import Worker, cell_env
from harness.verdict import judge

PASSED, FAILED, ERROR, CRASHED, TIMEOUT = "passed", "failed", "error", "crashed", "timeout"
KNOWN_FAILURE, NOT_APPLICABLE, UNAVAILABLE, DEVICE_MISSING = "known-failure", "not-applicable", "unavailable", "device-missing"
STATUSES = (PASSED, FAILED, ERROR, CRASHED, TIMEOUT, KNOWN_FAILURE, NOT_APPLICABLE, UNAVAILABLE, DEVICE_MISSING)
BROKEN = (FAILED, ERROR, CRASHED, TIMEOUT)  # statuses that fail the session
SKIPPED = (NOT_APPLICABLE, UNAVAILABLE, DEVICE_MISSING)  # the cell never ran


def known_failure(plan: Dict[str, Any], model: str, backend: str) -> Optional[Dict[str, str]]:
    row = plan["row"]["id"]
    for entry in plan.get("known_failures", []):
        if all(fnmatch.fnmatchcase(v, entry[k]) for k, v in (("row", row), ("backend", backend), ("model", model))):
            return entry
    return None


def blocked_reason(plan: Dict[str, Any], model_spec: Any, backend: str) -> Optional[Dict[str, str]]:
    """Why this cell cannot run at all, as {status, reason}, or None."""
    if plan.get("device_missing"):
        return {"status": DEVICE_MISSING, "reason": plan["device_missing"]}
    unavailable = plan.get("unavailable", {})
    reason = unavailable.get(backend) or unavailable.get("*")
    if reason:
        return {"status": UNAVAILABLE, "reason": reason}
    if model_spec.discrete and not BACKENDS[backend].discrete:
        return {"status": NOT_APPLICABLE, "reason": f"{backend} samples continuous variables only; {model_spec.name} has discrete free variables"}
    return None


def evaluate(plan: Dict[str, Any], model_spec: Any, backend: str, seed: int,
             keep_worker: bool = False) -> Tuple[Dict[str, Any], Optional[Worker]]:
    """Sample one cell in its own worker process; return its record and, if asked and it sampled, the
    still-running worker (for the speed suite; the caller closes it)."""
    tier = plan["tier"]
    cell: Dict[str, Any] = {"model": model_spec.name, "backend": backend}
    blocked = blocked_reason(plan, model_spec, backend)
    if blocked:
        cell.update(blocked)
        return cell, None
    sampling = {"chains": tier["chains"], "tune": tier["tune"], "draws": tier["draws"] * model_spec.draws_scale, "seed": seed}
    cell["sampling"] = sampling
    spec = dict(
        sampling, model=model_spec.name, size=tier["size"], api=plan["row"]["api"], backend=backend,
        device=plan["row"].get("device", "cpu"), precision=plan["row"].get("precision", "float64"),
        model_dirs=plan.get("model_dirs", []),
    )
    worker = Worker(spec, env=cell_env(plan["row"]), memory_limit_mb=tier.get("memory_limit_mb"))
    result = worker.call({"op": "sample"}, timeout_s=tier["timeout_s"])
    status = result.pop("status")
    cell["timings"] = dict(result.pop("timings", {}), cell_wall_s=worker.age_s)
    cell["divergences"] = result.pop("divergences", None)
    cell["grad_evals"] = result.pop("grad_evals", None)
    if status == "sampled":
        params = result.pop("params")
        passed, problems = judge(params, model_spec.truth(tier["size"]), tier["chains"])
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
    cell = apply_known_failure(cell, known_failure(plan, model_spec.name, backend))
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


def apply_known_failure(cell: Dict[str, Any], entry: Optional[Dict[str, str]]) -> Dict[str, Any]:
    """A listed cell that broke is `known-failure`; one that passed keeps `passed` and says the entry can go."""
    if entry is None:
        return cell
    cell["known_failure"] = {"reason": entry["reason"], "link": entry["link"]}
    if cell["status"] in BROKEN:
        cell["reason"] = f"{entry['reason']} ({entry['link']}); this run: {cell['status']}: {cell['reason']}"
        cell["status"] = KNOWN_FAILURE
    elif cell["status"] == PASSED:
        cell["reason"] = "listed as a known failure but passed: remove its entry from matrix.toml"
    return cell
