"""matrix.toml parsing and validation: every mistake is one line naming the file, row and key."""

from __future__ import annotations

import pytest
from conftest import REPO_ROOT, TINY_MATRIX

from harness.common.matrix import MatrixError, load


def test_tiny_matrix_parses(tiny_matrix):
    matrix = load(tiny_matrix())
    row = matrix.rows["cpu-pymc6"]
    assert row.session_name == "cpu(pymc='6')"
    assert row.requirements == ["pymc==6.4.0", "nutpie==0.16.11"]
    assert matrix.rows["old"].session_name == "old"
    assert matrix.tiers["quick"].chains == 2
    assert [kf.reason for kf in matrix.known_failures_for("old")] == ["example"]
    assert matrix.known_failures[0].matches("old", "nutpie-numba", "radon")
    assert not matrix.known_failures[0].matches("old", "nutpie-numba", "ppca")


def test_project_matrix_is_valid_and_has_required_rows():
    matrix = load(REPO_ROOT / "matrix.toml")
    sessions = {row.session_name for row in matrix.rows.values()}
    for needed in ["legacy", "cpu(pymc='5')", "cpu(pymc='6')", "cuda(pymc='5')", "cuda(pymc='6')",
                   "rocm(pymc='5')", "rocm(pymc='6')"]:
        assert needed in sessions


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ('pymc = "6.4.0"', 'pymc = "6.4.x"', "rows.cpu-pymc6.packages.pymc: '6.4.x' is not a valid version"),
        ('device = "cpu"\napi = "pymc"', 'device = "tpu"\napi = "pymc"', "rows.cpu-pymc6.device: 'tpu' is not one of"),
        ('backends = ["pymc-c", "nutpie-numba"]', 'backends = ["pymc-c", "stan"]', "rows.cpu-pymc6.backends: unknown backend 'stan'"),
        ('backends = ["pymc3-nuts"]', 'backends = ["pymc-c"]', "rows.old.backends: 'pymc-c' is a pymc backend but the row has api='pymc3'"),
        ('pymc = "6"\npython', 'pymc = "6"\npythn = "3.12"\npython', "rows.cpu-pymc6: unknown key 'pythn'"),
        ('python = "3.8"', 'python = "3.8"\n[rows.cpu-pymc6]\nsession = "x"', "row 'cpu-pymc6' is defined twice"),
        ('session = "old"', 'session = "cpu"\npymc = "6"', "session cpu(pymc='6') is already taken by rows.cpu-pymc6"),
        ('reason = "example"\n', '', "known_failures[0]: missing key 'reason'"),
        ('row = "*"', 'row = "gpu-*"', "known_failures[0].row: 'gpu-*' matches no row"),
        ('timeout_s = 60', 'timeout_s = -1', "tiers.quick.timeout_s: must be a positive whole number"),
        ('timeout_s = 60', 'timeout_s = 60\nmemory_limit_mb = "4G"', "tiers.quick.memory_limit_mb: must be a whole number >= 0"),
        ('timeout_s = 60', 'timeout_s = 60\nspeed_alone = "yes"', "tiers.quick.speed_alone: must be true or false"),
        ('[tiers.quick]', '[tiers.quick\n', "not valid TOML"),
        ('baseline = "pymc-c"\n', '', "rows.cpu-pymc6: missing key 'baseline'"),
        ('baseline = "pymc-c"', 'baseline = "tfp"', "rows.cpu-pymc6.baseline: 'tfp' is not one of the row's backends"),
        ('session = "old"', 'session = "old"\nremove_packages = ["x"]', "rows.old.remove_packages: only a row with `extends`"),
    ],
)
def test_mistakes_give_one_clear_line(tiny_matrix, old, new, expected):
    assert old in TINY_MATRIX
    path = tiny_matrix(TINY_MATRIX.replace(old, new, 1))
    with pytest.raises(MatrixError) as info:
        load(path)
    message = str(info.value)
    assert message.startswith("matrix.toml: ")
    assert expected in message
    assert "\n" not in message


def test_extends_copies_keys_and_merges_packages(tiny_matrix):
    text = TINY_MATRIX + '''
[rows.cpu-pymc6-f32]
extends = "cpu-pymc6"
session = "cpu_f32"
precision = "float32"

[rows.cpu-pymc6-f32.packages]
nutpie = "0.16.10"
'''
    row = load(tiny_matrix(text)).rows["cpu-pymc6-f32"]
    assert row.session_name == "cpu_f32(pymc='6')" and row.precision == "float32"
    assert row.packages == {"pymc": "6.4.0", "nutpie": "0.16.10"}
    assert row.backends == ("pymc-c", "nutpie-numba")


def test_extends_must_name_an_earlier_row(tiny_matrix):
    text = TINY_MATRIX.replace('[rows.old]\nsession = "old"', '[rows.old]\nextends = "nope"\nsession = "old"')
    with pytest.raises(MatrixError, match="rows.old.extends: 'nope' is not a row defined above"):
        load(tiny_matrix(text))


GPU_TWIN = TINY_MATRIX.replace('nutpie = "0.16.11"', 'nutpie = "0.16.11"\njax = "0.12.0.1"\nnumba = "0.68.0"') + '''
[rows.gpu-pymc6]
extends = "cpu-pymc6"
session = "gpu"
device = "cuda"
remove_packages = ["numba"]

[rows.gpu-pymc6.packages]
"jax[cuda12]" = "0.12.0.2"
'''


def test_an_extras_variant_replaces_the_bare_package_in_place(tiny_matrix):
    row = load(tiny_matrix(GPU_TWIN)).rows["gpu-pymc6"]
    assert row.packages == {"pymc": "6.4.0", "nutpie": "0.16.11", "jax[cuda12]": "0.12.0.2"}
    assert row.device == "cuda" and row.baseline == "pymc-c"


@pytest.mark.parametrize("old, new, expected", [
    ('remove_packages = ["numba"]', 'remove_packages = ["scipy"]', "rows.gpu-pymc6.remove_packages: 'scipy' is not a package of rows.cpu-pymc6"),
    ('remove_packages = ["numba"]', 'remove_packages = ["jax"]', "rows.gpu-pymc6: 'jax' is both pinned and removed"),
    ('remove_packages = ["numba"]', 'remove_packages = "numba"', "rows.gpu-pymc6.remove_packages: must be a list"),
])
def test_removal_mistakes_give_one_clear_line(tiny_matrix, old, new, expected):
    with pytest.raises(MatrixError, match=expected.replace("(", r"\(").replace("[", r"\[")):
        load(tiny_matrix(GPU_TWIN.replace(old, new)))


def test_gpu_rows_extend_the_cpu_rows_and_differ_only_in_the_jax_plugin():
    rows = load(REPO_ROOT / "matrix.toml").rows
    for gpu_id, cpu_id in (("cuda-pymc5", "cpu-pymc5"), ("cuda-pymc6", "cpu-pymc6"), ("rocm-pymc6", "cpu-pymc6")):
        gpu, cpu = rows[gpu_id].packages, rows[cpu_id].packages
        differing = {name for name in set(gpu) | set(cpu) if gpu.get(name) != cpu.get(name)}
        assert {name.split("[")[0] for name in differing} <= {"jax", "jaxlib"}, (gpu_id, differing)
        assert not any(name == "jax" for name in gpu), f"{gpu_id} carries the bare jax next to its plugin"


def test_a_tier_can_move_a_cell_with_a_reason(tiny_matrix):
    move = 'moved = [{model = "radon", backend = "pymc-c", to = "full", reason = "too slow"}]\n'
    tier = load(tiny_matrix(TINY_MATRIX.replace("speed_rounds = 1\n", "speed_rounds = 1\n" + move, 1))).tiers["quick"]
    assert tier.move_of("radon", "pymc-c")["to"] == "full" and tier.move_of("radon", "tfp") is None
    with pytest.raises(MatrixError, match=r"tiers.quick.moved\[0\].to: 'nightly' is not a tier"):
        load(tiny_matrix(TINY_MATRIX.replace("speed_rounds = 1\n", "speed_rounds = 1\n" + move.replace('"full"', '"nightly"'), 1)))
    two = move.replace("}]", '}, {model = "ppca", backend = "pymc-c", to = "full", reason = "slow too"}]')
    with pytest.raises(MatrixError, match=r"tiers.quick.moved: at most one cell per backend may leave a tier; pymc-c moves more"):
        load(tiny_matrix(TINY_MATRIX.replace("speed_rounds = 1\n", "speed_rounds = 1\n" + two, 1)))


def test_every_backend_keeps_four_of_the_five_shared_models_in_quick():
    tier = load(REPO_ROOT / "matrix.toml").tiers["quick"]
    moved_backends = [m["backend"] for m in tier.moved]
    assert len(moved_backends) == len(set(moved_backends)), "at most one cell per backend leaves the quick tier"
