"""Attribution of a change to a release: days first (one probe per distinct resolution), then one changed
package at a time (harness.host.attribution), with fake resolutions and probes."""

from __future__ import annotations

import pytest

from harness.host import attribution
from harness.host.bisection import FAIL, PASS, SKIP

ROW = ["pymc<6", "pytensor", "jax", "blackjax"]


def resolution(day):
    """blackjax 1.6.0 lands on 2026-07-10, jax 0.11.0 on 2026-07-20, a jax dependency moves with it."""
    out = {"pymc": "5.25.0", "pytensor": "2.30.0", "jax": "0.10.2", "ml-dtypes": "0.5.0", "blackjax": "1.5"}
    if day >= "2026-07-10":
        out["blackjax"] = "1.6.0"
    if day >= "2026-07-20":
        out.update(jax="0.11.0", **{"ml-dtypes": "0.6.0"})
    return out


def resolve(requirements, day):
    pinned = dict(r.split("==") for r in requirements if "==" in r)
    return dict(resolution(day), **pinned)


def test_days_between_includes_both_ends():
    days = attribution.days_between("2026-06-30", "2026-07-02")
    assert days == ["2026-06-30", "2026-07-01", "2026-07-02"]
    with pytest.raises(ValueError):
        attribution.days_between("2026-07-02", "2026-07-01")


def test_parse_compiled_reads_pins():
    text = "blackjax==1.6.0\njax[cpu]==0.11.0 ; python_version >= '3.10'\n# comment\nml_dtypes==0.6.0 \\\n"
    assert attribution.parse_compiled(text) == {"blackjax": "1.6.0", "jax": "0.11.0", "ml-dtypes": "0.6.0"}


def test_changed_puts_the_rows_packages_first():
    moved = attribution.changed(resolution("2026-07-01"), resolution("2026-07-31"), ["jax", "blackjax"])
    assert [m[0] for m in moved] == ["jax", "blackjax", "ml-dtypes"]
    assert moved[1] == ("blackjax", "1.5", "1.6.0")


def test_advance_one_holds_the_other_changes_back():
    moved = attribution.changed(resolution("2026-07-01"), resolution("2026-07-31"), ["jax", "blackjax"])
    requirements = attribution.advance_one(ROW, resolution("2026-07-01"), moved, "blackjax")
    assert "blackjax==1.6.0" in requirements and "jax==0.10.2" in requirements and "ml-dtypes==0.5.0" in requirements
    assert not any(r.startswith("blackjax==1.5") for r in requirements)


def test_days_are_bisected_with_one_probe_per_resolution():
    probed = []

    def probe_day(day):
        probed.append(day)
        return FAIL if resolution(day)["blackjax"] == "1.6.0" else PASS

    good, bad, verdicts = attribution.bisect_days("2026-06-01", "2026-08-01", lambda d: resolution(d), probe_day,
                                                  log=lambda _: None, known={"2026-06-01": PASS, "2026-08-01": FAIL})
    assert (good, bad) == ("2026-07-09", "2026-07-10")
    assert len(probed) <= 3  # 62 days, three distinct resolutions; the ends are known
    assert len(verdicts) >= 5


def test_attribute_names_the_release():
    def probe_day(day):
        return FAIL if resolution(day)["blackjax"] == "1.6.0" else PASS

    def probe_set(name, requirements, day):
        pins = dict(r.split("==") for r in requirements if "==" in r)
        return FAIL if pins.get("blackjax") == "1.6.0" else PASS

    found = attribution.attribute("2026-06-01", "2026-08-01", ROW, ["pymc", "pytensor", "jax", "blackjax"], resolve,
                                  probe_day, probe_set, log=lambda _: None,
                                  known={"2026-06-01": PASS, "2026-08-01": FAIL})
    assert found.culprits == [{"package": "blackjax", "good": "1.5", "bad": "1.6.0"}]
    assert found.lines[-1] == "attribution: first bad release: blackjax 1.6.0 (last good 1.5)"
    assert not found.suspects
    fix = attribution.attribute("2026-06-01", "2026-08-01", ROW, ["pymc", "pytensor", "jax", "blackjax"], resolve,
                                probe_day, probe_set, log=lambda _: None, ends=("broken", "fixed"),
                                known={"2026-06-01": PASS, "2026-08-01": FAIL})  # read as a fix, the same search
    assert fix.lines[0] == "attribution: last broken day 2026-07-09, first fixed day 2026-07-10"
    assert fix.lines[-1] == "attribution: first fixed release: blackjax 1.6.0 (last broken 1.5)"


def test_a_release_that_needs_its_changed_dependency_moves_with_it():
    """jax 0.7.0 requires jaxlib 0.7.0: advanced alone (jaxlib held at 0.6.2) it does not install."""
    def day_versions(day):
        return {"jax": "0.7.0", "jaxlib": "0.7.0", "numpyro": "0.18.0"} if day >= "2025-07-22" else \
               {"jax": "0.6.2", "jaxlib": "0.6.2", "numpyro": "0.18.0"}

    def resolve_deps(requirements, day):
        pins = dict(r.split("==") for r in requirements if "==" in r)
        if list(pins) == [r.split("==")[0] for r in requirements]:  # one package alone: its own resolution
            (name, version), = pins.items()
            return {name: version, **({"jaxlib": version} if name == "jax" else {})}
        versions = dict(day_versions(day), **pins)
        return None if versions["jax"] != versions["jaxlib"] else versions  # jax pins its jaxlib

    def probe_set(name, requirements, day):
        versions = resolve_deps(requirements, day)
        return SKIP if versions is None else FAIL if versions["jax"] == "0.7.0" else PASS

    found = attribution.attribute("2025-07-21", "2025-07-22", ["jax", "numpyro"], ["jax", "numpyro"], resolve_deps,
                                  lambda day: FAIL, probe_set, log=lambda _: None,
                                  known={"2025-07-21": PASS, "2025-07-22": FAIL})
    assert found.culprits == [{"package": "jax", "good": "0.6.2", "bad": "0.7.0", "with": "jaxlib 0.7.0"}]
    assert found.lines[-1] == ("attribution: first bad release: jax 0.7.0 (last good 0.6.2; jaxlib 0.7.0 moved with "
                               "it, as it requires)")
    assert found.probes["jaxlib 0.7.0"] == SKIP  # jaxlib's own resolution holds no jax: nothing moves with it


def test_a_different_harness_is_a_suspect():
    found = attribution.attribute("2026-06-01", "2026-06-03", ROW, [], resolve, lambda d: FAIL, lambda *a: PASS,
                                  log=lambda _: None, known={"2026-06-01": FAIL, "2026-06-03": FAIL},
                                  harness_versions=("measurement version 1", "measurement version 2"))
    assert found.suspects and "harness" in found.suspects[0]
    assert "cannot be bisected" in found.lines[-1]  # the good end does not pass
