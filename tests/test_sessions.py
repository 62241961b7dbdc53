"""The noxfile turns matrix rows into sessions, and a broken matrix stops `nox -l` with one clear line."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from conftest import REPO_ROOT, TINY_MATRIX


def nox_list(matrix_path=None):
    env = dict(os.environ)
    if matrix_path:
        env["MATRIX_TOML"] = str(matrix_path)
    return subprocess.run(
        [sys.executable, "-m", "nox", "-l", "--json"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_project_sessions_are_listed():
    proc = nox_list()
    assert proc.returncode == 0, proc.stderr
    names = {s["session"] for s in json.loads(proc.stdout)}
    for needed in ["legacy", "cpu(pymc='5')", "cpu(pymc='6')", "cuda(pymc='5')", "cuda(pymc='6')",
                   "rocm(pymc='5')", "rocm(pymc='6')", "tests"]:
        assert needed in names


def test_tiny_matrix_sessions(tiny_matrix):
    proc = nox_list(tiny_matrix())
    assert proc.returncode == 0, proc.stderr
    sessions = {s["session"]: s for s in json.loads(proc.stdout)}
    assert {"cpu(pymc='6')", "old", "tests"} <= set(sessions)
    assert "cpu-pymc6" in sessions["cpu(pymc='6')"]["tags"]


def test_broken_matrix_fails_listing_with_one_line(tiny_matrix):
    proc = nox_list(tiny_matrix(re.sub(r'pymc3 = "[^"]*"', 'pymc3 = "three"', TINY_MATRIX)))
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines == ["nox: matrix.toml: rows.old.packages.pymc3: 'three' is not a valid version (PEP 440); "
                     'pin an exact release such as "1.2.3"']


def test_a_matrix_without_the_home_row_lists_its_sessions_and_says_what_reference_needs(tiny_matrix, tmp_path):
    """reference and sweep run in cpu-pymc6; another matrix file may lack it (noxfile.HOME_ROW)."""
    without = TINY_MATRIX.replace("[rows.cpu-pymc6]", "[rows.cpu-new]").replace("[rows.cpu-pymc6.packages]", "[rows.cpu-new.packages]")
    path = tiny_matrix(without)
    proc = nox_list(path)
    assert proc.returncode == 0, proc.stderr
    env = dict(os.environ, MATRIX_TOML=str(path))
    run = subprocess.run([sys.executable, "-m", "nox", "-s", "reference", "--envdir", str(tmp_path / "nox"), "--",
                          "radon"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode != 0
    assert f"{path}: no row 'cpu-pymc6'; the reference session runs in it" in run.stderr
