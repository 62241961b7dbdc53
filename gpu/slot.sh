#!/usr/bin/env bash
# One short GPU slot on an air-gapped node (no package index): install the row's wheelhouse, run the
# gradient sweep once, then spend the rest of the slot on the row's GPU tier, resuming where the last slot
# stopped. Run it from the project's root on the node:
#
#   SLOT_S=540 OUT=/some/dir gpu/slot.sh [ROW]          ROW defaults to cuda-pymc6
#
# SWEEP_S bounds the sweep (default 200 s, 0 skips it once measured; SWEEP_ARGS are its options, default a
# per-point budget of 8 s);
# TIER_ARGS go to the tier (e.g. --model radon to shard it by model).
# Before the slot, on a machine with the index: `nox -s wheelhouse -- ROW --have NODE-FREEZE` (README, GPU
# rows), and carry wheelhouse/ROW plus the results file of the last slot: RESUME_FROM=FILE places it where the
# tier's --resume finds it (a fresh node keeps nothing between slots), unless RESULTS (default results/)
# already holds it.
set -uo pipefail
row=${1:-cuda-pymc6}
slot_s=${SLOT_S:-540}
out=${OUT:-slot-out}
results=${RESULTS:-results}
start=$(date +%s)
mkdir -p "$out" "$results"

if [ -n "${RESUME_FROM:-}" ]; then  # named as the suite names its files: <started>-<tier>.json
    name=$(python3 -c 'import json, sys; d = json.load(open(sys.argv[1]))
print(d["started"].replace(":", "").replace("-", "") + "-" + d["tier"] + ".json")' "$RESUME_FROM" 2>/dev/null) \
        || { echo "slot: RESUME_FROM=$RESUME_FROM is not a results file; give the JSON an earlier slot left"; exit 1; }
    mkdir -p "$results/$row"
    [ -e "$results/$row/$name" ] || cp "$RESUME_FROM" "$results/$row/$name"
fi

python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
    "wheelhouse/$row"/*.whl || { echo "slot: the wheelhouse of $row does not install"; exit 1; }
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
nvidia-smi -L || true

# The sweep once per node: its JSON is rewritten after every point, so a cut-off sweep keeps what it measured.
sweep_s=${SWEEP_S:-200}
if [ "$sweep_s" -gt 0 ] && [ ! -s "$out/sweep.json" ]; then
    timeout --kill-after=10 $(( sweep_s + 35 )) python3 -m harness.worker.sweep "$out/sweep.json" --total-s "$sweep_s" \
        ${SWEEP_ARGS:---budget-s 8} 2>&1 | tail -n 60
fi

# The GPU tier in what is left of the slot, resumed from earlier slots' unfinished results file.
left=$(( slot_s - ($(date +%s) - start) - 20 ))
if [ "$left" -gt 60 ]; then
    timeout --signal=INT --kill-after=15 "$left" \
        python3 -m harness.run "$row" --quick --resume --results-dir "$results" ${TIER_ARGS:-} 2>&1 | tail -n 80
fi
cp "$results/$row"/*.json "$out/" 2>/dev/null || true
echo "slot: $(( $(date +%s) - start )) s"
