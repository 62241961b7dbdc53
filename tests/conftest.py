"""Shared fixtures for the harness tests: a tiny valid matrix to break in one place at a time."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

TINY_MATRIX = '''
[rows.cpu-pymc6]
session = "cpu"
pymc = "6"
python = "3.12"
device = "cpu"
api = "pymc"
backends = ["pymc-c", "nutpie-numba"]
baseline = "pymc-c"

[rows.cpu-pymc6.packages]
pymc = "6.4.0"
nutpie = "0.16.11"

[rows.old]
session = "old"
python = "3.8"
device = "cpu"
api = "pymc3"
backends = ["pymc3-nuts"]
baseline = "pymc3-nuts"

[rows.old.packages]
pymc3 = "3.11.2"

[tiers.quick]
size = "quick"
chains = 2
tune = 100
draws = 100
timeout_s = 60
speed_rounds = 1

[tiers.full]
size = "full"
chains = 4
tune = 1000
draws = 1000
timeout_s = 600
speed_rounds = 3

[[known_failures]]
row = "*"
backend = "nutpie-numba"
model = "radon"
reason = "example"
link = "https://example.org/issue/1"
'''


@pytest.fixture
def tiny_matrix(tmp_path):
    """Write the tiny matrix (optionally edited) and return its path."""

    def write(text: str = TINY_MATRIX) -> Path:
        path = tmp_path / "matrix.toml"
        path.write_text(text)
        return path

    return write
