"""Cells side by side (harness.worker.scheduler): core sets, order, look-ahead, failures, pinning."""

import os
import subprocess
import sys
import threading
import time

import pytest

from harness.worker.scheduler import CellScheduler, CoreSets, can_pin, default_jobs, lookahead, pin, split


def test_split_gives_disjoint_sets_covering_the_cpus():
    assert split([0, 1, 2, 3], 2) == [(0, 2), (1, 3)]
    assert split([0, 1], 4) == [(0,), (1,)]  # never more sets than CPUs
    assert split([5], 1) == [(5,)]


def test_gpu_rows_run_one_cell_at_a_time():
    assert default_jobs(on_gpu=True) == 1


def test_one_job_is_not_pinned():
    cores = CoreSets(1, cpus=[0, 1])
    assert not cores.pinned and cores.cores_per_cell() is None and cores.size == 1


@pytest.mark.skipif(not can_pin(), reason="needs sched_setaffinity (Linux)")
def test_priority_takers_go_before_waiting_cells():
    cores = CoreSets(2, cpus=[0, 1])
    first, second = cores.acquire(), cores.acquire()
    order = []

    def take(name, priority):
        got = cores.acquire(priority=priority)
        order.append(name)
        cores.release(got)

    cell = threading.Thread(target=take, args=("cell", False))
    cell.start()
    time.sleep(0.05)
    speed = threading.Thread(target=take, args=("speed", True))
    speed.start()
    time.sleep(0.05)
    cores.release(first)
    cell.join(5)
    speed.join(5)
    cores.release(second)
    assert order == ["speed", "cell"]


@pytest.mark.skipif(not can_pin(), reason="needs sched_setaffinity (Linux)")
def test_cells_run_side_by_side_on_disjoint_cores_and_come_back_in_order():
    cores = CoreSets(2, cpus=[0, 1])
    running, peak, seen = set(), [0], []
    lock = threading.Lock()

    def run(key, cpus):
        with lock:
            assert not any(set(cpus) & set(other) for other in running), "two cells on one core"
            running.add(cpus)
            peak[0] = max(peak[0], len(running))
        time.sleep(0.05 if key % 3 else 0.15)
        with lock:
            running.discard(cpus)
        return key, cpus

    scheduler = CellScheduler(range(8), run, cores)
    for key in range(8):
        got, cpus = scheduler.result(key)
        seen.append(got)
        assert len(cpus) == 1
    assert seen == list(range(8)) and peak[0] == 2
    assert scheduler.stop() == []  # everything taken: nothing left to close


def test_lookahead_bounds_the_cells_evaluated_but_not_taken():
    started = []
    scheduler = CellScheduler(range(10), lambda key, cpus: started.append(key) or key, CoreSets(2, cpus=[0, 1]), lookahead=3)
    time.sleep(0.3)
    assert sorted(started) == [0, 1, 2]  # nobody took a result yet
    assert scheduler.result(0) == 0
    time.sleep(0.3)
    assert sorted(started) == [0, 1, 2, 3]
    left = scheduler.stop()
    assert sorted(left) == [1, 2, 3]  # evaluated, never taken: the caller closes their workers


def test_a_failure_is_raised_where_its_cell_is_taken_and_the_rest_carry_on():
    def run(key, cpus):
        if key == 1:
            raise RuntimeError("cell 1 broke")
        return key

    scheduler = CellScheduler(range(3), run, CoreSets(2, cpus=[0, 1]))
    assert scheduler.result(0) == 0
    with pytest.raises(RuntimeError, match="cell 1 broke"):
        scheduler.result(1)
    assert scheduler.result(2) == 2


def test_each_cell_evaluated_is_told_on_the_session_thread_while_it_waits():
    """The progress line of a cell evaluated ahead of its turn is written where pytest's capture can be lifted."""
    told = []

    def run(key, cpus):
        if key == 2:
            raise RuntimeError("cell 2 broke")
        time.sleep(0.3 if key == 0 else 0.05)  # the others finish while the session waits for cell 0
        return key * 10

    scheduler = CellScheduler(range(4), run, CoreSets(2, cpus=[0, 1]), lookahead=4,
                              on_evaluated=lambda key, result: told.append((key, result, threading.current_thread().name)))
    assert scheduler.result(0) == 0
    main = threading.current_thread().name
    assert (1, 10, main) in told and all(thread == main for _, _, thread in told)
    assert scheduler.result(1) == 10
    with pytest.raises(RuntimeError):
        scheduler.result(2)
    scheduler.result(3)
    assert sorted(key for key, _, _ in told) == [0, 1, 3]  # each once; a cell that raised is told where taken


@pytest.mark.skipif(not can_pin() or len(os.sched_getaffinity(0)) < 2, reason="needs 2 CPUs and sched_setaffinity")
def test_pin_moves_a_running_process_and_its_threads():
    child = subprocess.Popen([sys.executable, "-c", "import threading, time\n"
                              "threading.Thread(target=time.sleep, args=(30,), daemon=True).start(); time.sleep(30)"])
    try:
        time.sleep(0.5)
        cpu = sorted(os.sched_getaffinity(0))[-1]
        pin(child.pid, (cpu,))
        threads = os.listdir(f"/proc/{child.pid}/task")
        assert len(threads) == 2
        assert all(os.sched_getaffinity(int(t)) == {cpu} for t in threads)
    finally:
        child.kill()
        child.wait()


@pytest.mark.skipif(not can_pin(), reason="needs sched_setaffinity (Linux)")
def test_a_speed_round_alone_waits_for_running_cells_and_holds_back_new_ones():
    cores = CoreSets(2, cpus=[0, 1])
    running = cores.acquire()  # a cell being evaluated
    events = []

    class Worker:
        def pin(self, cpus):
            events.append(("pinned", cpus))

    def speed_round():
        with cores.borrowed(Worker(), alone=True):
            events.append("alone")
            time.sleep(0.1)
        events.append("done")
        time.sleep(0.1)  # the sets stay held for the next cell's rounds until given back
        events.append("released")
        cores.release_held()

    def next_cell():
        time.sleep(0.05)
        got = cores.acquire()
        events.append("next cell")
        cores.release(got)

    threads = [threading.Thread(target=speed_round), threading.Thread(target=next_cell)]
    for t in threads:
        t.start()
    time.sleep(0.15)
    assert events == []  # the speed round waits for the running cell; the next cell waits behind it
    cores.release(running)
    for t in threads:
        t.join(5)
    assert events[1:] == ["alone", "done", "released", "next cell"] and events[0][0] == "pinned"


@pytest.mark.skipif(not can_pin(), reason="needs sched_setaffinity (Linux)")
def test_speed_rounds_alone_drain_the_machine_once_per_look_ahead():
    cores = CoreSets(2, cpus=[0, 1])
    running, overlaps, drains = set(), [], []
    lock = threading.Lock()

    started = []

    def run(key, cpus):
        with lock:
            running.add(key)
            started.append(key)
        time.sleep(0.05 + 0.02 * (key % 3))
        with lock:
            running.discard(key)
        return key

    acquire_all = cores.acquire_all
    cores.acquire_all = lambda: drains.append(1) or acquire_all()

    class Worker:
        def pin(self, cpus):
            pass

    scheduler = CellScheduler(range(8), run, cores, lookahead=4, alone=True)
    for key in range(8):
        assert scheduler.result(key) == key
        # the whole look-ahead was evaluated side by side before its first round, the first one's included,
        # and no cell beyond it started before the look-ahead's rounds were done
        assert all(scheduler.futures[k].done() for k in range(key - key % 4, key - key % 4 + 4))
        time.sleep(0.02)  # the session records the cell and saves the results file before its rounds
        with cores.borrowed(Worker(), alone=True):
            assert max(started) < key - key % 4 + 4, started
            with lock:
                overlaps.append(set(running))  # nothing may be evaluated beside a round alone
            time.sleep(0.01)
    scheduler.stop()
    assert all(not o for o in overlaps)
    assert len(drains) == 2  # one per look-ahead of 4 cells (one per cell: 8)
    assert not cores.holding and len(cores.free) == 2  # stop() gave the held sets back


def test_tiers_that_time_alone_look_further_ahead_where_the_memory_allows():
    assert lookahead(2, alone=False, memory_gb=100) == 4  # side by side: twice the cells at once
    assert lookahead(2, alone=True, memory_gb=100) == 8  # one drain per 8 cells, not per 4
    assert lookahead(2, alone=True, memory_gb=9) == 6  # six idle workers of up to 1.5 GB fit
    assert lookahead(2, alone=True, memory_gb=2) == 4  # never less than the cores need
    assert lookahead(1, alone=True, memory_gb=0) == 2  # no /proc/meminfo: as before
