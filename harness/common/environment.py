"""The environment variables every cell's processes run with, by row, where compiled code is kept, and
how a run takes an interrupt."""

import os
import signal
from pathlib import Path
from typing import Any, Dict, Optional

# Compiles are paid once per machine, not once per cell: JAX's persistent compilation cache lives here
# (PyTensor keeps its C and Numba caches under ~/.pytensor by itself). A cold run (`--cold`) points every
# cache at an empty folder instead, so a first run on a fresh machine can be measured.
CACHE_ROOT = Path(os.environ.get("PYMC_MATRIX_CACHE", "~/.cache/pymc-matrix")).expanduser()

# One BLAS/OpenMP thread per chain process: with more, chains oversubscribe the cores and the timings
# measure contention instead of the backend (measured: 962 s vs 110 s for the same draws).
THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "PYTHONUNBUFFERED": "1",
}


def compile_cache_env(cold_root: Optional[str] = None) -> Dict[str, str]:
    """The cache variables: JAX's persistent cache under CACHE_ROOT, every compile kept (no size or time
    threshold); with `cold_root`, JAX's and Numba's caches live there instead (cell_env moves PyTensor's
    and Theano's, which are set through their own flags)."""
    root = Path(cold_root) if cold_root else CACHE_ROOT
    env = {
        "JAX_COMPILATION_CACHE_DIR": str(root / "jax"),
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
        "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
    }
    if cold_root:
        env["NUMBA_CACHE_DIR"] = str(root / "numba")
    return env


def cell_env(row: Any, cold_root: Optional[str] = None) -> Dict[str, str]:
    """The variables a row's cells run with, beyond THREAD_ENV (`row`: a harness.common.matrix.Row).

    - compile caches (compile_cache_env), cold ones under `cold_root`;
    - float32 rows: PyTensor's / Theano's floatX (PyTensor then turns jax's x64 off itself) and jax's x64;
    - GPU rows: jax allocates device memory as it goes instead of taking 75% of the card at start-up, or the
      second process on the card (pymc's per-chain processes, the fingerprint probe) would find none left;
    - CPU rows: jax computes on the CPU even where a GPU plugin is installed (a preinstalled environment),
      so a CPU row never reports a GPU result either.
    """
    env = compile_cache_env(cold_root)
    flags = []
    if row.precision == "float32":
        flags.append("floatX=float32")
        env["JAX_ENABLE_X64"] = "0"
    if cold_root:
        flags.append(f"base_compiledir={Path(cold_root) / 'pytensor'}")
    if flags:
        env.update(PYTENSOR_FLAGS=",".join(flags), THEANO_FLAGS=",".join(flags))
    if row.device == "cpu":
        env["JAX_PLATFORMS"] = "cpu"
    else:
        env["XLA_PYTHON_CLIENT_PREALLOCATE"] = "false"
    return env


def take_interrupts() -> None:
    """Answer SIGINT with KeyboardInterrupt even where it was inherited ignored: a non-interactive shell starts
    its background commands (`nox -s ... &`, a CI step's or a GPU slot's) with SIGINT ignored, and then neither
    Ctrl-C nor `timeout --signal=INT` (the end of a GPU slot: gpu/slot.sh) cut the run cleanly: it ran on
    until SIGKILL, and the cell in progress was lost. Call from the main thread."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
