"""Compare two states of a row on one machine: is the candidate B slower, faster or the same as the baseline A?

    nox -s compare -- ROW --baseline A --candidate B [--model M] [--backend B] [--attribute] [--sample]
        [--judge sample_s]

A and B are each a date (the row as of that day, harness.host.install.install_as_of), a lock file (its
hashed pins) or a results file (the versions its fingerprint names: fingerprint.packages, else
fingerprint.install.resolved). Both environments are built under .nox/compare/. Then, for the cell:

1. status: the timeline tier's correctness run in each environment (`--tier timeline --no-speed`); a
   different status (passed -> failed, error, known-failure, unavailable) is reported as a status change.
   The suite's seed gives the same draws as the run being checked, so a `failed` (a statistical verdict)
   is run again at FRESH_SEEDS: it stands if a fresh seed fails too, and is told as a chance failure of
   the suite's seed if every fresh seed passes;
2. speed: interleaved, randomized repetitions. A repetition is a pair of fresh timing processes
   (harness.worker.timing --serve), one per environment, started together; their batches of gradient
   calls (and, with --sample, their warm sampling calls) alternate AB BA AB ..., so a change in the
   machine's own speed falls on both. Pairs come in ABBA / BAAB blocks whose orientation is drawn at
   random; sequential looks at fixed numbers of pairs (harness.host.abtest: Pocock-type alpha spending,
   union bound) run until a verdict or the cap. The judged metric drives the looks: seconds per gradient
   evaluation by default, or with `--judge sample_s` the warm sampling time itself (more pairs: LOOKS);
   compile time (and, with --sample, sample_s and the sampler's overhead per step) is reported over the
   same pairs at the last look's level, beside the exact counts of both sides.
3. with --attribute and a confirmed change between two dates: harness.host.attribution names the release.

The human lines go to the log; the whole comparison goes to a JSON file (printed at the end).
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import random
import re
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Collection, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from harness.common.environment import THREAD_ENV, compile_cache_env
from harness.common.statuses import ERROR, FAILED, PASSED, UNAVAILABLE
from harness.host import abtest

ROOT = Path(__file__).resolve().parent.parent.parent
WORKDIR = ROOT / ".nox" / "compare"
PROBE_TIMEOUT_S = 900
PRIMARY = "seconds_per_grad_eval"
# metric -> the probe reply's key (nested keys joined by "."), lower is better for every one
METRICS = {PRIMARY: "median_s", "compile_s": "compile_s", "sample_s": "sample.sample_s",
           "overhead_per_step_s": "sample.overhead_per_step_s"}
SAMPLE_CALLS = 2  # warm sampling calls per process and pair (--sample), alternated like the batches
# The metrics a comparison can be judged by (--judge) -> the pairs at each look. The gradient's 5/8/12
# decides a 10% step at the first look (docs/verdicts.md). Warm sampling of pymc's Python NUTS differs
# between two processes by a few percent that lasts each process's life, which alternating calls cannot
# remove and only more pairs average out: a pair's ln B/A has an sd of 0.16 on conjugate, where the
# gradient's is 0.05, and 10/20/30 pairs confirmed an exact 10% in only 53% of comparisons, 20/40/60 in
# 92% (docs/verdicts.md, "sample_s judged by itself").
LOOKS = {PRIMARY: abtest.Plan().looks, "sample_s": (20, 40, 60)}
# A sample_s change point is confirmed by sample_s itself where that fits 20 minutes of pairs: a pair is
# about 12 s (two processes' start, 20 batches a side) plus each side's cold call and SAMPLE_CALLS warm ones,
# so 60 pairs x (12 s + 6 t) <= 1200 s for a warm call of t <= 1.3 s. Longer cells are confirmed through
# the gradient's time and the exact counts (--sample).
DIRECT_SAMPLE_S = 1.3
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
A, B = "A", "B"


# --------------------------------------------------------------------------------------------------------
# The timing probe, one fresh process


def probe_command(python: str, spec: Dict[str, Any]) -> List[str]:
    return [python, "-m", "harness.worker.timing", json.dumps(spec)]


def probe_env(device: str = "cpu") -> Dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), **THREAD_ENV)
    for key, value in compile_cache_env().items():  # the cells' compile caches (PYMC_MATRIX_CACHE), unless set
        env.setdefault(key, value)
    if device == "cpu":
        env["JAX_PLATFORMS"] = "cpu"
    return env


class ServedProbe:
    """One timing process in --serve mode (harness.worker.timing): it answers one request a line, so two of
    them, one per environment, can be alternated batch by batch. Its replies are read unbuffered (a line
    left in a reader's buffer is one select() would never report); its library output goes to a file (a
    pipe nobody reads would fill and stop it), whose tail explains a crash."""

    def __init__(self, command: List[str], device: str = "cpu"):
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(command + ["--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log, bufsize=0, env=probe_env(device))
        self.pending = b""

    def _line(self, deadline: float) -> Optional[bytes]:
        """The next line; b"" at the end of its output, None when the deadline passed first."""
        while b"\n" not in self.pending:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.proc.stdout], [], [], left)[0]:
                return None
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                return b""
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return line + b"\n"

    def reply(self, timeout_s: float) -> Dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            line = self._line(deadline)
            if line is None:
                return {"status": "timeout", "reason": f"the timing probe did not answer within {timeout_s:.0f} s"}
            if not line:
                self.proc.wait()
                self.log.seek(0)
                tail = self.log.read().decode(errors="replace").strip()[-500:]
                return {"status": "crashed", "reason": f"exit {self.proc.returncode}: {tail}"}
            if line.strip().startswith(b"{"):
                return json.loads(line)

    def ask(self, request: Dict[str, Any], timeout_s: float) -> Dict[str, Any]:
        try:
            self.proc.stdin.write((json.dumps(request) + "\n").encode())
        except BrokenPipeError:
            pass  # it ended: reply() says how
        return self.reply(timeout_s)

    def end_input(self) -> None:
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass

    def close(self) -> None:
        self.end_input()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def close_all(probes: Iterable[ServedProbe]) -> None:
    """End every process's input first, then wait: the processes' exits (about a second each: the
    interpreter's teardown of pymc) overlap instead of adding up."""
    probes = list(probes)
    for probe in probes:
        probe.end_input()
    for probe in probes:
        probe.close()


class ProbeFailed(Exception):
    def __init__(self, side: str, reply: Dict[str, Any]):
        super().__init__(reply.get("reason"))
        self.side, self.reply = side, reply

    def replies(self, order: Sequence[str]) -> Dict[str, Dict[str, Any]]:
        """The pair's replies: the failing side's own, and for the other a note that the pair was cut short."""
        return {side: self.reply if side == self.side else {"status": "error", "reason": "the other side failed"}
                for side in order}


def interleave(probes: Dict[str, ServedProbe], order: Sequence[str], n: int, request: Callable[[str], Dict[str, Any]],
               timeout_s: float = PROBE_TIMEOUT_S) -> Dict[str, List[Dict[str, Any]]]:
    """n requests to each probe, alternating in ABBA order from `order` (AB, BA, AB, ...): each side's k-th
    answer is taken next to the other's, so the machine's changes of speed fall on both alike."""
    out: Dict[str, List[Dict[str, Any]]] = {side: [] for side in order}
    for i in range(n):
        for side in (order if i % 2 == 0 else order[::-1]):
            reply = probes[side].ask(request(side), timeout_s)
            if reply.get("status") != "ok":
                raise ProbeFailed(side, reply)
            out[side].append(reply)
    return out


def start_pair(commands: Dict[str, List[str]], order: Sequence[str], device: str = "cpu",
               timeout_s: float = PROBE_TIMEOUT_S) -> Tuple[Dict[str, ServedProbe], Dict[str, Dict[str, Any]]]:
    """Both processes of a pair, started together (their imports and compiles overlap; nothing is timed
    until both are ready), and their `ready` replies. Raises ProbeFailed where one is not ready."""
    probes = {side: ServedProbe(commands[side], device) for side in order}
    ready = {side: probes[side].reply(timeout_s) for side in order}
    for side in order:
        if ready[side].get("status") != "ready":
            close_all(probes.values())
            raise ProbeFailed(side, ready[side])
    return probes, ready


def figures(ready: Dict[str, Any], batches: List[Dict[str, Any]], samples: List[Dict[str, Any]], inject: float,
            wall_s: float) -> Dict[str, Any]:
    """One side's reply of a pair, in the shape of a whole probe's (harness.worker.timing.probe)."""
    from harness.worker.timing import sample_summary, summary

    out = dict(ready, status="ok", inject=inject, wall_s=wall_s,
               **summary([b["median_s"] for b in batches], [b["mean_s"] for b in batches], ready["calls_per_batch"],
                         ready["warmup_median_s"]))
    if samples:
        out["sample"] = sample_summary(samples, out["median_s"])
    return out


def run_pair(commands: Dict[str, List[str]], order: Sequence[str], batches: int, injects: Dict[str, float],
             sample_calls: int = 0, device: str = "cpu", timeout_s: float = PROBE_TIMEOUT_S) -> Dict[str, Dict[str, Any]]:
    """One pair: a fresh process per side, their batches (and sampling calls) alternated. {side: reply}; a
    side that failed gets its own reply, the other a note that the pair was cut short."""
    started = time.monotonic()
    try:
        probes, ready = start_pair(commands, order, device, timeout_s)
    except ProbeFailed as failed:
        return failed.replies(order)
    try:
        timed = interleave(probes, order, batches, lambda side: {"op": "batch", "inject": injects.get(side, 0.0)}, timeout_s)
        sampled = interleave(probes, order, sample_calls, lambda side: {"op": "sample", "inject": injects.get(side, 0.0)},
                             timeout_s) if sample_calls else {side: [] for side in order}
    except ProbeFailed as failed:
        return failed.replies(order)
    finally:
        close_all(probes.values())
    wall_s = time.monotonic() - started
    return {side: figures(ready[side], timed[side], sampled[side], injects.get(side, 0.0), wall_s) for side in order}


def metric_value(reply: Dict[str, Any], key: str) -> Optional[float]:
    value = abtest.figure(reply, key)
    return float(value) if isinstance(value, (int, float)) and value > 0 else None


# --------------------------------------------------------------------------------------------------------
# The two sides


@dataclass(frozen=True)
class Side:
    kind: str  # "date", "lock" or "results"
    value: str

    @property
    def label(self) -> str:
        return self.label_of(self.value)

    @staticmethod
    def label_of(value: str) -> str:
        """A date names itself; a file (lock or results) by its stem."""
        return value if DATE.match(value) else Path(value).stem

    @classmethod
    def parse(cls, text: str) -> "Side":
        if DATE.match(text):
            datetime.date.fromisoformat(text)  # a malformed date raises ValueError
            return cls("date", text)
        path = Path(text)
        if not path.is_file():
            raise ValueError(f"{text!r} is neither a date (YYYY-MM-DD) nor a file")
        if path.suffix == ".json":
            return cls("results", str(path.resolve()))
        return cls("lock", str(path.resolve()))


def results_pins(path: Path, exclude: Sequence[str] = ()) -> Dict[str, str]:
    """The versions a results file names: every installed package of its fingerprint (else the row's
    resolved ones), less the harness's own tools (`exclude`: their distribution names)."""
    fingerprint = json.loads(Path(path).read_text())["fingerprint"]
    pins = fingerprint.get("packages") or (fingerprint.get("install") or {}).get("resolved") or {}
    skip = {name.lower() for name in exclude}
    return {name: version for name, version in pins.items() if name.lower() not in skip and version}


def current_measurement() -> Optional[str]:
    try:
        from harness.common.measurement import MEASUREMENT_VERSION
    except ImportError:
        return None
    return f"measurement version {MEASUREMENT_VERSION}"


def harness_version(side: Side) -> Optional[str]:
    """How the harness measured a side: a date or a lock is measured now, by this harness; a results file
    by the measurement version it records (else the harness commit of its install record)."""
    if side.kind != "results":
        return current_measurement()
    data = json.loads(Path(side.value).read_text())
    if data.get("measurement_version") is not None:
        return f"measurement version {data['measurement_version']}"
    commit = ((data.get("fingerprint") or {}).get("install") or {}).get("commit")
    return f"commit {commit}" if commit else None


# --------------------------------------------------------------------------------------------------------
# Interleaving and the sequential comparison


def pair_orders(rng: random.Random) -> Iterator[Tuple[str, str]]:
    """Pairs in ABBA / BAAB blocks, each block's orientation drawn at random."""
    while True:
        first = rng.choice([(A, B), (B, A)])
        yield first
        yield first[::-1]


def compare_speed(run: Callable[[Tuple[str, str]], Dict[str, Dict[str, Any]]], plan: abtest.Plan, rng: random.Random,
                  metrics: Sequence[str] = (PRIMARY, "compile_s"), log: Callable[[str], None] = print,
                  max_failures: int = 3, judged: str = PRIMARY) -> Dict[str, Any]:
    """Run pairs (run(order): {A: reply, B: reply}, the sides interleaved from the drawn order, run_pair)
    until the `judged` metric's sequential plan decides. Returns every repetition, the decision, and each
    metric's summary."""
    reps: List[Dict[str, Any]] = []
    pairs: List[Dict[str, Dict[str, Any]]] = []
    failures: List[Dict[str, Any]] = []
    orders = pair_orders(rng)
    decision = None
    look = 0
    while look < len(plan.looks):
        order = next(orders)
        pair = run(order)
        for side in order:
            reps.append({"side": side, "pair": len(pairs), "reply": pair[side]})
        if abtest.pair_log_ratio(pair[A], pair[B], METRICS[judged]) is None:
            failures.append(pair)
            log(f"compare: pair {len(pairs) + len(failures)}: a probe failed: "
                f"{'; '.join(str(pair[s].get('reason')) for s in (A, B) if pair[s].get('status') != 'ok')}")
            if len(failures) >= max_failures:
                break
            continue
        pairs.append(pair)
        if len(pairs) == plan.looks[look]:
            diffs = [abtest.pair_log_ratio(p[A], p[B], METRICS[judged]) for p in pairs]
            decision = abtest.judge(diffs, plan, look)
            log(f"compare: look {look + 1}/{len(plan.looks)} at {len(pairs)} pairs: {judged} B/A {decision.interval.ratio:.3f} "
                f"[{decision.interval.low:.3f}, {decision.interval.high:.3f}] -> {decision.verdict}")
            if decision.final:
                break
            look += 1
    out: Dict[str, Any] = {"plan": {"looks": list(plan.looks), "alpha": plan.alpha, "alpha_same": plan.alpha_same,
                                    "margin": plan.margin, "spending": plan.spending},
                           "judged": judged, "pairs": len(pairs), "failed_pairs": len(failures), "repetitions": reps}
    if decision is None:
        out["decision"] = {"verdict": "error" if failures else abtest.UNDECIDED,
                           "reason": "the probes failed" if failures else "too few pairs for a look"}
        return out
    out["decision"] = decision.to_dict()
    out["metrics"] = {}
    for name in metrics:
        kept = [(p, d) for p in pairs for d in [abtest.pair_log_ratio(p[A], p[B], METRICS[name])] if d is not None]
        if len(kept) >= 3:
            values = [(metric_value(p[A], METRICS[name]), metric_value(p[B], METRICS[name])) for p, _ in kept]
            out["metrics"][name] = abtest.summarize(name, values, plan, [d for _, d in kept]).to_dict()
    return out


def counts_of(reply: Dict[str, Any]) -> Dict[str, Any]:
    """The exact counts of a probe's sampling run (--sample)."""
    sample = reply.get("sample") or {}
    return {k: sample.get(k) for k in ("grad_evals_per_draw", "tree_depth", "divergences", "grad_evals")}


# A correct cell fails at one seed with probability <= 0.5% (harness.worker.verdict), so a chance failure at
# the suite's seed is taken for a break when one of two fresh seeds fails too: <= 1%. A break caught at one
# seed with probability p is confirmed with 1 - (1 - p)^2.
FRESH_SEEDS = (1, 2)


def confirmed_status(cell: Dict[str, Any], fresh: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    """The cell's status after its `failed` was run again at FRESH_SEEDS (`fresh`: those runs' cells): failed
    if a fresh seed failed too or did not pass, else passed with the chance failure said."""
    if cell.get("status") != "failed" or not fresh:
        return cell
    seeds = ", ".join(f"{seed}: {c.get('status')}" for seed, c in zip(FRESH_SEEDS, fresh))
    if all(c.get("status") == "passed" for c in fresh):
        return dict(cell, status="passed", reason=None,
                    chance_failure=f"failed at the suite's seed only (fresh seeds {seeds}): {cell.get('reason')}")
    return dict(cell, fresh_seeds=seeds)


def status_change(before: Optional[Dict[str, Any]], after: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """A status change of the cell between A and B, or None when both have the same status."""
    was, now = (before or {}).get("status"), (after or {}).get("status")
    if was == now:
        return None
    kind = "status regression" if was == "passed" else "fixed" if now == "passed" else "status change"
    return {"kind": kind, "before": was, "after": now, "reason": (after or {}).get("reason")}


def render(result: Dict[str, Any]) -> List[str]:
    """The human lines of a comparison."""
    lines = [f"compare {result['row']} {result['model']} {result['backend']}: "
             f"A = {result['baseline']['label']} ({result['baseline']['kind']}), B = {result['candidate']['label']} "
             f"({result['candidate']['kind']})"]
    change = result.get("status_change")
    if result.get("status"):
        if change:
            lines.append(f"  status: {change['kind']}: {change['before']} -> {change['after']}"
                         + (f" ({change['reason'][:200]})" if change.get("reason") else ""))
        else:
            lines.append(f"  status: unchanged ({result['status'].get(A, {}).get('status')})")
        for side in (A, B):
            chance = result["status"].get(side, {}).get("chance_failure")
            if chance:
                lines.append(f"  status {side}: a chance failure: {chance[:200]}")
    speed = result.get("speed")
    if speed:
        decision, judged = speed["decision"], speed.get("judged", PRIMARY)
        if "interval" in decision:
            iv = decision["interval"]
            lines.append(f"  {judged}: B/A {iv['ratio']:.3f}, {iv['level']:.2%} interval [{iv['low']:.3f}, "
                         f"{iv['high']:.3f}] after {decision['pairs']} pairs: {decision['verdict'].upper()}")
        else:
            lines.append(f"  {judged}: {decision['verdict']}: {decision.get('reason')}")
        for name, summary in (speed.get("metrics") or {}).items():
            if name == judged or "interval" not in summary["decision"]:
                continue
            iv = summary["decision"]["interval"]
            lines.append(f"  {name}: B/A {iv['ratio']:.3f} [{iv['low']:.3f}, {iv['high']:.3f}]: "
                         f"{summary['decision']['verdict']} (medians {summary['a_median']:.4g} / {summary['b_median']:.4g})")
        for side in (A, B):
            counts = result.get("counts", {}).get(side)
            if counts:
                lines.append(f"  counts {side}: " + ", ".join(f"{k} {v}" for k, v in counts.items() if v is not None))
        counts = result.get("counts") or {}
        if counts.get(A) and counts.get(B):
            lines.append("  counts: the same on both sides (exact, fixed seed): sample_s moves only with the seconds per "
                         "evaluation and the overhead per step" if counts[A] == counts[B] else
                         "  counts: CHANGED (exact, fixed seed: the sampler takes other steps, a fact, not noise)")
    for line in result.get("suspects", []):
        lines.append(f"  suspect: {line}")
    attribution = result.get("attribution")
    if attribution:
        lines += ["  " + line for line in attribution.get("lines", [])]
    return lines


def write_result(result: Dict[str, Any], out_dir: Path) -> Path:
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    name = f"{result['row']}-{result['model']}-{result['backend']}-{result['baseline']['label']}-vs-" \
           f"{result['candidate']['label']}-{stamp}.json"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / name
    path.write_text(json.dumps(result, indent=1))
    return path


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="nox -s compare --", description=__doc__.splitlines()[0])
    parser.add_argument("row", help="row id or session name, e.g. cpu-pymc5")
    parser.add_argument("--baseline", required=True, help="A: a date, a lock file or a results file")
    parser.add_argument("--candidate", required=True, help="B: a date, a lock file or a results file")
    parser.add_argument("--model", default="conjugate")
    parser.add_argument("--backend", help="default: the row's baseline backend")
    parser.add_argument("--judge", default=PRIMARY, choices=sorted(LOOKS),
                        help="the metric whose sequential plan decides (sample_s: warm sampling, implies --sample)")
    parser.add_argument("--looks", type=int, nargs="+",
                        help="pairs at each sequential look, the last the cap (default: the judged metric's, "
                             + "; ".join(f"{m} {' '.join(map(str, n))}" for m, n in LOOKS.items()) + ")")
    parser.add_argument("--alpha", type=float, default=abtest.Plan().alpha, help="false alarms per comparison")
    parser.add_argument("--spending", default=abtest.Plan().spending, choices=sorted(abtest.SPENDING),
                        help="how alpha is spent over the looks")
    parser.add_argument("--margin", type=float, default=abtest.Plan().margin, help="equivalence margin (0.05: +-5%%)")
    parser.add_argument("--batches", type=int, default=20, help="batches per timing process (alternated with the other side's)")
    parser.add_argument("--batch-s", type=float, default=0.1, help="seconds per batch")
    parser.add_argument("--sample", action="store_true", help="also sample: exact counts and overhead per step")
    parser.add_argument("--no-status", action="store_true", help="skip the correctness runs")
    parser.add_argument("--no-speed", action="store_true", help="skip the timing repetitions")
    parser.add_argument("--attribute", action="store_true", help="name the release behind a confirmed change (dates)")
    parser.add_argument("--inject", type=float, default=0.0, help=argparse.SUPPRESS)  # test only: slow B down
    parser.add_argument("--seed", type=int, help="seed of the interleaving order")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "compare")
    args = parser.parse_args(list(argv))
    args.baseline_side, args.candidate_side = Side.parse(args.baseline), Side.parse(args.candidate)
    args.sample = args.sample or args.judge == "sample_s"
    args.looks = args.looks or list(LOOKS[args.judge])
    return args


# --------------------------------------------------------------------------------------------------------
# The nox side: environments, correctness runs, the whole comparison


class EnvSession:
    """What harness.host.install asks of a nox session, for an environment of our own under .nox/compare/."""

    def __init__(self, session: Any, folder: Path):
        self._session, self.folder = session, Path(folder)
        self.bin = str(self.folder / "bin")
        self.virtualenv = type("Venv", (), {"venv_backend": "uv"})()

    @property
    def python(self) -> str:
        return str(Path(self.bin) / "python")

    def log(self, *args: Any) -> None:
        self._session.log(*args)

    def warn(self, *args: Any) -> None:
        self._session.warn(*args)

    def error(self, *args: Any) -> None:
        self._session.error(*args)


def _fresh_venv(session: Any, row: Any, folder: Path) -> None:
    from harness.host.install import find_interpreter
    from harness.host.uv import uv_command

    interpreter = find_interpreter(row.python)
    if interpreter is None:
        session.error(f"compare: row {row.id} needs python{row.python}, which is not on PATH or in pyenv")
    session.run(*uv_command(), "venv", "--clear", "--python", interpreter, str(folder), external=True, silent=True)


def build_side(session: Any, row: Any, side: Side, suite: Sequence[str], recording: Sequence[str],
               folder: Path, pins: Optional[Sequence[str]] = None, date: Optional[str] = None
               ) -> Tuple[str, Dict[str, str], Dict[str, Any]]:
    """Build one side's environment: (python, {backend or '*': why unavailable}, install record).
    `pins` (full requirement strings) override the side: what attribution's package probes install."""
    from harness.host import install, locks

    env = EnvSession(session, folder)
    stamp = folder / "compare-side.json"
    wanted = json.dumps({"side": side.__dict__, "pins": list(pins or []), "date": date, "suite": list(suite)})
    if stamp.exists() and Path(env.python).exists():
        saved = json.loads(stamp.read_text())
        if saved.get("key") == wanted:
            session.log(f"compare: reusing {folder}")
            return env.python, saved["unavailable"], saved["record"]
    _fresh_venv(session, row, folder)
    if pins is not None:
        record: Dict[str, Any] = {"mode": "attribution probe", "requirements": list(pins), "as_of": date}
        reason = install.install_requirements(env, list(pins) + list(suite), row.find_links, row.index_url, python=env.python)
        unavailable = {"*": f"install failed: {reason}"} if reason else {}
    elif side.kind == "date":
        unavailable, record = install.install_as_of(env, row, side.value, suite, recording)
    elif side.kind == "lock":
        record = {"mode": "locked", "lock": {"file": side.value}}
        reason = install.install_requirements(env, locks.lock_requirements(Path(side.value)), row.find_links,
                                              row.index_url, python=env.python)
        unavailable = {"*": f"install failed: {reason}"} if reason else {}
    else:
        tools = [re.split(r"[<>=!~\[ ]", r, maxsplit=1)[0] for r in suite]
        pinned = [f"{n}=={v}" for n, v in results_pins(Path(side.value), tools).items()]
        record = {"mode": "results pins", "results": side.value, "requirements": pinned}
        reason = install.install_requirements(env, pinned + list(suite), row.find_links, row.index_url, python=env.python)
        unavailable = {"*": f"install failed: {reason}"} if reason else {}
    record["resolved"] = install.show_versions(env, list(row.packages))
    stamp.write_text(json.dumps({"key": wanted, "unavailable": unavailable, "record": record}))
    return env.python, unavailable, record


def run_status(session: Any, matrix: Any, row: Any, python: str, unavailable: Dict[str, str], record: Dict[str, Any],
               model: str, backend: str, folder: Path, seed: Optional[int] = None) -> Dict[str, Any]:
    """The timeline tier's correctness run of the cell in one environment (at the suite's seed, or `seed`):
    the cell's record."""
    from harness.common.plan import row_plan, suite_command

    plan = row_plan(matrix, row, unavailable, None, record)
    plan_path = plan.save(folder / "compare-plan.json")
    results_dir = folder / "compare-results"
    started = datetime.datetime.now().timestamp()
    command = suite_command(python, plan_path, ["--tier", "timeline", "--no-speed", "--model", model,
                                                "--backend", backend, f"--results-dir={results_dir}", "-q"]
                            + ([f"--seed={seed}"] if seed is not None else []))
    session.run(*command, env={"PYTHONPATH": str(ROOT)}, external=True, success_codes=[0, 1])
    files = [p for p in results_dir.glob("*/*.json") if p.stat().st_mtime >= started - 1]
    if not files:
        return {"status": "error", "reason": "the correctness run wrote no results file"}
    cells = json.loads(max(files, key=lambda p: p.stat().st_mtime).read_text())["cells"]
    cell = next((c for c in cells if c["model"] == model and c["backend"] == backend), None)
    if cell is None:
        return {"status": "error", "reason": "the cell is not in the results file"}
    keep = ("status", "reason", "grad_evals", "divergences", "sampling")
    return {k: cell.get(k) for k in keep if k in cell}


def probe_spec(args: argparse.Namespace, row: Any) -> Dict[str, Any]:
    spec = {"model": args.model, "backend": args.backend, "api": row.api, "precision": row.precision,
            "batch_s": args.batch_s}
    if args.sample:
        spec["sample"] = {"chains": 2, "tune": 500, "draws": 500, "seed": 1}
    return spec


def run_session(session: Any, matrix: Any, suite: Sequence[str], recording: Sequence[str]) -> Dict[str, Any]:
    """The compare session: build both sides, compare status and speed, attribute on request."""
    try:
        args = parse_args(session.posargs)
    except (SystemExit, ValueError) as exc:
        if isinstance(exc, SystemExit) and exc.code == 0:  # --help, printed
            return {}
        session.error(f"compare: {exc}; usage: nox -s compare -- ROW --baseline A --candidate B [--model M] [--backend B]")
    row = matrix.find_row(args.row)
    if row is None:
        session.error(f"compare: no row has session or id {args.row!r}; rows: {', '.join(matrix.rows)}")
    args.backend = args.backend or row.baseline
    sides = {A: args.baseline_side, B: args.candidate_side}
    result: Dict[str, Any] = {"row": row.id, "model": args.model, "backend": args.backend,
                              "baseline": dict(sides[A].__dict__, label=sides[A].label),
                              "candidate": dict(sides[B].__dict__, label=sides[B].label),
                              "started": datetime.datetime.now(datetime.timezone.utc).isoformat()}
    envs = {}
    for key, side in sides.items():
        folder = WORKDIR / row.id / f"{key}-{side.label}"
        envs[key] = build_side(session, row, side, suite, recording, folder)
        result[f"install_{key}"] = envs[key][2]
    if not args.no_status:
        def status_at(key: str, seed: Optional[int] = None) -> Dict[str, Any]:
            return run_status(session, matrix, row, *envs[key], args.model, args.backend,
                              WORKDIR / row.id / f"{key}-{sides[key].label}", seed=seed)

        result["status"] = {key: status_at(key) for key in sides}
        # a failure on either side, chance or not? Also where both failed: the same draws (a sampler release that
        # does not change them) fail alike at every date, so "unchanged (failed)" could be two chance failures
        result["status"] = {key: confirmed_status(cell, [status_at(key, seed) for seed in FRESH_SEEDS]
                                                  if cell.get("status") == "failed" else [])
                            for key, cell in result["status"].items()}
        result["status_change"] = status_change(result["status"][A], result["status"][B])
    if not args.no_speed:
        rng = random.Random(args.seed)
        plan = abtest.Plan(looks=tuple(args.looks), alpha=args.alpha, margin=args.margin, spending=args.spending)
        commands = {key: probe_command(envs[key][0], probe_spec(args, row)) for key in sides}

        def run(order: Tuple[str, str]) -> Dict[str, Dict[str, Any]]:
            return run_pair(commands, order, args.batches, {B: args.inject}, SAMPLE_CALLS if args.sample else 0, row.device)

        metrics = [PRIMARY, "compile_s"] + (["sample_s", "overhead_per_step_s"] if args.sample else [])
        result["speed"] = compare_speed(run, plan, rng, metrics, log=session.log, judged=args.judge)
        if args.sample:
            result["counts"] = {key: counts_of(next((r["reply"] for r in result["speed"]["repetitions"]
                                                     if r["side"] == key and r["reply"].get("sample")), {})) for key in sides}
    measured = (harness_version(sides[A]), harness_version(sides[B]))
    if measured[0] != measured[1]:
        result["suspects"] = [f"the harness: A measured by {measured[0] or 'an unrecorded harness'}, "
                              f"B by {measured[1] or 'an unrecorded harness'}"]
    changed_status = bool(result.get("status_change"))
    changed_speed = (result.get("speed") or {}).get("decision", {}).get("verdict") in (abtest.SLOWER, abtest.FASTER)
    if args.attribute and (changed_status or changed_speed):
        if sides[A].kind == "date" and sides[B].kind == "date":
            result["attribution"] = attribute_dates(session, matrix, row, args, sides, envs, result, suite, recording,
                                                    by_status=changed_status)
        else:
            session.warn("compare: --attribute bisects between two dates; give dates for A and B")
    result["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat()
    for line in render(result):
        session.log(line)
    path = write_result(result, args.out)
    session.log(f"compare: JSON {path}")
    return result


def status_verdict(cell: Dict[str, Any], good: Optional[str], bad: Optional[str]) -> str:
    """Which end a probe's cell is like (harness.host.bisection: PASS like the good end, FAIL like the bad).
    Where one end passed and the other did not, passing is what counts: on the way to a break or back from
    one, a probe that is broken differently (an error where the end said unavailable) is still broken.
    Between two broken statuses it must match one of them. A probe whose packages did not install says
    nothing (SKIP)."""
    from harness.host import bisection

    status = cell["status"]
    if status in (UNAVAILABLE, ERROR) and "install" in str(cell.get("reason")):
        return bisection.SKIP
    if (good == PASSED) != (bad == PASSED):
        return bisection.PASS if (status == PASSED) == (good == PASSED) else bisection.FAIL
    return bisection.PASS if status == good else bisection.FAIL if status == bad else bisection.SKIP


def probe_margin(ratio: float, margin: float) -> float:
    """The equivalence margin of an attribution probe against A: half the confirmed change B/A, in log terms.
    The probe asks which end it is like, not whether it moved at all: within half the change it is like A,
    and says so at the first look, where the comparison's own +-5% would leave a probe of a noisy side (jax
    0.4.33's gradient: +-8% at 12 pairs) undecided at the cap. Never narrower than the comparison's margin."""
    return max(margin, math.exp(abs(math.log(ratio)) / 2) - 1)


def attribute_dates(session: Any, matrix: Any, row: Any, args: argparse.Namespace, sides: Dict[str, Side],
                    envs: Dict[str, Any], result: Dict[str, Any], suite: Sequence[str], recording: Sequence[str],
                    by_status: bool) -> Dict[str, Any]:
    """Probes for harness.host.attribution: the cell's status (a status change) or a speed comparison
    against A (a speed change) in an environment per day or per package advance."""
    from harness.common.matrix import distribution
    from harness.host import attribution, bisection

    good_status = result.get("status", {}).get(A, {}).get("status")
    bad_status = result.get("status", {}).get(B, {}).get("status")

    def resolve(requirements: Sequence[str], day: str) -> Optional[Dict[str, str]]:
        return attribution.compile_as_of(requirements, day, row.python, row.find_links, row.index_url)

    def verdict_in(python: str, unavailable: Dict[str, str], record: Dict[str, Any], folder: Path, label: str) -> str:
        if by_status:
            cell = run_status(session, matrix, row, python, unavailable, record, args.model, args.backend, folder)
            verdict = status_verdict(cell, good_status, bad_status)
            session.log(f"attribute: {label}: {cell['status']} -> {verdict}")
            return verdict
        margin = probe_margin(result["speed"]["decision"]["ratio"], args.margin)
        plan = abtest.Plan(looks=tuple(args.looks), alpha=args.alpha, margin=margin, spending=args.spending)
        commands = {A: probe_command(envs[A][0], probe_spec(args, row)), B: probe_command(python, probe_spec(args, row))}

        def run(order: Tuple[str, str]) -> Dict[str, Dict[str, Any]]:
            return run_pair(commands, order, args.batches, {}, SAMPLE_CALLS if args.judge == "sample_s" else 0, row.device)

        verdict = compare_speed(run, plan, random.Random(args.seed), [args.judge], log=session.log,
                                judged=args.judge)["decision"]["verdict"]
        wanted = result["speed"]["decision"]["verdict"]
        return bisection.FAIL if verdict == wanted else bisection.PASS if verdict == abtest.SAME else bisection.SKIP

    def probed(folder: Path, label: str, build: Callable[[], Tuple[str, Dict[str, str], Dict[str, Any]]]) -> str:
        # A probe's environment (about 1 GB) serves one verdict, which the record keeps: ten attributions that
        # kept theirs filled a disk with 43 GB. The comparison's own two sides stay, for a rerun to reuse.
        try:
            return verdict_in(*build(), folder, label)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def probe_day(day: str) -> str:
        folder = WORKDIR / row.id / f"day-{day}"
        return probed(folder, day, lambda: build_side(session, row, Side("date", day), suite, recording, folder))

    def probe_set(name: str, requirements: List[str], day: str) -> str:
        folder = WORKDIR / row.id / f"advance-{name}-{day}"
        pins = attribution.compile_as_of(requirements, day, row.python, row.find_links, row.index_url)
        if pins is None:
            return bisection.SKIP
        return probed(folder, f"{name} advanced", lambda: build_side(
            session, row, Side("date", day), suite, recording, folder,
            pins=[f"{n}=={v}" for n, v in pins.items()], date=day))

    fixed = by_status and good_status != PASSED and bad_status == PASSED
    faster = not by_status and result["speed"]["decision"]["verdict"] == abtest.FASTER
    found = attribution.attribute(
        sides[A].value, sides[B].value, row.dated_requirements, [distribution(n) for n in row.packages], resolve,
        probe_day, probe_set, log=session.log,
        known={sides[A].value: bisection.PASS, sides[B].value: bisection.FAIL},
        ends=("broken", "fixed") if fixed else ("slower", "faster") if faster else ("good", "bad"))
    return found.to_dict()


# --------------------------------------------------------------------------------------------------------
# Change points over a series of results files (the timeline's dated points, the nightly's runs)

CHANGEPOINT_REQUIREMENTS = ["ruptures>=1.1", "numpy"]
RANGE_TO_SD = {2: 1.128, 3: 1.693, 4: 2.059, 5: 2.326, 6: 2.534, 7: 2.704, 8: 2.847, 9: 2.970, 10: 3.078}


def point_of(cell: Dict[str, Any], metric: str) -> Optional[Tuple[float, Optional[float]]]:
    """(value, its standard error) of one cell's metric; the warm rounds' range gives the sd (range / d2)."""
    speed = cell.get("speed") or {}
    if metric == "warm_sample_s" and isinstance(speed.get("warm_sample_s"), dict):
        s = speed["warm_sample_s"]
        rounds = int(s.get("rounds") or 1)
        sd = (s["max"] - s["min"]) / RANGE_TO_SD[rounds] if rounds in RANGE_TO_SD else None
        return s["median"], (sd / rounds ** 0.5 if sd is not None else None)
    value = speed.get(metric) if metric in speed else cell.get(metric)
    return (float(value), None) if isinstance(value, (int, float)) and value > 0 else None


SERIES_METRICS = ("warm_sample_s", "seconds_per_grad_eval", "grad_evals_per_effective_draw")


def series_from_results(files: Sequence[Path], metrics: Sequence[str] = SERIES_METRICS) -> List[Dict[str, Any]]:
    """One series per (row, tier, model, backend, metric) over the results files (series_of_runs)."""
    return series_of_runs([(Path(path), json.loads(Path(path).read_text())) for path in files], metrics)


def series_of_runs(loaded: Sequence[Tuple[Path, Dict[str, Any]]],
                   metrics: Sequence[str] = SERIES_METRICS) -> List[Dict[str, Any]]:
    """One series per (row, tier, model, backend, metric) over (path, results) pairs, in the order of their
    points: the as-of date where the run has one, else its start. Each point names the `side` that
    `nox -s compare` rebuilds it from: its as-of date, else its results file."""
    runs = []
    for path, data in loaded:
        install_record = data.get("fingerprint", {}).get("install") or {}
        as_of = (data.get("timeline") or {}).get("date") or install_record.get("as_of")
        runs.append((as_of or data.get("started") or "", as_of or str(path), data))
    runs.sort(key=lambda r: r[0])
    series: Dict[Tuple[str, ...], List[Dict[str, Any]]] = {}
    for label, side, data in runs:
        for cell in data.get("cells", []):
            if cell.get("status") != "passed":
                continue
            for metric in metrics:
                point = point_of(cell, metric)
                if point:
                    key = (data["row"], data.get("tier") or "?", cell["model"], cell["backend"], metric)
                    series.setdefault(key, []).append({"label": label, "side": side, "value": point[0], "sd": point[1],
                                                       "measurement": data.get("measurement_version")})
    return [{"key": list(key), "points": points} for key, points in sorted(series.items())]


# Which change points a night confirms. A series' detector is held at `NIGHTLY_ALPHA` (a flat series gives a
# false change point with at most that probability): over the ~600 series of the nightly (rows x cells x
# 3 metrics) that is at most 0.6 false candidates a night, each confirmed by an A/B comparison at 1% (its
# false alarms measured in docs/verdicts.md): at most 0.006 false regression reports a night, 0.2 a month.
NIGHTLY_ALPHA = 0.001
NEWEST_POINTS = 3  # a step among a series' newest points is news; older ones were candidates on earlier nights
MAX_CANDIDATES = 4  # A/B comparisons a night: each 10-30 min on a hosted runner, attribution included
SAMPLED_METRICS = ("warm_sample_s", "grad_evals_per_effective_draw")  # confirmed with --sample (counts, overhead)


def confirm_args(row: str, before: str, after: str, model: str, backend: str, metric: str,
                 sample_s: Optional[float] = None) -> List[str]:
    """The `nox -s compare --` arguments that confirm a step between two points of a series: `--sample`
    where the metric needs the exact counts, judged by sample_s itself where a warm call (`sample_s`, the
    later point's) is short enough (DIRECT_SAMPLE_S), `--attribute` where both sides are dates."""
    args = [row, "--baseline", before, "--candidate", after, "--model", model, "--backend", backend]
    direct = metric == "warm_sample_s" and sample_s is not None and sample_s <= DIRECT_SAMPLE_S
    args += ["--judge", "sample_s"] if direct else ["--sample"] if metric in SAMPLED_METRICS else []
    return args + (["--attribute"] if DATE.match(before) and DATE.match(after) else [])


def point_source(cp: Dict[str, Any], end: str) -> str:
    """The run on one side ("before" or "after") of a change point: its results file (or date), else its label."""
    return str(cp.get(f"{end}_source") or cp[end])


def measured(comparison: Dict[str, Any]) -> Tuple[str, ...]:
    """The series metrics a `nox -s compare` result measured, so the steps of these it answers: the gradient's
    time wherever it timed speed, sample_s where it judged sample_s itself, and the exact counts (with
    sample_s through them) where it sampled (`--sample`). A `--no-speed` comparison answers none."""
    speed = comparison.get("speed") or {}
    if not speed:
        return ()
    if comparison.get("counts"):
        return (PRIMARY, *SAMPLED_METRICS)
    return (PRIMARY, "warm_sample_s") if speed.get("judged") == "sample_s" else (PRIMARY,)


def confirmation_candidates(found: Sequence[Dict[str, Any]], done: Sequence[Dict[str, Any]],
                            newest: int = NEWEST_POINTS, limit: int = MAX_CANDIDATES) -> List[Dict[str, Any]]:
    """The change points to confirm tonight, largest step first: those among the newest points of their
    series that no `nox -s compare` result (`done`) has compared yet. Each comes with the compare arguments."""
    compared = {(c.get("row"), c.get("model"), c.get("backend"), (c.get("candidate") or {}).get("label"), metric)
                for c in done for metric in measured(c)}
    wanted: Dict[Tuple[str, str, str, str], Dict[str, Any]] = {}
    for one in found:
        row, tier, model, backend, metric = one["key"]
        for cp in one["change_points"]:
            if cp["index"] < one["n"] - newest:
                continue
            after = point_source(cp, "after")
            if (row, model, backend, Side.label_of(after), metric) in compared:
                continue
            key = (row, model, backend, after)
            if key in wanted and abs(wanted[key]["step"]) >= abs(cp["step"]):
                continue
            before = point_source(cp, "before")
            wanted[key] = {"name": f"{row}-{model}-{backend}-{Side.label_of(after)}", "metric": metric, "tier": tier,
                           "step": cp["step"], "args": confirm_args(row, before, after, model, backend, metric,
                                                                     cp.get("after_value")),
                           "timed": timed_function(row, model, backend, Side.label_of(before), Side.label_of(after))}
    # one comparison of a gradient answers for every backend that times the same function (timed_function)
    chosen, timed = [], set()
    for candidate in sorted(wanted.values(), key=lambda c: -abs(c["step"])):
        function = candidate.pop("timed")
        if candidate["metric"] == PRIMARY:
            if function in timed:
                continue
            timed.add(function)
        chosen.append(candidate)
    return chosen[:limit]


def stored_points(loaded: Sequence[Tuple[Path, Dict[str, Any]]],
                  by_chance: Collection[Tuple[str, str, str, str]] = ()) -> Dict[Tuple[str, str], Dict[str, Any]]:
    """{(row, date): point} of the stored timeline points (those with a `timeline` date), each point's
    `cells` as {(model, backend): cell}; a failure a comparison found to be chance (`by_chance`: (row, model,
    backend, date), from timeline.chance_failures) counts as a pass, as the timeline's grid counts it."""
    out: Dict[Tuple[str, str], Dict[str, Any]] = {}
    for _, data in loaded:
        date = (data.get("timeline") or {}).get("date")
        if date and isinstance(data.get("cells"), list) and "row" in data:
            cells = {(c["model"], c["backend"]): c for c in data["cells"]}
            for (model, backend), cell in cells.items():
                if cell.get("status") == FAILED and (data["row"], model, backend, date) in by_chance:
                    cells[(model, backend)] = dict(cell, status=PASSED, reason=None)
            out[(data["row"], date)] = dict(data, cells=cells)
    return out


def status_events(loaded: Sequence[Tuple[Path, Dict[str, Any]]],
                  by_chance: Collection[Tuple[str, str, str, str]] = ()) -> List[Dict[str, Any]]:
    """Every status change of a cell between consecutive timeline points of its row (stored points: those
    with a `timeline` date), to confirm and attribute with `nox -s compare -- ... --no-speed --attribute`.
    A backend that changed alike on several models at once is one event, on the model whose cell took
    least time at the two points together (the attribution's probes run it on both sides' releases; a cell
    that could not even import at the later point costs what it took at the earlier): one release, one
    attribution. A failure found to be chance counts as a pass (stored_points), so a failure at the point
    after it is an event to check."""
    points = stored_points(loaded, by_chance)
    events: Dict[Tuple[str, ...], Dict[str, Any]] = {}
    for row in sorted({row for row, _ in points}):
        dates = sorted(date for r, date in points if r == row)
        for before, after in zip(dates, dates[1:]):
            was, point = points[(row, before)]["cells"], points[(row, after)]
            for (model, backend), cell in point["cells"].items():
                old = was.get((model, backend))
                if old is None or old.get("status") == cell.get("status"):
                    continue
                key = (row, backend, before, after, old.get("status"), cell.get("status"))
                cost = sum((c.get("timings") or {}).get("cell_wall_s") or 0.0 for c in (old, cell))
                if key in events and events[key]["cost"] <= cost:
                    continue
                events[key] = {"name": f"{row}-{model}-{backend}-{after}", "metric": "status",
                               "tier": point.get("tier") or "?", "status": f"{old.get('status')} -> {cell.get('status')}",
                               "cost": cost, "args": [row, "--baseline", before, "--candidate", after, "--model",
                                                      model, "--backend", backend, "--no-speed", "--attribute"]}
    return [dict((k, v) for k, v in e.items() if k != "cost") for _, e in sorted(events.items())]


def replay_candidates(found: Sequence[Dict[str, Any]], loaded: Sequence[Tuple[Path, Dict[str, Any]]],
                      done: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """What a replay of the whole timeline confirms and attributes: every status change between points and
    every change point of every series (not only the newest, as a night does), none answered yet."""
    from harness.host.report.comparison import SpeedEvidence
    from harness.host.report.timeline import attributions, chance_failures, failing_reason

    compared = {(c.get("row"), c.get("model"), c.get("backend"), (c.get("baseline") or {}).get("label"),
                 (c.get("candidate") or {}).get("label")) for c in done}
    evidence = SpeedEvidence(comparisons=tuple(done))
    attributed, chance = attributions(evidence), set(chance_failures(evidence))
    points = stored_points(loaded, chance)

    def explained(event: Dict[str, Any]) -> bool:
        """Compared between these very points, or an attribution explains the change (between wider dates,
        or of another backend failing alike), as the timeline's grid tells it."""
        row, before, after, model, backend = (event["args"][i] for i in (0, 2, 4, 6, 8))
        if (row, model, backend, before, after) in compared:
            return True
        was, now = (points[(row, date)]["cells"][(model, backend)] for date in (before, after))
        change = (was.get("status"), now.get("status"))
        return any(a.explains(row, backend, before, after, change, failing_reason(was, now)) for a in attributed)

    events = [e for e in status_events(loaded, chance) if not explained(e)]
    timed = {timed_function(c.get("row"), c.get("model"), c.get("backend"), (c.get("baseline") or {}).get("label"),
                            (c.get("candidate") or {}).get("label")) for c in done if PRIMARY in measured(c)}

    def answered(key: Sequence[str], cp: Dict[str, Any]) -> bool:
        row, _, model, backend, metric = key
        dates = (Side.label_of(point_source(cp, end)) for end in ("before", "after"))
        return metric == PRIMARY and timed_function(row, model, backend, *dates) in timed

    left = [dict(one, change_points=[cp for cp in one["change_points"] if not answered(one["key"], cp)]) for one in found]
    return events + confirmation_candidates(left, done, newest=10 ** 9, limit=10 ** 9)


def timed_function(row: str, model: str, backend: str, before: str, after: str) -> Tuple[str, ...]:
    """What seconds per gradient evaluation times between two dates: the model's gradient compiled the
    backend's way (harness.worker.gradient). Backends that share a gradient kind (numpyro, blackjax, tfp and
    nutpie's JAX gradient: JAX's autodiff) time the same function, so one comparison of it answers for all."""
    from harness.common.backends import BACKENDS

    kind = BACKENDS[backend].gradient if backend in BACKENDS else backend
    return (row, model, kind, before, after)


def changepoint_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="nox -s compare -- --changepoints", description="change points over results")
    parser.add_argument("paths", nargs="*", help="results files or folders (default: results/)")
    parser.add_argument("--alpha", type=float, default=None,
                        help=f"a flat series' chance of a false change point (default 1%%; the nightly: {NIGHTLY_ALPHA})")
    parser.add_argument("--replay", action="store_true",
                        help="candidates: every status change between timeline points and every change point, "
                             "not only a night's newest (the timeline-replay workflow confirms them)")
    return parser.parse_args(list(argv))


def run_changepoints(session: Any, argv: Sequence[str]) -> None:
    """nox -s compare -- --changepoints [--alpha A] [--replay] [FILES or FOLDERS]: change points in an environment with
    ruptures, into results/compare/changepoints.json, and the candidates to confirm into candidates.json."""
    from harness.host.install import install_requirements
    from harness.host.report.loading import COMPARISON, evidence_kind

    try:
        args = changepoint_args(argv)
    except SystemExit as exc:
        if exc.code == 0:  # --help, printed
            return
        session.error("compare --changepoints: usage: nox -s compare -- --changepoints [--alpha A] [--replay] [FILES or FOLDERS]")
    files = [f for p in (args.paths or [str(ROOT / "results")]) for f in
             ([Path(p)] if Path(p).is_file() else sorted(Path(p).rglob("*.json")))]
    done, runs = [], []
    for path in files:
        try:
            data = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, ValueError):
            continue  # not JSON: no run, no comparison
        if evidence_kind(data) == COMPARISON:
            done.append(data)
        elif isinstance(data, dict) and isinstance(data.get("cells"), list) and "row" in data:
            runs.append((path, data))
    series = [s for s in series_of_runs(runs) if len(s["points"]) >= 4]
    out_dir = ROOT / "results" / "compare"
    out_dir.mkdir(parents=True, exist_ok=True)
    found: List[Dict[str, Any]] = []
    if not series:
        session.log("compare --changepoints: no series of 4 points or more in those results files yet: nothing to detect")
    else:
        folder = WORKDIR / "changepoints"
        env = EnvSession(session, folder)
        if not Path(env.python).exists():
            from harness.host.uv import uv_command

            session.run(*uv_command(), "venv", "--python", "3.12", str(folder), external=True, silent=True)
        reason = install_requirements(env, CHANGEPOINT_REQUIREMENTS, python=env.python)
        if reason:
            session.error(f"compare --changepoints: {reason}")
        series_path = folder / "series.json"
        series_path.write_text(json.dumps(series))
        alpha = ["--alpha", str(args.alpha)] if args.alpha is not None else []
        out = session.run(env.python, "-m", "harness.worker.changepoints", str(series_path), *alpha, external=True,
                          silent=True, env={"PYTHONPATH": str(ROOT)})
        found = json.loads(out)
        for one in found:
            for cp in one["change_points"]:
                session.log(f"change point: {' '.join(one['key'])}: {cp['before']} -> {cp['after']}: {cp['step']:+.1%}")
    (out_dir / "changepoints.json").write_text(json.dumps(found, indent=1))
    candidates = replay_candidates(found, runs, done) if args.replay else confirmation_candidates(found, done)
    (out_dir / "candidates.json").write_text(json.dumps(candidates, indent=1))
    for candidate in candidates:
        session.log(f"to confirm: nox -s compare -- {' '.join(candidate['args'])}")
    session.log(f"compare --changepoints: {sum(len(o['change_points']) for o in found)} change points in "
                f"{len(found)} series, {len(candidates)} to confirm; JSON {out_dir / 'changepoints.json'}, "
                f"{out_dir / 'candidates.json'}")
