"""Every version literal lives in matrix.toml: no row pin is typed again anywhere else in the project."""

from __future__ import annotations

import re

import pytest
from conftest import REPO_ROOT

from harness.common.matrix import load

ELSEWHERE = ["noxfile.py", "asv.conf.json", "README.md", "harness", "suites", "models", "benchmarks", ".github", "docs", "tests"]
ALLOWED = {"tests/conftest.py", "tests/test_matrix.py", "tests/test_bisect.py", "tests/test_single_source.py"}  # fixtures of their own
DATED_RECORD = re.compile(r"docs/.*\d{4}-\d{2}-\d{2}\.(md|json)$")  # a dated measurement names the versions it measured


def project_files():
    for entry in ELSEWHERE:
        path = REPO_ROOT / entry
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file() and p.suffix in (".py", ".md", ".json", ".yml", ".yaml", ".toml")]
        for file in files:
            rel = file.relative_to(REPO_ROOT).as_posix()
            if rel not in ALLOWED and "references/" not in rel and "fixtures/" not in rel and not DATED_RECORD.match(rel):
                yield rel, file.read_text(errors="replace")


def pins():
    found = set()
    for row in load(REPO_ROOT / "matrix.toml").rows.values():
        for name, version in row.packages.items():
            found.add((re.sub(r"\[.*\]", "", name), version))
    return sorted(found)


@pytest.mark.parametrize("name, version", pins())
def test_pin_is_not_typed_twice(name, version):
    pattern = re.compile(rf"{re.escape(name)}\s*(==|=|\s)\s*[\"']?{re.escape(version)}(?![0-9.])", re.IGNORECASE)
    hits = [rel for rel, text in project_files() if pattern.search(text)]
    assert not hits, f"{name} {version} is typed outside matrix.toml in {hits}: read it from the matrix instead"
