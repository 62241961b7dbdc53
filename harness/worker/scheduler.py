"""Cells side by side: each on its own CPUs, so the machine's cores stay busy and no two cells share one.

A row's cells are independent, and most of a cell's time (starting the worker, importing the stack,
building and compiling the model, pymc's NUTS, which runs chains one after another on a 2-core machine)
keeps one core busy. So `jobs` cells are evaluated at once, in threads of the session (the work itself
runs in each cell's worker process), and every worker is pinned to a core set of its own: the usable CPUs
split into `jobs` disjoint sets. A cell's samplers are told how many cores they have
(`SampleConfig.cores`), so the chains never outnumber the cores; timings are therefore taken on a fixed
share of the machine, one core per cell on a 2-core one, never against another cell.

pytest still walks the cells in order: `result(key)` hands the session thread a cell evaluated ahead of
it (at most `lookahead` cells are evaluated but not yet taken, since each keeps an idle worker for its
speed test). The speed test borrows a core set with priority and re-pins the worker to it (`cores()`).
GPU rows run one cell at a time: their cells share one device.

Tiers that time alone (`speed_alone`) take every core set for a cell's speed rounds, which means waiting
for the cells being evaluated to finish while cores go idle. Paid once per cell, that drain doubled a
timeline point (14 minutes on 2 cores, half of it idle). So the session keeps the core sets between speed
rounds while the next cells are evaluated already, and when it reaches one that is not, it gives them back
and lets the whole look-ahead be evaluated side by side before the next rounds alone: one drain per
look-ahead's worth of cells. Each drain leaves a core idle behind the look-ahead's last cell (10-30 s), so
those tiers look twice as far ahead where the memory for the idle workers is there (`lookahead`).
"""

from __future__ import annotations

import os
import queue
import threading
from concurrent.futures import FIRST_COMPLETED, Future, wait
from contextlib import contextmanager
from typing import Any, Callable, Dict, Hashable, Iterable, List, Optional, Tuple

CoreSet = Tuple[int, ...]
TELL_EVERY_S = 1.0  # how often the session thread, waiting for a cell, looks for others evaluated meanwhile


def usable_cpus() -> List[int]:
    """The CPUs this process may run on (all of them where affinity is not supported)."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def can_pin() -> bool:
    return hasattr(os, "sched_setaffinity")


def default_jobs(on_gpu: bool) -> int:
    """One cell per usable core on CPU rows (where cores can be pinned); one at a time on GPU rows."""
    return 1 if on_gpu or not can_pin() else len(usable_cpus())


# The most one evaluated cell's idle worker holds while it waits for its speed test: 1.35 GB was the largest
# in a timeline point of cpu-pymc5 (radon x numpyro-vectorized), 0.8 GB the mean.
WORKER_MEMORY_GB = 1.5


def meminfo_mb(field: str) -> Optional[float]:
    """A field of Linux's /proc/meminfo in MB (MemTotal, MemAvailable: what can still be allocated without
    swapping), or None where it cannot be read."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def lookahead(jobs: int, alone: bool, memory_gb: Optional[float] = None) -> int:
    """How many cells may be evaluated ahead of the session, each keeping an idle worker until its speed
    test: twice the cells at once keeps the cores busy; tiers that time alone drain the machine once per
    look-ahead, so they look up to four times as far where the memory allows."""
    base = 2 * jobs
    if not alone:
        return base
    if memory_gb is None:
        memory_gb = (meminfo_mb("MemAvailable") or 0.0) / 1024.0
    room = int(memory_gb // WORKER_MEMORY_GB)
    return max(base, min(4 * jobs, room))


def split(cpus: List[int], jobs: int) -> List[CoreSet]:
    """`jobs` disjoint core sets as even as the CPUs allow (jobs beyond the CPU count share nothing: capped)."""
    jobs = max(1, min(jobs, len(cpus)))
    return [tuple(cpus[i::jobs]) for i in range(jobs)]


def pin(pid: int, cpus: Optional[CoreSet]) -> None:
    """Move every thread of process `pid` onto `cpus` (processes it starts later inherit them)."""
    if cpus is None or not can_pin():
        return
    try:
        threads = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        threads = [pid]
    for tid in threads:
        try:
            os.sched_setaffinity(tid, cpus)
        except OSError:
            pass  # the thread ended meanwhile


class CoreSets:
    """The core sets, handed out one per running computation; `priority` takers go first."""

    def __init__(self, jobs: int, cpus: Optional[List[int]] = None):
        cpus = usable_cpus() if cpus is None else cpus
        self.pinned = jobs > 1 and can_pin()
        self.free: List[CoreSet] = split(cpus, jobs) if self.pinned else [tuple(cpus)]
        self.size = len(self.free)
        self._per_set = len(self.free[0])
        self._cond = threading.Condition()
        self._priority_waiting = 0
        self._held: Optional[List[CoreSet]] = None  # every set, kept by the session between speed rounds alone

    @property
    def holding(self) -> bool:
        return self._held is not None

    def acquire(self, priority: bool = False) -> CoreSet:
        with self._cond:
            if priority:
                self._priority_waiting += 1
            try:
                while not self.free or (not priority and self._priority_waiting):
                    self._cond.wait()
                return self.free.pop(0)
            finally:
                if priority:
                    self._priority_waiting -= 1

    def acquire_all(self) -> List[CoreSet]:
        """Every core set, with priority: the running cells finish, no new one starts until release_all."""
        with self._cond:
            self._priority_waiting += 1
            try:
                while len(self.free) < self.size:
                    self._cond.wait()
                taken, self.free = self.free, []
                return taken
            finally:
                self._priority_waiting -= 1

    def release_all(self, taken: List[CoreSet]) -> None:
        with self._cond:
            self.free.extend(taken)
            self._cond.notify_all()

    def release(self, cores: CoreSet) -> None:
        with self._cond:
            self.free.append(cores)
            self._cond.notify_all()

    def hold(self) -> None:
        """Take every core set and keep it (the running cells finish first): nothing starts until release_held."""
        if self._held is None:
            self._held = self.acquire_all()

    def release_held(self) -> None:
        """Give back the sets kept after a speed round alone (the session is about to wait for cells)."""
        held, self._held = self._held, None
        if held is not None:
            self.release_all(held)

    @contextmanager
    def borrowed(self, worker: Any, alone: bool = False):
        """A core set for the session thread's own work on a cell's live worker (its speed rounds), ahead
        of cells waiting to start; the worker is moved onto it. `alone`: every core set is taken, so nothing
        runs beside the worker (it still runs on one set: its figures keep their meaning), and they stay
        taken afterwards until `release_held` (the next cell's rounds need not drain the machine again).
        Unpinned: nothing to borrow."""
        if not self.pinned:
            yield None
            return
        if alone:
            self.hold()
            worker.pin(self._held[0])
            yield self._held[0]
            return
        self.release_held()
        taken = [self.acquire(priority=True)]
        try:
            worker.pin(taken[0])
            yield taken[0]
        finally:
            self.release_all(taken)

    def cores_per_cell(self) -> Optional[int]:
        """How many cores a cell's sampler is told it has (None: unpinned, the library's own default)."""
        return self._per_set if self.pinned else None  # fixed at the start, whichever sets are out now


class CellScheduler:
    """Evaluates `keys` in order, `jobs` at a time, each under a core set: `run(key, cores)` does the work.

    `on_evaluated(key, result)`, if given, hears of each cell evaluated without error, on the session thread
    while it waits in `result` (so a test's output capture can be lifted safely there), in the order they
    finished."""

    def __init__(self, keys: Iterable[Hashable], run: Callable[[Hashable, Optional[CoreSet]], Any],
                 cores: CoreSets, lookahead: Optional[int] = None, alone: bool = False,
                 on_evaluated: Optional[Callable[[Hashable, Any], None]] = None):
        self.keys = list(keys)
        self.run = run
        self.cores = cores
        self.lookahead = lookahead or 2 * cores.size
        self.alone = alone  # the session times each cell alone: it takes cells a whole look-ahead at a time
        self.on_evaluated = on_evaluated
        self._evaluated: "queue.SimpleQueue[Hashable]" = queue.SimpleQueue()  # told on the session thread
        self.futures: Dict[Hashable, Future] = {key: Future() for key in self.keys}
        self._next = 0        # the next key a thread takes
        self._taken: List[Hashable] = []  # keys the session thread has taken the results of
        self._stopped = False
        self._cond = threading.Condition()
        self._threads = [threading.Thread(target=self._loop, name=f"cell-scheduler-{i}", daemon=True)
                         for i in range(cores.size)]
        for thread in self._threads:
            thread.start()

    def _loop(self) -> None:
        while True:
            with self._cond:
                # in order, and never more than `lookahead` ahead of the session: the next key the session
                # waits for is always within reach, so it cannot wait on keys behind it
                while not self._stopped and self._next < len(self.keys) and self._next >= len(self._taken) + self.lookahead:
                    self._cond.wait()
                if self._stopped or self._next >= len(self.keys):
                    return
                key = self.keys[self._next]
                self._next += 1
            future = self.futures[key]
            if not future.set_running_or_notify_cancel():
                continue
            cores = self.cores.acquire() if self.cores.pinned else None
            try:
                future.set_result(self.run(key, cores))
                self._evaluated.put(key)
            except BaseException as exc:  # the session thread re-raises it where the cell's test runs
                future.set_exception(exc)
            finally:
                if cores is not None:
                    self.cores.release(cores)

    def result(self, key: Hashable) -> Any:
        """The evaluated cell (waits for it); keys are taken in the order given."""
        if (self.alone or self.cores.holding) and not (self.cores.holding and self.futures[key].done()):
            # speed rounds alone come next (or held the cores until now): evaluate the whole look-ahead side by
            # side first, or the rounds would drain the machine after the few cells started by then
            self.cores.release_held()
            with self._cond:
                startable = self.keys[self.keys.index(key):len(self._taken) + self.lookahead]
            self._wait([self.futures[k] for k in startable])
            if self.alone:  # taking this key lets the look-ahead move on: no cell may start before the rounds
                self.cores.hold()
        try:
            self._wait([self.futures[key]])
            return self.futures[key].result()
        finally:
            with self._cond:
                self._taken.append(key)
                self._cond.notify_all()

    def _wait(self, futures: List[Future]) -> None:
        """Wait for `futures`, telling each cell evaluated meanwhile (any cell) as it comes."""
        pending = set(futures)
        while pending:
            _, pending = wait(pending, timeout=TELL_EVERY_S, return_when=FIRST_COMPLETED)
            self._tell()
        self._tell()

    def _tell(self) -> None:
        while True:
            try:
                key = self._evaluated.get_nowait()
            except queue.Empty:
                return
            if self.on_evaluated is not None:
                self.on_evaluated(key, self.futures[key].result())

    def stop(self) -> List[Any]:
        """No new cells start; returns the results already evaluated but never taken (to close their workers)."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        self.cores.release_held()
        left = [f for key, f in self.futures.items() if key not in self._taken]
        for future in left:
            future.cancel()
        return [f.result() for f in left if f.done() and not f.cancelled() and f.exception() is None]
