"""The SBC uniformity test: calibrated ranks pass at about the stated rate, biased ranks fail."""

from __future__ import annotations

import numpy as np

from harness.worker.sbc import L_DRAWS, uniformity


def test_uniform_ranks_pass_and_shifted_ranks_fail():
    rng = np.random.RandomState(7)
    fails = sum(
        not uniformity({"a": list(rng.randint(0, L_DRAWS + 1, 100)), "b": list(rng.randint(0, L_DRAWS + 1, 100))})["passed"]
        for _ in range(200)
    )
    assert fails / 200 <= 0.03  # stated family-wise rate 1%
    # a posterior too narrow puts the truth in the tails: U-shaped ranks
    tails = list(rng.randint(0, 15, 50)) + list(rng.randint(85, L_DRAWS + 1, 50))
    verdict = uniformity({"a": tails})
    assert not verdict["passed"] and "a (p=" in verdict["reason"]
