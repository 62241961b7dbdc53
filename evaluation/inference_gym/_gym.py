"""Shared by the Inference Gym models: the spec they have in common and where their exported data live.

The row environments need not have inference_gym, tensorflow or jax, so no model imports them: export.py,
run once with inference-gym installed, writes each target's data to data/<name>.npz and its ground truth
to references/<name>.json, and the models read only those files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from models.spec import ModelSpec

DATA_DIR = Path(__file__).resolve().parent / "data"


class GymTarget(ModelSpec):
    sizes = {"quick": {}, "full": {}}  # the gym fixes each target's data, so every tier samples the same posterior
    gym_class = ""  # the inference_gym.targets class this model translates

    def data(self):
        with np.load(DATA_DIR / f"{self.name}.npz") as arrays:
            return {key: arrays[key] for key in arrays.files}
