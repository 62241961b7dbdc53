"""Shared by the mutant models: a bugged copy of a built-in model that keeps the original's truth.

Each mutant is a small, realistic mistake in a model or a sampler setting. It is loaded like any user
model (`--models mutants`), samples its own (wrong) posterior, and is judged against the original
model's truth: a verdict of `failed` means the suite caught the bug. Under `--sbc` a mutant's data are
simulated from the original model and refitted with the mutant, so SBC can catch a model bug too.
"""

from models import load_models


def mutant(base_name, name, description, build=None, **settings):
    base = load_models()[base_name]

    class Mutant(type(base)):
        pass

    model = Mutant()
    model.name, model.description = name, description
    for key, value in settings.items():
        setattr(model, key, value)
    if build is not None:
        model.build = build.__get__(model)
    model.truth = lambda size: base.truth(size)  # judged against the original model's posterior
    model.simulator = base.simulator  # SBC simulates the intended model and refits the bugged one
    return model
