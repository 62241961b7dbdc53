"""The two-stage z-test verdict against one test at 0.5%, on exact independent draws: what a correct sampler
that mixes perfectly returns (false alarms), and the same with one mean shifted by 3, 4 or 5 Monte Carlo
standard errors of the screen's length (catch rate); the confirmation draws CONFIRM_DRAWS_FACTOR x as many. Fixed seeds; run from the project's root in any venv with numpy and scipy:

    python docs/campaigns/verdict_stages.py 2000 [OUT.json]      # 2000 cells per shift
"""

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from harness.worker import diagnostics  # noqa: E402
from harness.worker.evaluation import CONFIRM_DRAWS_FACTOR  # noqa: E402
from harness.worker.verdict import ALPHA_CONFIRM, ALPHA_SCREEN, posterior_problems  # noqa: E402

N_PARAMS, CHAINS, DRAWS = 20, 4, 500  # a quick-tier cell of a 20-parameter model
TRUTH = {f"p{i}": {"mean": 0.0, "sd": 1.0} for i in range(N_PARAMS)}


def cell(rng, shift, length=DRAWS):
    draws = rng.normal(size=(N_PARAMS, CHAINS, length))
    draws[0] += shift
    return {f"p{i}": diagnostics.summarize(draws[i]) for i in range(N_PARAMS)}


def campaign(reps, shift_in_mcse):
    rng = np.random.RandomState(1000 + int(shift_in_mcse))
    shift = shift_in_mcse / np.sqrt(CHAINS * DRAWS)
    single = screened = both = 0
    for _ in range(reps):
        first = cell(rng, shift)
        single += bool(posterior_problems(first, TRUTH, 0.005))
        if posterior_problems(first, TRUTH, ALPHA_SCREEN):
            screened += 1
            # the confirmation: a fresh seed, CONFIRM_DRAWS_FACTOR x the draws, the same shift of the mean
            both += bool(posterior_problems(cell(rng, shift, CONFIRM_DRAWS_FACTOR * DRAWS), TRUTH, ALPHA_CONFIRM))
    return {"reps": reps, "single_0.5%": single, "screened": screened, "two_stage": both}


if __name__ == "__main__":
    results = {}
    for shift_in_mcse in (0.0, 3.0, 4.0, 5.0):
        results[shift_in_mcse] = campaign(int(sys.argv[1]), shift_in_mcse)
        print(shift_in_mcse, results[shift_in_mcse], flush=True)
    if len(sys.argv) > 2:
        Path(sys.argv[2]).write_text(json.dumps(results, indent=1))
