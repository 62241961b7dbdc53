"""Speed: compile time, warm sampling time, ESS/s, the gradient cost floor and memory, per cell.

Runs right after the cell's correctness test, on its worker (see conftest); cells that did not sample
are skipped. pytest-benchmark times the warm rounds and saves its JSON beside the results file.
"""

import pytest

from harness.common.backends import BACKENDS
from harness.worker import speed


def test_speed(cell, plan, results_file, workers, pytestconfig, request):
    model, backend = cell
    worker = workers.pop((model.name, backend), None)
    record = results_file.recorded(model.name, backend)
    if worker is None or record is None:
        done = record is not None and "speed" in record  # timed before a --resume
        pytest.skip("timed in the run this one resumes" if done else "the cell did not sample, so there is nothing to time")
    cores = pytestconfig.matrix_cores
    alone = pytestconfig.matrix_scheduler.alone  # the tier times alone, and cells ran side by side (conftest)

    def broke(error: str, output=None):  # the cell says why it has no speed figures, not only pytest's log
        record["speed"] = {"error": error, "output": output}
        results_file.save()
        pytest.fail(f"speed rounds broke: {error}", pytrace=False)

    with worker:
        try:  # pytest-benchmark times the warm rounds; a release that cannot run under this pytest fails here
            benchmark = request.getfixturevalue("benchmark")
        except Exception as exc:
            broke(f"pytest-benchmark could not start: {type(exc).__name__}: {exc}")
        with cores.borrowed(worker, alone=alone):
            try:
                on_gpu = plan.row.on_gpu and "jax" in BACKENDS[backend].modules
                figures = speed.measure(worker, record, plan.tier, benchmark, on_gpu=on_gpu)
                figures["timed_alone"] = alone or not cores.pinned
            except speed.SpeedError as exc:
                broke(str(exc), exc.reply.get("output"))
    benchmark.extra_info.update({"row": plan.row.id, "model": model.name, "backend": backend,
                                 "ess_per_s": figures["ess_per_s"]})
    speed.apply(record, figures)
    results_file.save()
