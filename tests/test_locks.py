"""Lock files: fresh only while made from the row's current pins and the suite's requirements."""

from __future__ import annotations

import json

from harness.common.matrix import load
from harness.host import locks


def test_lock_is_fresh_until_inputs_change(tiny_matrix, tmp_path):
    row = load(tiny_matrix()).rows["cpu-pymc6"]
    lock, meta = locks.paths(row.id, tmp_path)
    assert locks.fresh_lock(row, ["pytest"], tmp_path)[0] is None  # no lock yet
    lock.write_text("example==1.0 --hash=sha256:00\n")
    inputs = locks.lock_inputs(row, ["pytest"])
    meta.write_text(json.dumps({"inputs_sha256": locks.digest(inputs), "made": "x", "resolver": "uv", "lock_sha256": "y"}))
    found, info = locks.fresh_lock(row, ["pytest"], tmp_path)
    assert found == lock and info["resolver"] == "uv"
    stale, why = locks.fresh_lock(row, ["pytest", "pytest-benchmark"], tmp_path)
    assert stale is None and "stale" in why["why"] and f"nox -s lock -- {row.id}" in why["why"]


def test_project_locks_are_fresh():
    """Every committed lock matches matrix.toml; rows without a lock are the ones that cannot resolve here."""
    import tomllib
    from conftest import REPO_ROOT

    matrix = load(REPO_ROOT / "matrix.toml")
    suite = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["suite"]
    for row in matrix.rows.values():
        lock, meta = locks.paths(row.id)
        if lock.exists():
            assert locks.fresh_lock(row, suite)[0] == lock, f"locks/{row.id}.txt is stale: run nox -s lock -- {row.id}"
