"""Is there a GPU of the row's kind on this machine? Asked before any accelerator wheel is installed.

Two questions, asked at two moments:
- before install (host side, `missing_reason`): driver tools or device files of the kind exist;
- inside every cell of a GPU row (`jax_fallback_reason`): jax really runs on that device. jax falls back
  to the CPU silently when its plugin finds no device, and a GPU row must never report that as a GPU result.

And what a GPU cell costs beyond its sampling time, measured inside the cell's worker: the peak of device
memory jax's allocator handed out (`peak_device_mb`) and the host-device copies of the model's data and of
its draws (`transfer_seconds`). `driver_info` records the driver and card for the fingerprint.
"""

from __future__ import annotations

import glob
import re
import shutil
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional

PROBE_TIMEOUT_S = 20
GPU_PLATFORMS = ("gpu", "cuda", "rocm")  # what jax calls a GPU device, by jax version and plugin


def _query(cmd: List[str]) -> Optional[str]:
    if shutil.which(cmd[0]) is None:
        return None
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S)
    except (subprocess.TimeoutExpired, OSError):
        return None
    return out.stdout if out.returncode == 0 else None


def _command_lists_gpu(cmd, marker: str) -> bool:
    return marker in (_query(cmd) or "")


NVIDIA_FIELDS = ("name", "memory.total", "driver_version", "compute_cap")


def parse_nvidia_smi(csv: str) -> List[Dict[str, str]]:
    """`nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv,noheader` lines."""
    gpus = []
    for line in csv.strip().splitlines():
        values = [v.strip() for v in line.split(",")]
        if len(values) == len(NVIDIA_FIELDS):
            gpus.append(dict(zip(("name", "memory", "driver", "compute_capability"), values)))
    return gpus


def driver_info() -> Dict[str, Any]:
    """What the machine's GPU driver tools say about its cards (empty where there are none)."""
    info: Dict[str, Any] = {}
    nvidia = _query(["nvidia-smi", f"--query-gpu={','.join(NVIDIA_FIELDS)}", "--format=csv,noheader"])
    if nvidia:
        info["nvidia"] = parse_nvidia_smi(nvidia)
        found = re.search(r"CUDA Version:\s*([\d.]+)", _query(["nvidia-smi"]) or "")
        if found:  # the newest CUDA the driver runs, which bounds the CUDA plugin wheels that work
            info["cuda_driver_api"] = found.group(1)
    rocm = _query(["rocm-smi", "--showproductname", "--showdriverversion", "--showmeminfo", "vram", "--csv"])
    if rocm:
        info["rocm_smi"] = rocm.strip()[:2000]
    return info


def missing_reason(device: str) -> Optional[str]:
    """None when a device of this kind is present, else one line saying what was looked for."""
    if device == "cpu":
        return None
    if device == "cuda":
        if _command_lists_gpu(["nvidia-smi", "-L"], "GPU "):
            return None
        if glob.glob("/dev/nvidia[0-9]*"):
            return None
        return "no NVIDIA GPU: `nvidia-smi -L` lists none and there is no /dev/nvidia[0-9] device file"
    if device == "rocm":
        if _command_lists_gpu(["rocminfo"], "gfx"):
            return None
        if glob.glob("/dev/kfd") and glob.glob("/dev/dri/renderD*"):
            return None
        return "no AMD GPU: `rocminfo` lists no gfx agent and /dev/kfd with /dev/dri/renderD* is absent"
    return f"unknown device kind {device!r}"


def jax_fallback_reason(device: str) -> Optional[str]:
    """Inside a cell: None when jax sees a GPU device (GPU_PLATFORMS: jax's names differ by version and plugin,
    not by vendor), else why not."""
    if device == "cpu":
        return None
    import jax

    platforms = {d.platform for d in jax.devices()}
    if platforms & set(GPU_PLATFORMS):
        return None
    return f"jax sees only {sorted(platforms)}: its {device} plugin found no device (a CPU fall-back is not a GPU result)"


def _gpu(jax: Any) -> Optional[Any]:
    device = jax.devices()[0]
    return device if device.platform in GPU_PLATFORMS else None


def peak_device_mb() -> Optional[float]:
    """Peak device memory jax's allocator handed out in this process (None where jax is not in use or runs
    on the CPU). Counts the cell's own process: pymc's per-chain processes (pymc-jax) are not in it."""
    jax = sys.modules.get("jax")
    if jax is None:
        return None
    device = _gpu(jax)
    stats = device.memory_stats() if device is not None else None
    return stats["peak_bytes_in_use"] / 2**20 if stats and "peak_bytes_in_use" in stats else None


def transfer_seconds(arrays: List[Any], draws_shape: tuple, repeats: int = 5) -> Dict[str, Any]:
    """Host-device copies a GPU cell pays apart from sampling: the model's data to the device, and an array
    the size of its draws (chains x draws x free values) back. Each is the median of `repeats` timed copies
    after an untimed one (which pays the allocator's first touch)."""
    import statistics

    import jax
    import jax.numpy as jnp
    import numpy as np

    device = _gpu(jax) or jax.devices()[0]
    # distinct device buffers: jax keeps a host copy of an array once fetched, so refetching one is free
    draws = [jax.device_put(jnp.full(draws_shape, float(i)), device) for i in range(repeats + 1)]
    jax.block_until_ready(draws)

    def median_s(copies: List[Any]) -> float:
        copies[0]()
        times = []
        for copy in copies[1:]:
            start = time.perf_counter()
            copy()
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    return {
        "platform": device.platform,
        "host_to_device_mb": sum(np.asarray(a).nbytes for a in arrays) / 2**20,
        "host_to_device_s": median_s([lambda: jax.block_until_ready([jax.device_put(a, device) for a in arrays])] * (repeats + 1)),
        "device_to_host_mb": draws[0].nbytes / 2**20,
        "device_to_host_s": median_s([lambda d=d: np.asarray(jax.device_get(d)) for d in draws]),
    }
