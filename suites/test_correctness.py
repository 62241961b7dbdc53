"""Correctness: does each backend sample each model's posterior right? One test per (model, backend).

The cells are evaluated ahead of their tests, side by side (the `scheduler` fixture, harness.worker.scheduler);
each test takes its cell's record and records it."""


def test_posterior(cell, results_file, workers, scheduler, outcome):
    model, backend = cell
    record = results_file.recorded(model.name, backend)  # finished before a --resume: not redone
    if record is None:
        record, worker = scheduler.result((model.name, backend))
        if worker is not None:
            workers[(model.name, backend)] = worker
        results_file.add(record)
    outcome(record)
