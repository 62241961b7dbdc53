"""The README's two commands are what a new user types, and CI (.ci/run) must run the very same test command
in a bare virtual environment: a host dependency that only this machine's Python has must fail CI."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from conftest import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text()
CI_RUN = (REPO_ROOT / ".ci" / "run").read_text()


def readme_commands() -> list[str]:
    """The command lines of the README's "The two commands" code block."""
    section = README.split("## The two commands", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL).group(1)
    return [line for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_readme_has_a_main_and_a_test_command_in_a_fresh_venv():
    main, tests = readme_commands()
    for command in (main, tests):
        assert command.startswith("python3 -m venv "), command  # no system site-packages: a bare host
        assert "pip install -q nox uv &&" in command, "the host installs nox and uv, nothing else"
    assert tests.endswith("nox -s tests")
    assert re.search(r'nox -s "cpu\(pymc=\'6\'\)" -- --quick$', main)


def test_ci_runs_the_readme_test_command_verbatim():
    _, tests = readme_commands()
    lines = [line.strip() for line in CI_RUN.splitlines()]
    assert tests in lines, f".ci/run must run the README's test command as written: {tests}"
    assert "--system-site-packages" not in CI_RUN


def test_the_main_command_names_a_listed_session():
    main, _ = readme_commands()
    session = re.search(r'nox -s "([^"]+)"', main).group(1)
    listed = subprocess.run([sys.executable, "-m", "nox", "-l", "--json"], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert session in {s["session"] for s in json.loads(listed.stdout)}
