"""GPU rows on machines with and without a GPU: the device check, what the fingerprint records, the
variables cells run with, a row run in a preinstalled environment, and the no-device path of a session."""

from __future__ import annotations

import fnmatch
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import REPO_ROOT, TINY_MATRIX

from harness.common import devices
from harness.common.environment import cell_env
from harness.common.matrix import Row, load
from harness.common.versions import deviations
from harness.worker import preinstalled

H100_SMI = (REPO_ROOT / "tests" / "fixtures" / "nvidia-smi_h100.txt").read_text()  # seen on a lent H100, 2026-11-26
NO_GPU_HERE = devices.missing_reason("cuda") is not None

CUDA_ROW = '''
[rows.gpu-pymc6]
session = "gpu"
pymc = "6"
python = "3.12"
device = "cuda"
api = "pymc"
backends = ["numpyro-vectorized", "tfp"]
baseline = "numpyro-vectorized"

[rows.gpu-pymc6.packages]
pymc = "9.0.1"
"jax[cuda12]" = "0.99.1"
'''


def fake_machine(monkeypatch, outputs, device_files=()):
    """Driver tools answer with `outputs` (command line -> stdout; absent: not installed or failed), and
    only `device_files` exist under /dev."""
    monkeypatch.setattr(devices, "_query", lambda cmd: outputs.get(" ".join(cmd)))
    monkeypatch.setattr(devices.glob, "glob", lambda pattern: fnmatch.filter(device_files, pattern))


def test_nvidia_query_and_cuda_version_are_read():
    assert devices.parse_nvidia_smi("NVIDIA H100 80GB HBM3, 81559 MiB, 580.159.04, 9.0\n") == [
        {"name": "NVIDIA H100 80GB HBM3", "memory": "81559 MiB", "driver": "580.159.04", "compute_capability": "9.0"}]


def test_driver_info_records_card_driver_and_cuda(monkeypatch):
    answers = {"nvidia-smi": H100_SMI}
    monkeypatch.setattr(devices, "_query", lambda cmd: "NVIDIA H100 80GB HBM3, 81559 MiB, 580.159.04, 9.0\n"
                        if any(a.startswith("--query-gpu") for a in cmd) else answers.get(cmd[0]))
    info = devices.driver_info()
    assert info["nvidia"][0]["driver"] == "580.159.04" and info["cuda_driver_api"] == "13.0"
    monkeypatch.setattr(devices, "_query", lambda cmd: None)
    assert devices.driver_info() == {}


@pytest.mark.parametrize("device, tools, files, present", [
    ("cuda", {"nvidia-smi -L": "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-1)\n"}, [], True),
    ("cuda", {}, ["/dev/nvidia0"], True),
    ("cuda", {"nvidia-smi -L": "No devices were found\n"}, [], False),
    ("rocm", {"rocminfo": "  Name:                    gfx90a\n"}, [], True),
    ("rocm", {}, ["/dev/kfd", "/dev/dri/renderD128"], True),
    ("rocm", {}, ["/dev/kfd"], False),  # the kernel driver without a render node is no usable GPU
    ("rocm", {}, [], False),
])
def test_device_check(monkeypatch, device, tools, files, present):
    fake_machine(monkeypatch, tools, files)
    reason = devices.missing_reason(device)
    assert (reason is None) == present
    if not present:
        assert ("NVIDIA" if device == "cuda" else "AMD") in reason


def row(**keys):
    return Row.from_dict(dict({"id": "r", "session": "r", "python": "3.12", "api": "pymc", "backends": ["tfp"]}, **keys))


def test_cells_run_with_the_rows_device_and_precision():
    assert cell_env(row(device="cpu"))["JAX_PLATFORMS"] == "cpu"  # never a GPU result from a CPU row
    gpu32 = cell_env(row(device="cuda", precision="float32"))
    assert gpu32["PYTENSOR_FLAGS"] == "floatX=float32"
    assert gpu32["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false" and gpu32["JAX_ENABLE_X64"] == "0"
    assert "JAX_PLATFORMS" not in gpu32


def test_preinstalled_run_names_what_differs_from_the_row(tiny_matrix):
    matrix = load(tiny_matrix(TINY_MATRIX + CUDA_ROW))
    gpu = preinstalled.find_row(matrix, "gpu(pymc='6')")
    assert gpu.id == "gpu-pymc6" and preinstalled.find_row(matrix, "gpu-pymc6") is gpu
    found = {"python": "3.12.3", "pymc": "9.0.1", "jax": "0.11.2"}
    assert deviations(gpu, found) == {"jax": "found 0.11.2, row pins 0.99.1"}
    assert deviations(gpu, dict(found, python="3.11.7", pymc=None))["pymc"] == "found nothing, row pins 9.0.1"
    with pytest.raises(SystemExit, match="no row has id or session 'gpu7'"):
        preinstalled.find_row(matrix, "gpu7")


@pytest.mark.skipif(not NO_GPU_HERE, reason="this machine has an NVIDIA GPU")
def test_preinstalled_gpu_row_without_gpu_records_device_missing(tiny_matrix, tmp_path):
    env = dict(os.environ, MATRIX_TOML=str(tiny_matrix(TINY_MATRIX + CUDA_ROW)))
    proc = subprocess.run([sys.executable, "-m", "harness.run", "gpu-pymc6", "--quick", f"--results-dir={tmp_path}"],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == preinstalled.SKIPPED_EXIT, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Traceback" not in proc.stdout + proc.stderr
    (results,) = [p for p in tmp_path.glob("gpu-pymc6/*.json") if not p.name.endswith(".benchmark.json")]
    payload = json.loads(results.read_text())
    assert {c["status"] for c in payload["cells"]} == {"device-missing"}
    assert payload["fingerprint"]["install"]["mode"] == "preinstalled"


@pytest.mark.e2e
@pytest.mark.skipif(not NO_GPU_HERE, reason="this machine has an NVIDIA GPU")
@pytest.mark.parametrize("session, row", [("cuda(pymc='6')", "cuda-pymc6"), ("rocm(pymc='5')", "rocm-pymc5")])
def test_gpu_session_without_gpu_is_skipped_quickly(tmp_path, session, row):
    if session.startswith("rocm") and devices.missing_reason("rocm") is None:
        pytest.skip("this machine has an AMD GPU")
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "nox", "-s", session, "--", "--quick", f"--results-dir={tmp_path}"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    took = time.monotonic() - start
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "skipped: device-missing" in output, output[-3000:]
    assert "Traceback" not in output
    assert took < 120, f"{session} took {took:.0f} s to find no GPU"
    (results,) = [p for p in tmp_path.glob(f"{row}/*.json") if not p.name.endswith(".benchmark.json")]
    cells = json.loads(results.read_text())["cells"]
    assert cells and {c["status"] for c in cells} == {"device-missing"}


def test_compile_caches_persist_and_a_cold_run_starts_empty(tmp_path):
    warm = cell_env(row(device="cpu"))
    assert warm["JAX_COMPILATION_CACHE_DIR"].endswith("jax") and "PYTENSOR_FLAGS" not in warm
    cold = cell_env(row(device="cpu", precision="float32"), cold_root=str(tmp_path))
    assert cold["JAX_COMPILATION_CACHE_DIR"] == str(tmp_path / "jax") and cold["NUMBA_CACHE_DIR"] == str(tmp_path / "numba")
    assert cold["PYTENSOR_FLAGS"] == f"floatX=float32,base_compiledir={tmp_path / 'pytensor'}"


@pytest.mark.parametrize("taken", [True, False])
def test_a_run_started_with_sigint_ignored_takes_the_end_of_its_slot_as_an_interrupt(taken):
    """A background command of a non-interactive shell starts with SIGINT ignored; the suites and
    `python -m harness.run` take it back (take_interrupts), so `timeout --signal=INT` cuts them cleanly.
    Without it (taken=False, the mutant) the signal is lost."""
    code = ("import os, signal, time\n"
            "from harness.common.environment import take_interrupts\n"
            + ("take_interrupts()\n" if taken else "") +
            "try:\n"
            "    os.kill(os.getpid(), signal.SIGINT)\n"
            "    time.sleep(2)\n"
            "    print('ran on')\n"
            "except KeyboardInterrupt:\n"
            "    print('interrupted')\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    assert proc.stdout.strip() == ("interrupted" if taken else "ran on"), proc.stderr
