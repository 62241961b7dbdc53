"""The evaluation of a cell: from a (model, backend) pair of a row to one recorded cell with its status.

The statuses are defined in harness.common.statuses.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable, Dict, List, Optional, Tuple

from harness.common.backends import BACKENDS
from harness.common.environment import cell_env
from harness.common.matrix import KnownFailure
from harness.common.plan import Plan
from harness.common.statuses import (
    BROKEN,
    DEVICE_MISSING,
    DID_NOT_MIX,
    FAILED,
    KNOWN_FAILURE,
    MOVED,
    NOT_APPLICABLE,
    PASSED,
    UNAVAILABLE,
)
from harness.worker.handle import WorkerHandle
from harness.worker.verdict import (
    ALPHA_CONFIRM,
    ALPHA_SCREEN,
    ESS_PER_CHAIN,
    mixing_problems,
    no_truth,
    non_finite,
    posterior_problems,
)


def blocked_reason(plan: Plan, model_spec: Any, backend: str) -> Optional[Dict[str, str]]:
    """Why this cell cannot run at all, as {status, reason}, or None."""
    if plan.device_missing:
        return {"status": DEVICE_MISSING, "reason": plan.device_missing}
    reason = plan.unavailable.get(backend) or plan.unavailable.get("*")
    if reason:
        return {"status": UNAVAILABLE, "reason": reason}
    move = plan.tier.move_of(model_spec.name, backend)
    if move:
        return {"status": MOVED, "reason": f"moved to the {move['to']} tier: {move['reason']}"}
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


def start_worker(plan: Plan, spec: Dict[str, Any], cpus: Optional[Tuple[int, ...]] = None) -> WorkerHandle:
    """The cell's worker process, on `cpus` where the cell has a core set of its own (its sampler is told
    how many cores it has: `cores` in the spec)."""
    if cpus is not None:
        spec = dict(spec, cores=len(cpus))
    return WorkerHandle(spec, env=cell_env(plan.row, plan.cold_cache), memory_limit_mb=plan.tier.memory_limit_mb, cpus=cpus)


CONFIRM_SEED_OFFSET = 1_000_003  # the confirmation's seed: a stream no screening run uses
# The confirmation draws this many times the screen's draws (up to the tier's cap): a correct sampler's z
# stays N(0, 1) at any length, so the false-alarm rate is unchanged, while a wrong posterior's |z| grows
# with the square root of the draws (twice as large here). It runs for the few cells whose screen failed.
CONFIRM_DRAWS_FACTOR = 4


def evaluate(plan: Plan, model_spec: Any, backend: str, seed: int, keep_worker: bool = False,
             cpus: Optional[Tuple[int, ...]] = None) -> Tuple[Dict[str, Any], Optional[WorkerHandle]]:
    """Sample one cell in its own worker process (on `cpus`, if given) and judge it (harness.worker.verdict):
    sample until the chains mix or the tier's cap is reached, screen the posterior, and confirm a failed
    screen on a fresh seed. Returns the cell's record and, if asked and it sampled, the still-running worker
    (for the speed suite; the caller closes it). Every sampling call is kept under `runs`."""
    tier = plan.tier
    cell: Dict[str, Any] = {"model": model_spec.name, "backend": backend}
    blocked = blocked_reason(plan, model_spec, backend)
    if blocked:
        cell.update(blocked)
        return cell, None
    worker = start_worker(plan, worker_spec(plan, model_spec.name, backend, seed), cpus)
    truth = functools.lru_cache(maxsize=None)(lambda: model_spec.truth(tier.size))  # only once a run sampled:
    cell["runs"] = []                                                              # data() may be what crashes
    reply = sample_until_mixed(worker, plan, seed, cell["runs"])
    status, reason = judge_runs(reply, truth, plan, cell["runs"])
    if status == "confirm":
        screened = cell["runs"][-1]["z_problems"]  # the screen's failed z-tests, named in a `failed` reason
        reply = sample_until_mixed(worker, plan, seed + CONFIRM_SEED_OFFSET, cell["runs"],
                                   draws=min(reply["draws"] * CONFIRM_DRAWS_FACTOR, tier.draws_cap))
        status, reason = judge_runs(reply, truth, plan, cell["runs"], screened=screened)
    record_final_run(cell, reply, worker, tier)
    cell.update(status=status, reason=reason)
    if "params" in cell:
        memory = worker.call({"op": "memory"}, 60)
        cell["peak_rss_mb"] = memory.get("peak_rss_mb")
        if memory.get("peak_device_mb") is not None:
            cell["peak_device_mb"] = memory["peak_device_mb"]
    cell = apply_known_failure(cell, plan.known_failure(model_spec.name, backend))
    if keep_worker and "params" in cell:
        # the speed test's gradient timing runs alone on some tiers: its compile is paid here, beside other
        # cells; a failure comes back from grad_eval, which prepares again
        worker.call({"op": "grad_prepare"}, tier.timeout_s)
        return cell, worker
    worker.close()
    return cell, None


def sample_until_mixed(worker: WorkerHandle, plan: Plan, seed: int, runs: List[Dict[str, Any]],
                       draws: Optional[int] = None) -> Dict[str, Any]:
    """Sample, and while R-hat or bulk ESS misses the gate, sample longer (up to the tier's cap).
    Returns the last reply with "draws", "seed" and, when it sampled, "mixing" (problems left) added."""
    tier = plan.tier
    draws = draws or tier.draws
    while True:
        reply = worker.call({"op": "sample", "draws": draws, "seed": seed}, timeout_s=tier.timeout_s)
        reply.update(draws=draws, seed=seed)
        run = {"seed": seed, "draws": draws, "status": reply["status"], "timings": reply.get("timings")}
        runs.append(run)
        if reply["status"] != "sampled":
            return reply
        params = reply["params"]
        reply["mixing"] = [] if non_finite(params) else mixing_problems(params, tier.chains)
        run.update(worst_r_hat=max(p["r_hat"] for p in params.values()),
                   min_ess_bulk=min(p["ess_bulk"] for p in params.values()), problems=list(reply["mixing"]))
        if not reply["mixing"] or draws >= tier.draws_cap:
            return reply
        draws = longer_run(draws, params, tier)


def longer_run(draws: int, params: Dict[str, Dict[str, Any]], tier: Any) -> int:
    """The next run length: enough for the ESS floor at the ESS per draw just seen (with a margin), at
    least twice as long (R-hat needs length, not only ESS), at most the tier's cap."""
    floor = ESS_PER_CHAIN * tier.chains
    min_ess = min(p["ess_bulk"] for p in params.values())
    wanted = math.ceil(draws * 1.3 * floor / min_ess) if min_ess > 0 else tier.draws_cap
    return min(max(wanted, 2 * draws), tier.draws_cap)


def judge_runs(reply: Dict[str, Any], model_truth: Callable[[], Any], plan: Plan, runs: List[Dict[str, Any]],
               screened: Optional[List[str]] = None) -> Tuple[str, Optional[str]]:
    """(status, reason) of the last run; status "confirm" asks for the confirmation on a fresh seed.
    `screened`: the screen's problems, when this is the confirmation."""
    if reply["status"] != "sampled":
        return reply["status"], reply.get("reason", reply["status"])
    params, draws, truth = reply["params"], reply["draws"], model_truth()
    broken = non_finite(params) or no_truth(params, truth)
    if broken:
        return FAILED, broken
    if reply["mixing"]:
        return DID_NOT_MIX, f"did not mix within {draws} draws per chain (the tier's cap): " + "; ".join(reply["mixing"])
    alpha = ALPHA_CONFIRM if screened is not None else ALPHA_SCREEN
    problems = posterior_problems(params, truth, alpha)
    z_scores = [abs(p[key]) for p in params.values() for key in ("z_mean", "z_sd") if key in p]
    runs[-1].update(z_problems=problems, z_tests=len(z_scores), max_abs_z=max(z_scores, default=None))
    if not problems:
        return PASSED, None
    if screened is None:
        return "confirm", None
    return FAILED, (f"off the truth on two independent seeds: screen (seed {runs[0]['seed']}): {'; '.join(screened)}; "
                    f"confirmation (seed {reply['seed']}): {'; '.join(problems)}")


def record_final_run(cell: Dict[str, Any], reply: Dict[str, Any], worker: WorkerHandle, tier: Any) -> None:
    """The judged run's figures become the cell's; the first call's compile time stays its compile time."""
    first = cell["runs"][0].get("timings") or {}
    cell["sampling"] = {"chains": tier.chains, "tune": tier.tune, "draws": reply["draws"], "seed": reply["seed"],
                        "cores": worker.cores}
    cell["timings"] = dict(reply.get("timings") or {}, cell_wall_s=worker.age_s, cell_started=worker.started_at)
    if "compile_s" in first:
        cell["timings"]["compile_s"] = first["compile_s"]
    cell["divergences"] = reply.get("divergences")
    cell["grad_evals"] = reply.get("grad_evals")
    cell["tree_depth"] = reply.get("tree_depth")
    if reply["status"] == "sampled":
        cell["params"] = reply["params"]
        cell["ess_per_s"] = ess_per_second(reply["params"], cell["timings"])
    for key in ("output", "traceback"):  # the log tail and, for an `error`, where it was raised
        if key in reply:
            cell[key] = reply[key]


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
