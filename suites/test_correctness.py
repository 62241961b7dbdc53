"""Correctness: does each backend sample each model's posterior right? One test per (model, backend)."""

from conftest import report

from harness.cells import evaluate


def test_posterior(cell, plan, seed, results_file):
    model, backend = cell
    record = evaluate(plan, model, backend, seed)
    results_file.add(record)
    report(record)
