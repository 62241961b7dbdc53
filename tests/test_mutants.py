"""The mutant catalogue loads through the user-model mechanism and each mutant keeps its original's truth."""

from __future__ import annotations

import sys

from conftest import REPO_ROOT

from models import load_models


def test_mutants_load_and_borrow_the_original_truth(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO_ROOT / "mutants"))
    models = load_models([str(REPO_ROOT / "mutants")])
    mutants = {name: m for name, m in models.items() if name.startswith("mutant_")}
    assert len(mutants) >= 6
    truth = models["conjugate"].truth("quick")
    assert mutants["mutant_conjugate_likelihood_scale"].truth("quick") == truth
    assert mutants["mutant_radon_large_step"].target_accept == 0.3
    assert all(m.description for m in mutants.values())
    # SBC simulates the intended model and refits the bugged one
    original = models["conjugate"]
    assert mutants["mutant_conjugate_prior_scale"].simulator == original.simulator
    assert mutants["mutant_conjugate_prior_scale"].build != original.build
    sys.modules.pop("_mutant", None)
