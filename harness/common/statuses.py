"""The status of every cell in a results file, defined once.

    passed          sampled, and the posterior matches the truth (harness.worker.verdict)
    failed          sampled, and the posterior is wrong: its z-tests failed on two independent seeds, or
                    its draws are not finite, or there is no truth to judge it by
    did-not-mix     sampled, but R-hat or bulk ESS still missed the gate at the tier's run-length cap:
                    too short a run to judge, not a wrong posterior
    error           the sampler stack raised an exception
    crashed         the cell's process died without a result (segfault, OOM kill, abort)
    timeout         the cell ran past the tier's timeout and was killed
    known-failure   did not pass, and matrix.toml lists it as a known failure (reason and link)
    not-applicable  the backend cannot sample this model (discrete variables, gradient-only sampler)
    unavailable     the backend's packages could not be installed or imported in this row
    device-missing  a GPU row found no GPU of its kind
    moved           the tier moved this cell to another tier to keep its budget (matrix.toml says why)
"""

PASSED, FAILED, DID_NOT_MIX = "passed", "failed", "did-not-mix"
ERROR, CRASHED, TIMEOUT = "error", "crashed", "timeout"
KNOWN_FAILURE, NOT_APPLICABLE, UNAVAILABLE, DEVICE_MISSING = "known-failure", "not-applicable", "unavailable", "device-missing"
MOVED = "moved"
BROKEN = (FAILED, DID_NOT_MIX, ERROR, CRASHED, TIMEOUT)  # statuses that fail the session
SKIPPED = (NOT_APPLICABLE, UNAVAILABLE, DEVICE_MISSING, MOVED)  # the cell never ran
SAMPLED = (PASSED, FAILED, DID_NOT_MIX)  # the cell sampled and was judged
