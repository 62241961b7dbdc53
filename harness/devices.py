"""Is there a GPU of the row's kind on this machine? Asked before any accelerator wheel is installed.

Two questions, asked at two moments:
- before install (host side, `missing_reason`): driver tools or device files of the kind exist;
- inside every cell of a GPU row (`jax_fallback_reason`): jax really runs on that device. jax falls back
  to the CPU silently when its plugin finds no device, and a GPU row must never report that as a GPU result.
"""

from __future__ import annotations

import glob
import shutil
import subprocess
from typing import Optional

PROBE_TIMEOUT_S = 20


def _command_lists_gpu(cmd, marker: str) -> bool:
    if shutil.which(cmd[0]) is None:
        return False
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S)
    except (subprocess.TimeoutExpired, OSError):
        return False
    return out.returncode == 0 and marker in out.stdout


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
    """Inside a cell: None when jax's default backend is the row's GPU, else why not."""
    if device == "cpu":
        return None
    import jax

    platforms = {d.platform for d in jax.devices()}
    if platforms & {"gpu", "cuda", "rocm"}:
        return None
    return f"jax sees only {sorted(platforms)}: its {device} plugin found no device (a CPU fall-back is not a GPU result)"
