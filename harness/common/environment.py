"""The environment variables every cell's processes run with, by row."""

from typing import Any, Dict

# One BLAS/OpenMP thread per chain process: with more, chains oversubscribe the cores and the timings
# measure contention instead of the backend (FACTS.md: 962 s vs 110 s for the same draws).
THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "PYTHONUNBUFFERED": "1",
}


def cell_env(row: Any) -> Dict[str, str]:
    """The variables a row's cells run with, beyond THREAD_ENV (`row`: a harness.common.matrix.Row).

    - float32 rows: PyTensor's / Theano's floatX (PyTensor then turns jax's x64 off itself) and jax's x64;
    - GPU rows: jax allocates device memory as it goes instead of taking 75% of the card at start-up, or the
      second process on the card (pymc's per-chain processes, the fingerprint probe) would find none left;
    - CPU rows: jax computes on the CPU even where a GPU plugin is installed (a preinstalled environment),
      so a CPU row never reports a GPU result either.
    """
    env: Dict[str, str] = {}
    if row.precision == "float32":
        env.update(PYTENSOR_FLAGS="floatX=float32", THEANO_FLAGS="floatX=float32", JAX_ENABLE_X64="0")
    if row.device == "cpu":
        env["JAX_PLATFORMS"] = "cpu"
    else:
        env["XLA_PYTHON_CLIENT_PREALLOCATE"] = "false"
    return env
