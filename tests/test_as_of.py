"""Rows as of a date, the harness speaking each date's API, and known failures with versions (fast, offline).

The resolver's words below are uv's own (0.13), copied from real runs against the index.
"""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
import types
from contextlib import contextmanager

import pytest
from conftest import REPO_ROOT, TINY_MATRIX

from harness.common.matrix import KnownFailure, MatrixError, Row, load
from harness.common.plan import Plan, row_plan
from harness.host import install
from harness.worker import samplers

NO_VERSIONS = """error: No solution found when resolving dependencies
  cause: Because there are no versions of blackjax and you require blackjax, we can conclude that your requirements are unsatisfiable.

hint: `blackjax` was filtered by `exclude-newer` to only include packages uploaded before 2021-01-02T00:00:00Z. The latest version satisfying the requirement is v9.9.9, published at 2026-10-02T20:43:50.363Z. Consider using `exclude-newer-package` to override the cutoff for this package.
"""
ONLY_OLDER = """error: No solution found when resolving dependencies
  cause: Because only pymc<=5.28.5 is available and you require pymc>=6, we can conclude that your requirements are unsatisfiable.

hint: `pymc` was filtered by `exclude-newer` to only include packages uploaded before 2026-05-02T00:00:00Z. The latest version satisfying the requirement is v9.9.9, published at 2026-11-01T16:52:42Z. Consider using `exclude-newer-package` to override the cutoff for this package.
"""
TRANSITIVE = """error: No solution found when resolving dependencies
  cause: Because there are no versions of jaxlib and numpyro>=0.11.0 depends on jaxlib>=0.4, we can conclude that numpyro>=0.11.0 cannot be used.
         And because you require numpyro, we can conclude that your requirements are unsatisfiable.

hint: `jaxlib` was filtered by `exclude-newer` to only include packages uploaded before 2023-03-02T00:00:00Z.
"""
CONFLICT = """error: No solution found when resolving dependencies
  cause: Because nutpie==0.1 depends on pymc>=9 and you require nutpie==0.1, we can conclude that your requirements are unsatisfiable.
"""


def project_row(row_id="cpu-pymc5"):
    return load(REPO_ROOT / "matrix.toml").rows[row_id]


# --------------------------------------------------------------------------------------------------------
# matrix.toml: the `as_of` row key and known failures' `versions`

AS_OF_ROW = TINY_MATRIX.replace('baseline = "pymc-c"\n', 'baseline = "pymc-c"\nas_of = { pymc = ">=6" }\n', 1)


def test_as_of_keeps_the_row_itself_and_drops_the_pins(tiny_matrix):
    row = load(tiny_matrix(AS_OF_ROW)).rows["cpu-pymc6"]
    assert row.as_of == {"pymc": ">=6"}
    assert row.dated_requirements == ["pymc>=6", "nutpie"]
    assert Row.from_dict(row.to_dict()).as_of == {"pymc": ">=6"}  # through the plan and back


def test_project_rows_keep_their_pymc_and_gpu_twins_inherit_it():
    rows = load(REPO_ROOT / "matrix.toml").rows
    assert rows["cpu-pymc5"].dated_requirements[0] == "pymc<6"
    assert rows["cpu-pymc6"].dated_requirements[0] == "pymc>=6"
    for twin, base in (("cuda-pymc5", "cpu-pymc5"), ("rocm-pymc5", "cpu-pymc5"), ("cuda-pymc6", "cpu-pymc6"),
                       ("rocm-pymc6", "cpu-pymc6"), ("cpu-pymc6-float32", "cpu-pymc6")):
        assert rows[twin].as_of == rows[base].as_of, twin
    assert "jax[cuda12]" in rows["cuda-pymc5"].dated_requirements  # extras kept, pins dropped
    assert all("=" not in r for r in rows["cuda-pymc6"].dated_requirements if not r.startswith("pymc"))


@pytest.mark.parametrize(
    "new, expected",
    [
        ('as_of = { pymc = "6" }', "rows.cpu-pymc6.as_of.pymc: '6' is not a PEP 440 version specifier"),
        ('as_of = { pymc = "" }', "rows.cpu-pymc6.as_of.pymc: '' is not a PEP 440 version specifier"),
        ('as_of = { pymc = 6 }', "rows.cpu-pymc6.as_of.pymc: 6 is not a PEP 440 version specifier"),
        ('as_of = { numpy = "<2" }', "rows.cpu-pymc6.as_of.numpy: not a package of the row; its packages: pymc, nutpie"),
        ('as_of = "pymc<6"', "rows.cpu-pymc6.as_of: must be a table of package = \"PEP 440 specifier\""),
        ('as_of = { "jax[cuda12]" = "<1" }', "rows.cpu-pymc6.as_of.jax[cuda12]: name the package without extras"),
    ],
)
def test_as_of_mistakes_give_one_clear_line(tiny_matrix, new, expected):
    path = tiny_matrix(TINY_MATRIX.replace('baseline = "pymc-c"\n', f'baseline = "pymc-c"\n{new}\n', 1))
    with pytest.raises(MatrixError) as info:
        load(path)
    assert str(info.value).startswith("matrix.toml: ") and expected in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    "new, expected",
    [
        ('versions = { nutpie = "1.6" }', "known_failures[0].versions.nutpie: '1.6' is not a PEP 440 version specifier"),
        ('versions = { blackjax = ">=1.6" }', "known_failures[0].versions.blackjax: not a package of any row the entry matches"),
        ('versions = ">=1.6"', "known_failures[0].versions: must be a table"),
        ('versions = {}', "known_failures[0].versions: must be a table"),
        ('version = { nutpie = ">=1" }', "known_failures[0]: unknown key 'version'"),
    ],
)
def test_versioned_known_failure_mistakes_give_one_clear_line(tiny_matrix, new, expected):
    path = tiny_matrix(TINY_MATRIX.replace('link = "https://example.org/issue/1"', f'link = "https://example.org/issue/1"\n{new}'))
    with pytest.raises(MatrixError) as info:
        load(path)
    assert expected in str(info.value) and "\n" not in str(info.value)


# --------------------------------------------------------------------------------------------------------
# Known failures with versions: one matcher, fed the installed versions


def test_a_versioned_entry_holds_only_for_the_versions_it_names():
    entry = KnownFailure(row="*", backend="blackjax", model="*", reason="r", link="l", versions={"blackjax": ">=1.6"})
    assert entry.matches("cpu-pymc5", "blackjax", "radon", {"blackjax": "1.6.0", "pymc": "5.1"})
    assert entry.matches("cpu-pymc5", "blackjax", "radon", {"BlackJAX": "2.0"})  # names compare canonically
    assert not entry.matches("cpu-pymc5", "blackjax", "radon", {"blackjax": "1.2.4"})  # before the break
    assert not entry.matches("cpu-pymc5", "blackjax", "radon", {"blackjax": None})  # not installed
    assert not entry.matches("cpu-pymc5", "blackjax", "radon", {})  # versions unknown: judged normally
    assert not entry.matches("cpu-pymc5", "nutpie-numba", "radon", {"blackjax": "1.6.0"})
    assert KnownFailure.from_dict(entry.to_dict()) == entry
    plain = KnownFailure(row="*", backend="*", model="*", reason="r", link="l")
    assert plain.matches("x", "y", "z") and "versions" not in plain.to_dict()


def test_plan_judges_known_failures_by_the_resolved_versions():
    matrix = load(REPO_ROOT / "matrix.toml")
    row = matrix.rows["cpu-pymc5"]
    blackjax_entry = next(kf for kf in matrix.known_failures if kf.backend == "blackjax")
    assert blackjax_entry.versions == {"blackjax": ">=1.6"}
    dated = row_plan(matrix, row, {}, None, {"mode": "as-of", "resolved": {"pymc": "5.16.2", "blackjax": "1.2.4"}})
    assert dated.known_failure("conjugate", "blackjax") is None  # 2024: judged normally
    today = row_plan(matrix, row, {}, None, {"mode": "as-of", "resolved": {"blackjax": "1.7.0"}})
    assert today.known_failure("conjugate", "blackjax") is blackjax_entry
    pinned = row_plan(matrix, row, {}, None, {"mode": "asv"})  # no record of what resolved: the row's pins
    assert pinned.known_failure("conjugate", "blackjax") is blackjax_entry
    carried = Plan.from_dict(json.loads(json.dumps(dated.to_dict())))  # the worker reads the plan back
    assert carried.known_failure("conjugate", "blackjax") is None
    assert Plan.from_dict(json.loads(json.dumps(today.to_dict()))).known_failure("conjugate", "blackjax") is not None


# --------------------------------------------------------------------------------------------------------
# The session options and uv's cutoff


def test_as_of_options():
    today = datetime.date(2026, 11, 26)
    assert install.split_as_of(["--quick", "--as-of", "2024-10-01", "-x"]) == ("2024-10-01", ["--quick", "-x"])
    assert install.split_as_of(["--as-of=2024-10-01"]) == ("2024-10-01", [])
    assert install.split_as_of(["--latest", "--quick"], today=today) == ("2026-11-26", ["--quick"])
    assert install.split_as_of(["--quick"]) == (None, ["--quick"])
    for args, words in ((["--as-of"], "--as-of needs a date"), (["--as-of", "2024-13-01"], "not a date; write it as YYYY-MM-DD"),
                        (["--as-of", "yesterday"], "not a date"), (["--as-of", "2024-01-01", "--as-of", "2025-01-01"], "given twice")):
        with pytest.raises(ValueError, match=words):
            install.split_as_of(args, today=today)


def test_as_of_is_the_end_of_that_day_in_utc():
    assert install.exclude_newer("2024-10-01") == "2024-10-02T00:00:00Z"
    assert install.exclude_newer("2024-12-31") == "2025-01-01T00:00:00Z"


# --------------------------------------------------------------------------------------------------------
# What did not exist yet, and which cells it takes


def test_the_resolver_says_what_was_not_released_yet():
    row = project_row()
    assert install.not_released(NO_VERSIONS, row.dated_requirements) == "blackjax"
    assert install.not_released(ONLY_OLDER, ["pymc>=6", "nutpie"]) == "pymc>=6"
    assert install.not_released(TRANSITIVE, row.dated_requirements) is None  # numpyro exists; what it needs does not
    assert install.not_released(CONFLICT, row.dated_requirements) is None
    assert install.not_released(NO_VERSIONS.split("hint")[0], row.dated_requirements) is None  # not the date's doing
    built = "error: Failed to build `numba==0.56.4`\n  Caused by: ..."
    assert install.failed_to_build(built, row.dated_requirements) == "numba"


def test_a_missing_distribution_takes_exactly_the_backends_that_import_it():
    row = project_row()
    jax_paths = {"pymc-jax", "nutpie-jax", "nutpie-jax-jaxgrad", "numpyro-parallel", "numpyro-vectorized", "blackjax", "tfp"}
    assert install.unavailable_backends(row, {"blackjax": "blackjax not released before D"}) == {"blackjax": "blackjax not released before D"}
    assert set(install.unavailable_backends(row, {"jaxlib": "x"})) == jax_paths  # jax does not import without it
    assert set(install.unavailable_backends(row, {"jax": "x"})) == jax_paths
    assert set(install.unavailable_backends(row, {"tfp-nightly": "x"})) == {"tfp"}  # tensorflow_probability's
    assert set(install.unavailable_backends(row, {"nutpie": "x"})) == {"nutpie-numba", "nutpie-jax", "nutpie-jax-jaxgrad"}
    assert set(install.unavailable_backends(row, {"numba": "x"})) == {"pymc-numba", "nutpie-numba"}
    assert set(install.unavailable_backends(row, {"pymc>=6": "x"})) == set(row.backends)  # requirements work too
    both = install.unavailable_backends(row, {"jaxlib": "no jaxlib", "nutpie": "no nutpie"})
    assert both["nutpie-jax"] == "no nutpie; no jaxlib" and both["pymc-jax"] == "no jaxlib"
    assert install.backends_importing(row, {"numpyro": "import numpyro fails"}) == {
        "numpyro-parallel": "import numpyro fails", "numpyro-vectorized": "import numpyro fails"}
    legacy = project_row("legacy")
    assert set(install.unavailable_backends(legacy, {"theano-pymc": "x"})) == set(legacy.backends)


class FakeSession:
    def __init__(self, bin_dir):
        self.bin = str(bin_dir)
        self.logs, self.warnings = [], []
        self.virtualenv = types.SimpleNamespace(venv_backend="uv")

    def log(self, text):
        self.logs.append(text)

    def warn(self, text):
        self.warnings.append(text)

    def error(self, text):
        raise AssertionError(text)


def fake_uv(monkeypatch, missing=(), conflict=False, alone_fails=(), import_fails=None, warning=""):
    """subprocess.run for uv and the environment's python: a tiny index where `missing` has no release by
    the cutoff, `alone_fails` does not resolve even alone, and everything else installs."""
    calls = []

    def run(cmd, input=None, **kwargs):
        calls.append(list(cmd))
        text = " ".join(cmd) + " " + (input or "")
        if "--version" in cmd:
            return subprocess.CompletedProcess(cmd, 0, "uv 0.13.9 (abc 2026-11-01)\n", "")
        if cmd[1] == "-c":  # the import check
            return subprocess.CompletedProcess(cmd, 0, json.dumps(import_fails or {}) + "\n", "")
        wanted = (input or "").split() if "compile" in cmd else [a for a in cmd[cmd.index("install") + 3:] if not a.startswith("-")]
        for name in missing:
            if any(w.split(">")[0].split("<")[0] == name for w in wanted):
                return subprocess.CompletedProcess(cmd, 1, "", NO_VERSIONS.replace("blackjax", name))
        if any(w in alone_fails for w in wanted):
            return subprocess.CompletedProcess(cmd, 1, "", CONFLICT)
        if conflict and "install" in cmd and "numpyro" in text:
            return subprocess.CompletedProcess(cmd, 1, "", TRANSITIVE)
        return subprocess.CompletedProcess(cmd, 0, "", warning)

    monkeypatch.setattr(install.subprocess, "run", run)
    monkeypatch.setattr(install, "uv_command", lambda: ["uv"])
    return calls


SUITE = ["pytest>=7.0", "packaging>=21.0"]


def test_a_package_not_released_yet_is_left_out_and_the_rest_installed(tmp_path, monkeypatch):
    calls = fake_uv(monkeypatch, missing=("blackjax",))
    session, row = FakeSession(tmp_path), project_row()
    unavailable, record = install.install_row(session, row, SUITE, SUITE + ["numpy"], as_of="2021-01-01")
    assert unavailable == {"blackjax": "blackjax not released before 2021-01-01 (for Python 3.12)"}
    assert record["mode"] == "as-of" and record["as_of"] == "2021-01-01" and record["resolver"] == "uv 0.13.9"
    assert record["exclude_newer"] == "2021-01-02T00:00:00Z" and "blackjax" in record["left_out"]
    installs = [c for c in calls if "install" in c]
    assert len(installs) == 2 and "blackjax" not in installs[-1] and "pymc<6" in installs[-1]
    last = installs[-1]
    assert last[last.index("--exclude-newer") + 1] == "2021-01-02T00:00:00Z"
    assert "pytest=false" in last and "packaging=false" in last  # the harness's own tools are today's
    assert "--reinstall" in last  # a reused environment's newer releases do not survive


def test_a_row_that_does_not_resolve_is_split_into_what_fails_alone(tmp_path, monkeypatch):
    fake_uv(monkeypatch, conflict=True, alone_fails=("numpyro",))
    unavailable, record = install.install_row(FakeSession(tmp_path), project_row(), SUITE, SUITE, as_of="2023-03-01")
    assert set(unavailable) == {"numpyro-parallel", "numpyro-vectorized"}
    assert unavailable["numpyro-parallel"].startswith("numpyro does not resolve as of 2023-03-01: ")
    assert list(record["left_out"]) == ["numpyro"]


def test_a_combination_that_does_not_resolve_takes_every_cell(tmp_path, monkeypatch):
    fake_uv(monkeypatch, conflict=True)  # numpyro resolves alone, only the whole row does not
    unavailable, record = install.install_row(FakeSession(tmp_path), project_row(), SUITE, SUITE, as_of="2023-03-01")
    assert list(unavailable) == ["*"] and "install failed: as of 2023-03-01: " in unavailable["*"]
    assert "no versions of jaxlib" in record["failed"]


def test_a_gpu_plugin_extra_not_released_yet_takes_the_jax_cells(tmp_path, monkeypatch):
    fake_uv(monkeypatch, warning="warning: The package `jax==0.4.33` does not have an extra named `rocm7-local`\n")
    row = project_row("rocm-pymc5")
    unavailable, record = install.install_row(FakeSession(tmp_path), row, SUITE, SUITE, as_of="2024-10-01")
    assert set(unavailable) == set(row.backends)  # every backend of a GPU row is a JAX path
    assert unavailable["tfp"] == "jax[rocm7-local] not released before 2024-10-01 (jax 0.4.33 has no extra rocm7-local)"
    assert list(record["left_out"]) == ["jax[rocm7-local]"]


def test_modules_that_do_not_import_take_their_backends(tmp_path, monkeypatch):
    fake_uv(monkeypatch, import_fails={"tensorflow_probability": "ImportError: needs jax<0.5"})
    unavailable, record = install.install_row(FakeSession(tmp_path), project_row(), SUITE, SUITE, as_of="2025-03-01")
    assert unavailable == {"tfp": "import tensorflow_probability.substrates.jax fails as of 2025-03-01: ImportError: needs jax<0.5"}
    assert record["import_failed"] == {"tensorflow_probability": unavailable["tfp"]}


# --------------------------------------------------------------------------------------------------------
# The harness speaks each date's API


def fake_modules(monkeypatch, **versions):
    for name, version in versions.items():
        monkeypatch.setitem(sys.modules, name, types.SimpleNamespace(__version__=version))


@pytest.fixture
def calls(monkeypatch):
    seen = []
    monkeypatch.setattr(samplers, "_pm_sample", lambda model, cfg, names, **kw: seen.append(("pm.sample", kw)) or "draws")
    monkeypatch.setattr(samplers, "_sample_jax_nuts", lambda *args: seen.append(("sample_jax_nuts", args[-2:])) or "draws")
    return seen


CFG = samplers.SampleConfig(chains=2, tune=10, draws=10, seed=1, target_accept=0.9)


@pytest.mark.parametrize(
    "pymc, expected",
    [("6.0.0", {"backend": "numba"}), ("5.19.0", {"compile_kwargs": {"mode": "NUMBA"}}), ("5.15.1", {})],
)
def test_pymc_nuts_picks_the_backend_the_way_each_release_takes_it(monkeypatch, calls, pymc, expected):
    flags = []

    @contextmanager
    def change_flags(**kw):
        flags.append(kw)
        yield

    fake_modules(monkeypatch, pymc=pymc)
    monkeypatch.setitem(sys.modules, "pytensor", types.SimpleNamespace(config=types.SimpleNamespace(change_flags=change_flags)))
    samplers._pymc_nuts("numba")(None, CFG, ["x"])
    kwargs = calls[0][1]
    assert kwargs["nuts"] == {"target_accept": 0.9} and {k: kwargs[k] for k in expected} == expected
    assert flags == ([] if expected else [{"mode": "NUMBA"}])  # before compile_kwargs: pytensor's own config


@pytest.mark.parametrize(
    "pymc, call",
    [("6.3.0", ("pm.sample", {"nuts_sampler": "numpyro", "nuts": {"chain_method": "vectorized", "target_accept": 0.9}})),
     ("6.0.0", ("sample_jax_nuts", ("numpyro", "vectorized"))),  # 6.0-6.2 would hand chain_method to the kernel
     ("5.16.2", ("pm.sample", {"nuts_sampler": "numpyro", "nuts_sampler_kwargs": {"chain_method": "vectorized"},
                               "target_accept": 0.9}))],
)
def test_jax_samplers_get_their_chain_method_on_every_release(monkeypatch, calls, pymc, call):
    fake_modules(monkeypatch, pymc=pymc)
    samplers._jax_nuts("numpyro", "vectorized")(None, CFG, ["x"])
    assert calls == [call]


def test_nutpie_before_its_jax_backend(monkeypatch):
    compiled = []
    nutpie = types.SimpleNamespace(__version__="0.11.0", compile_pymc_model=lambda model, **kw: compiled.append(kw),
                                   sample=lambda *a, **kw: "idata")
    monkeypatch.setitem(sys.modules, "nutpie", nutpie)
    monkeypatch.setattr(samplers, "_from_idata", lambda *a, **kw: "draws")
    assert samplers._nutpie("numba")(None, CFG, ["x"]) == "draws" and compiled == [{}]  # Numba takes no argument
    with pytest.raises(samplers.HarnessCannotDrive, match=r"the harness cannot drive nutpie 0.11.0: no jax backend before nutpie"):
        samplers._nutpie("jax", "jax")(None, CFG, ["x"])
    nutpie.__version__ = "0.13.2"
    samplers._nutpie("jax", "jax")(None, CFG, ["x"])
    assert compiled[-1] == {"backend": "jax", "gradient_backend": "jax"}


def test_the_harness_own_bad_call_is_its_own_fault_not_the_ecosystem(monkeypatch):
    def deeper(model, **kwargs):
        return sorted([], progress_bar=True)  # a library calling another with a keyword it no longer takes

    nutpie = types.SimpleNamespace(__version__="0.13.2", compile_pymc_model=lambda model: None)  # takes no backend=
    monkeypatch.setitem(sys.modules, "nutpie", nutpie)
    fake_modules(monkeypatch, pymc="5.15.1")
    backend = types.SimpleNamespace(name="nutpie-numba", sampler="nutpie", options={"backend": "numba"}, modules=("pymc", "nutpie"))
    with pytest.raises(samplers.HarnessCannotDrive, match=r"cannot drive pymc 5.15.1, nutpie 0.13.2: TypeError: .*'backend'"):
        samplers.sampler_for(backend)(None, CFG, ["x"])
    nutpie.compile_pymc_model = deeper
    with pytest.raises(TypeError, match="progress_bar"):
        samplers.sampler_for(backend)(None, CFG, ["x"])


def test_a_cell_the_harness_cannot_drive_is_unavailable_with_its_own_reason():
    from harness.worker import child

    reply = child._error(samplers.HarnessCannotDrive("nutpie 0.11.0", "no jax backend"))
    assert reply == {"status": "unavailable", "reason": "the harness cannot drive nutpie 0.11.0: no jax backend"}
    assert child._error(ValueError("boom"))["status"] == "error"


def test_a_stack_whose_jax_cannot_open_the_harness_cache_runs_without_it(monkeypatch):
    import importlib.machinery

    etils = types.ModuleType("etils")  # etils without its epath extra's dependencies: epath does not import
    etils.__spec__, etils.__path__ = importlib.machinery.ModuleSpec("etils", None, is_package=True), []
    updates = []
    jax = types.SimpleNamespace(__version__="0.5.1", config=types.SimpleNamespace(update=lambda *a: updates.append(a)))
    monkeypatch.setitem(sys.modules, "etils", etils)
    monkeypatch.setitem(sys.modules, "jax", jax)
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", "/tmp/cache")
    samplers._jax_cache_or_none()
    assert updates == [("jax_compilation_cache_dir", None)] and "JAX_COMPILATION_CACHE_DIR" not in samplers.os.environ
