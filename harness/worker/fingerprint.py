"""Print, as one JSON line, what the current environment is: python, packages, CPU, devices (with their
memory), GPU driver and card, BLAS, floatX.

Each probe is guarded: what cannot be found is recorded as such, never raised. Runs on Python 3.8 too.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from typing import Any, Callable, Dict


def _probe(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception as exc:  # a probe must never stop the run
        return f"unknown ({type(exc).__name__}: {exc})"[:300]


def _packages() -> Dict[str, str]:
    from importlib import metadata

    found: Dict[str, str] = {}
    for dist in metadata.distributions():  # in sys.path order: the first of a name is the one imported
        name = dist.metadata["Name"]
        if name:
            found.setdefault(name.lower().replace("_", "-"), dist.version)
    return dict(sorted(found.items()))


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return f"{line.split(':', 1)[1].strip()} x {os.cpu_count()}"
    except OSError:
        pass
    return f"{platform.processor() or platform.machine()} x {os.cpu_count()}"


def _tensor_config() -> Dict[str, Any]:
    """floatX, compile mode and BLAS link flags of pytensor (pymc 5/6) or theano (pymc3)."""
    for name in ("pytensor", "theano"):
        try:
            lib = __import__(name)
        except ImportError:
            continue
        config = lib.config
        return {
            "tensor_library": f"{name} {getattr(lib, '__version__', '?')}",
            "floatX": config.floatX,
            "compile_mode": str(config.mode),
            "blas_ldflags": _probe(lambda: config.blas__ldflags),
        }
    return {"tensor_library": None, "floatX": None, "compile_mode": None, "blas_ldflags": None}


def _numpy_blas() -> Any:
    import numpy

    try:
        from threadpoolctl import threadpool_info

        return [
            {k: lib.get(k) for k in ("internal_api", "version", "num_threads", "filepath")}
            for lib in threadpool_info()
        ]
    except ImportError:
        config = numpy.show_config(mode="dicts") if "mode" in numpy.show_config.__code__.co_varnames else None
        return (config or {}).get("Build Dependencies", {}).get("blas", "numpy.show_config() has no dict mode here")


def _devices() -> Any:
    """The devices jax computes on, with the memory its allocator may use on each (GPUs report it)."""
    import jax

    found = []
    for d in jax.devices():
        entry = {"platform": d.platform, "kind": getattr(d, "device_kind", str(d)), "id": d.id}
        stats = _probe(d.memory_stats) if hasattr(d, "memory_stats") else None
        if isinstance(stats, dict) and "bytes_limit" in stats:
            entry["memory_mb"] = round(stats["bytes_limit"] / 2**20)
        found.append(entry)
    return found


def _gpu_driver() -> Any:
    from harness.common.devices import driver_info

    return driver_info()


def collect() -> Dict[str, Any]:
    info: Dict[str, Any] = {
        "python": sys.version.split()[0],
        "python_executable": sys.executable,
        "platform": platform.platform(),
        "cpu": _cpu(),
        "packages": _probe(_packages),
        "numpy_blas": _probe(_numpy_blas),
        "devices": _probe(_devices),
        "gpu_driver": _probe(_gpu_driver),
    }
    tensor = _probe(_tensor_config)
    info.update(tensor if isinstance(tensor, dict) else {"tensor_library": tensor})
    return info


if __name__ == "__main__":
    print(json.dumps(collect(), default=str))
