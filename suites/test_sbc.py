"""Simulation-based calibration, opt-in (`-- --sbc`): ranks of prior draws among refitted posteriors.

For models that declare how to simulate their data (`observed`) and pymc 5/6 rows. Runs in a fresh worker
per cell, after the cell's other tests; the verdict goes into the cell's `sbc` entry.
"""

import pytest

from harness.worker import sbc
from harness.worker.evaluation import blocked_reason, start_worker, worker_spec

SECONDS_PER_SIMULATION = 120  # a generous per-refit budget for the worker's time limit


def test_sbc(cell, plan, seed, results_file, pytestconfig):
    model, backend = cell
    if not model.observed or plan.row.api != "pymc":
        pytest.skip(f"{model.name} declares no `observed` mapping (or the row is not pymc 5/6): no simulations")
    blocked = blocked_reason(plan, model, backend)
    if blocked:
        pytest.skip(f"{blocked['status']}: {blocked['reason']}")
    sims = pytestconfig.getoption("--sbc-sims")
    with start_worker(plan, worker_spec(plan, model.name, backend, seed, **sbc.FIT)) as worker, \
            pytestconfig.matrix_cores.borrowed(worker):  # its own cores, beside the cells evaluated ahead
        reply = worker.call({"op": "sbc", "sims": sims}, timeout_s=sims * SECONDS_PER_SIMULATION)
    record = next((c for c in results_file.payload["cells"] if (c["model"], c["backend"]) == (model.name, backend)), None)
    if reply["status"] != "ok":
        verdict = {"passed": False, "reason": f"{reply['status']}: {reply.get('reason')}", "output": reply.get("output")}
    else:
        verdict = dict(sbc.uniformity(reply["ranks"], reply["draws_per_rank"]), sims=reply["sims"], fit=reply["fit"],
                       ranks=reply["ranks"])
    if record is not None:
        record["sbc"] = verdict
        results_file.save()
    if not verdict["passed"]:
        pytest.fail(f"SBC: {verdict['reason']}", pytrace=False)
