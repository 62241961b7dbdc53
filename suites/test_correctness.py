"""Correctness: does each backend sample each model's posterior right? One test per (model, backend)."""

from harness.worker.evaluation import evaluate


def test_posterior(cell, plan, seed, results_file, workers, speed_enabled, outcome):
    model, backend = cell
    record = results_file.recorded(model.name, backend)  # finished before a --resume: not redone
    if record is None:
        record, worker = evaluate(plan, model, backend, seed, keep_worker=speed_enabled)
        if worker is not None:
            workers[(model.name, backend)] = worker
        results_file.add(record)
    outcome(record)
