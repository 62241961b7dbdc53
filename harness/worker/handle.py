"""The parent's handle on a cell's worker process; whatever happens to the worker becomes the cell's status.

The worker (harness.worker.child) gets its own process group, so a timeout kills the sampler's processes too.
Each command has a time limit. Statuses beyond the worker's own replies: `timeout` when a reply does not
come in time, `crashed` when the worker dies without replying (segfault, out-of-memory kill, abort).
The tail of the worker's log goes with every status but `sampled`.

Memory: while it waits, the parent sums the resident memory of the worker's process group and kills the
group past the tier's `memory_limit_mb` (default 80% of the machine's memory), recording `crashed` with
"out of memory". The worker also volunteers to the kernel's OOM killer (oom_score_adj), so should memory
run out before the watchdog sees it, the kernel kills a cell rather than the session that records it.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

from harness.common.environment import THREAD_ENV
from harness.worker.results import utc_now
from harness.worker.scheduler import meminfo_mb, pin

TAIL_CHARS = 3000
REPO_ROOT = Path(__file__).resolve().parent.parent.parent
MEMORY_POLL_S = 0.5
DEFAULT_MEMORY_FRACTION = 0.8


def group_rss_mb(pgid: int) -> float:
    """Resident memory of every process in a process group (Linux /proc; 0 where it cannot be read)."""
    total_pages = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()  # after "pid (comm)": state ppid pgrp ...
        except (OSError, IndexError):
            continue  # the process ended while we looked
        if len(fields) > 21 and int(fields[2]) == pgid:
            total_pages += int(fields[21])
    return total_pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def child_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    env = dict(os.environ)
    env.update(THREAD_ENV)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH", "")]))
    env.update(extra or {})
    return env


def _describe_exit(code: Optional[int]) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (killed: out of memory?)" if name == "SIGKILL" else ""
        return f"died from {name}{hint}"
    return f"exited with code {code} without replying"


LIVE: "weakref.WeakSet[WorkerHandle]" = weakref.WeakSet()  # for kill_all: workers run in sessions of their own
STOPPING = []  # set by kill_all(stop_new=True): no worker starts any more (the session is ending)
_STARTING = threading.Lock()  # a worker is started and registered, or refused, never half of it


class SessionStopping(RuntimeError):
    pass


def kill_all(stop_new: bool = False) -> None:
    """Kill every worker still running (an interrupted session: cells evaluated ahead must not outlive it);
    with `stop_new`, a cell evaluated in another thread cannot start a new one after this."""
    with _STARTING:
        if stop_new:
            STOPPING.append(True)
        running = list(LIVE)
    for handle in running:
        handle.kill()


class WorkerHandle:
    """A cell's worker process, seen from the parent. `call` sends one command and returns the reply, or a timeout/crash status.

    `cpus`: the core set the worker and every process it starts run on (harness.worker.scheduler)."""

    def __init__(self, spec: Dict[str, Any], python: str = sys.executable, module: str = "harness.worker.child",
                 env: Optional[Dict[str, str]] = None, memory_limit_mb: Optional[float] = None,
                 cpus: Optional[Tuple[int, ...]] = None):
        with _STARTING:
            if STOPPING:
                raise SessionStopping("the session is ending: no new cell worker starts")
            self._start(spec, python, module, env, cpus)
        machine = meminfo_mb("MemTotal")
        self.memory_limit_mb = memory_limit_mb or (machine * DEFAULT_MEMORY_FRACTION if machine else None)

    def _start(self, spec: Dict[str, Any], python: str, module: str, env: Optional[Dict[str, str]],
               cpus: Optional[Tuple[int, ...]]) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="cell-")
        tmpdir = Path(self._tmp.name)
        (tmpdir / "spec.json").write_text(json.dumps(spec))
        self.log_path = tmpdir / "output.log"
        self._log = open(self.log_path, "w")
        self.started = time.perf_counter()
        self.started_at = utc_now()  # where the cell sits in the run
        self.proc = subprocess.Popen(
            [python, "-m", module, str(tmpdir / "spec.json")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
            env=child_env(env), cwd=str(REPO_ROOT), start_new_session=True, text=True,
        )
        self.cores = len(cpus) if cpus is not None else None  # None: not pinned, the machine's
        self.pin(cpus)  # at once, while the worker is still one thread importing its stack
        LIVE.add(self)
        self.dead: Optional[Dict[str, Any]] = None  # the status that ended it, once it is gone

    def pin(self, cpus: Optional[Tuple[int, ...]]) -> None:
        """Run the worker (every thread; the sampler processes it starts inherit it) on these CPUs."""
        if self.proc.poll() is None:
            pin(self.proc.pid, cpus)

    def tail(self) -> str:
        self._log.flush()
        try:
            return self.log_path.read_text(errors="replace")[-TAIL_CHARS:]
        except OSError:
            return ""

    def call(self, request: Dict[str, Any], timeout_s: float) -> Dict[str, Any]:
        if self.dead:
            return dict(self.dead)
        try:
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            return self._died()
        try:
            failure = self._wait_for_reply(request["op"], timeout_s)
            if failure:
                self.kill()
                self.dead = dict(failure, output=self.tail())
                return dict(self.dead)
            line = self.proc.stdout.readline()
        except BaseException:  # Ctrl-C: take the sampler's processes down with us
            self.kill()
            raise
        if not line:
            return self._died()
        reply = json.loads(line)
        if reply.get("status") not in ("sampled", "ok"):
            reply["output"] = self.tail()
        return reply

    def _wait_for_reply(self, op: str, timeout_s: float) -> Optional[Dict[str, str]]:
        """None once a reply is ready to read, else the status that ends the cell (timeout, out of memory)."""
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return {"status": "timeout", "reason": f"no reply to {op!r} within {timeout_s:g} s; killed"}
            if select.select([self.proc.stdout], [], [], min(remaining, MEMORY_POLL_S))[0]:
                return None
            if self.memory_limit_mb and self.proc.poll() is None:
                used = group_rss_mb(self.proc.pid)
                if used > self.memory_limit_mb:
                    return {"status": "crashed", "reason": f"out of memory: the cell's processes held {used:.0f} MB, "
                                                           f"over the limit of {self.memory_limit_mb:.0f} MB; killed"}

    def _died(self) -> Dict[str, Any]:
        code = self.proc.wait()
        self.kill()
        self.dead = {"status": "crashed", "reason": _describe_exit(code), "output": self.tail()}
        return dict(self.dead)

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()

    def close(self) -> None:
        """End the worker and every process it started. Between requests it only waits for the next line, so
        a kill loses nothing, and it is quicker than the interpreter's own shutdown (JAX's takes a second or
        more), which the next cell's speed rounds alone would otherwise wait for."""
        self.kill()
        self._log.close()
        self._tmp.cleanup()

    @property
    def age_s(self) -> float:
        return time.perf_counter() - self.started

    def __enter__(self) -> "WorkerHandle":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
