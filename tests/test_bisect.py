"""The bisection search: fewest probes, skips what does not install, refuses a bad start."""

from __future__ import annotations

import pytest
from packaging.version import Version

from harness.host.bisection import FAIL, PASS, SKIP, BisectError, released_versions, search

LISTING = "blackjax (1.7.1)\nAvailable versions: 1.7.1, 1.7.0, 1.6.2, 1.6.1, 1.6, 1.5, 1.4, 1.3, 1.2.5, 1.0.0, 0.9.6, 1.8.0rc1"


def versions():
    return released_versions(LISTING)


def test_released_versions_are_sorted_finals():
    found = versions()
    assert found[0] == Version("0.9.6") and found[-1] == Version("1.7.1")
    assert Version("1.8.0rc1") not in found


def probe_breaking_at(first_bad, uninstallable=()):
    probed = []

    def probe(version):
        probed.append(version)
        if str(version) in uninstallable:
            return SKIP
        return FAIL if version >= Version(first_bad) else PASS

    return probe, probed


def test_finds_last_good_and_first_bad():
    probe, probed = probe_breaking_at("1.6")
    good, bad = search(versions(), Version("1.7.1"), probe, log=lambda _: None)
    assert (str(good), str(bad)) == ("1.5", "1.6")
    assert len(probed) <= 7  # the bad end, a gallop of 4 and a bisection of 2


def test_skips_releases_that_do_not_install():
    probe, _ = probe_breaking_at("1.6", uninstallable={"1.5"})
    good, bad = search(versions(), Version("1.7.1"), probe, log=lambda _: None)
    assert (str(good), str(bad)) == ("1.4", "1.6")


def test_refuses_a_bad_end_that_passes():
    probe, _ = probe_breaking_at("9.0")
    with pytest.raises(BisectError, match="does not fail"):
        search(versions(), Version("1.7.1"), probe, log=lambda _: None)
