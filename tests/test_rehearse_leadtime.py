"""Lead time, measured on the rehearsal's simulated clock (bluegreen.rehearse.leadtime):
push to production and push to done per release, each the sum of parts read back from
the emulated AWS, each part naming the durations (with sources) and settings it is made
of. A test of the model, never of wall time."""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any

import pytest

from bluegreen import config
from bluegreen.cli.app import main

BAR_SECONDS = 330
"""Issue 11: with checks replacing the manual wait and the default health settings, push
to production is at most 5.5 minutes."""

AUTO_WITH_CHECKS = {"deployment": {"reroute": "auto"}}
"""With init's check (config.SCAFFOLD_CHECK: GET / three times, each within 2 s)."""


@pytest.fixture(scope="module")
def auto() -> dict[str, Any]:
    """The scaffold's two releases with reroute = "auto", init's GET / check and the
    default health settings, as `bluegreen rehearse --reroute auto --output json` (the
    README's command for this lead time) prints them."""
    capture = io.StringIO()
    with contextlib.redirect_stdout(capture):
        assert main(["rehearse", "--reroute", "auto", "--output", "json"]) == 0
    document: dict[str, Any] = json.loads(capture.getvalue())
    assert [r["outcome"] for r in document["releases"]] == ["succeeded", "succeeded"]
    assert document["timing"]["config"]["reroute"] == "auto"
    assert document["timing"]["config"]["checks"] == len(
        config.scaffold(AUTO_WITH_CHECKS).verify.checks
    )
    return document


def _figures(document: dict[str, Any]) -> list[tuple[int, str, dict[str, Any]]]:
    found = []
    for release in document["releases"]:
        lead = release["lead_time"]
        assert lead is not None, f"release {release['number']} has no lead time"
        for key in ("push_to_production", "push_to_done"):
            found.append((release["number"], key, lead[key]))
    return found


def test_each_lead_time_is_the_sum_of_its_listed_parts(auto: dict[str, Any]) -> None:
    for release in auto["releases"]:
        lead = release["lead_time"]
        production, done = lead["push_to_production"], lead["push_to_done"]
        assert production["seconds"] == round(
            lead["production_seconds"] - lead["pushed_seconds"], 1
        )
        assert done["seconds"] == round(lead["done_seconds"] - lead["pushed_seconds"], 1)
        for figure in (production, done):
            assert figure["seconds"] == round(sum(p["seconds"] for p in figure["parts"]), 1)
            assert all(p["seconds"] > 0 for p in figure["parts"])
        # push to done continues push to production: the same parts, then the rest.
        assert done["parts"][: len(production["parts"])] == production["parts"]
        assert production["seconds"] < done["seconds"]


def test_every_part_names_what_it_is_made_of_with_its_source(auto: dict[str, Any]) -> None:
    durations = auto["timing"]["durations"]
    for _number, _key, figure in _figures(auto):
        for part in figure["parts"]:
            assert part["what"] and part["made_of"], part
            for item in part["made_of"]:
                assert item["source"], item
                if "duration" in item:
                    assert item["duration"] in durations
                    assert durations[item["duration"]]["source"] == item["source"]
                elif "remainder" in item:
                    assert item["what"] and item["source"].startswith("the emulated clock")
                else:
                    assert item["setting"] and item["source"] == "bluegreen.toml"
    # The durations say which AWS documents and which are observed or modelled.
    assert durations["codedeploy.hook_timeout"]["documented"] is True
    assert durations["codedeploy.hook_timeout"]["basis"] == "documented"
    assert durations["elb.deregistration_delay_default"]["seconds"] == 300
    assert durations["elb.deregistration_delay_default"]["basis"] == "documented"
    assert durations["ecs.image_pull"]["basis"] == "observed"
    assert durations["codebuild.build"]["basis"] == "modelled"
    assert {d["basis"] for d in durations.values()} == {"documented", "observed", "modelled"}


def test_each_parts_made_of_adds_up_to_the_part(auto: dict[str, Any]) -> None:
    """Review U9: a script explaining a part from its made_of gets the part's seconds; a
    remainder item says what the listed durations do not account for."""
    for number, _key, figure in _figures(auto):
        for part in figure["parts"]:
            total = round(sum(item["seconds"] for item in part["made_of"]), 1)
            assert total == part["seconds"], (number, part)
            rest = [item for item in part["made_of"] if item.get("remainder")]
            assert len(rest) <= 1 and all(item["seconds"] != 0 for item in rest)
            if rest and rest[0]["seconds"] < 0:
                # Only bounds can be left unused.
                assert any(item.get("upper_bound") for item in part["made_of"]), part
    first = auto["releases"][0]["lead_time"]["push_to_production"]["parts"][0]
    assert first["what"].startswith("deploy creates the stacks")
    (stacks,) = [item for item in first["made_of"] if item.get("remainder")]
    assert "the stacks' creation by deploy" in stacks["what"] and stacks["seconds"] > 60
    polls = [
        item
        for _n, _k, figure in _figures(auto)
        for part in figure["parts"]
        for item in part["made_of"]
        if item.get("duration") == "codepipeline.job_poll"
    ]
    assert polls and all(item["upper_bound"] is True for item in polls)


def test_install_waits_for_fargate_then_the_health_checks_of_the_config(
    auto: dict[str, Any],
) -> None:
    setting = "health_check.interval_seconds x health_check.healthy_threshold"
    for release in auto["releases"]:
        parts = release["lead_time"]["push_to_production"]["parts"]
        (install,) = [p for p in parts if p["what"].startswith("Install:")]
        made = {i.get("duration") or i.get("setting"): i["seconds"] for i in install["made_of"]}
        assert {"ecs.fargate_provisioning", "ecs.image_pull", "elb.registration"} <= set(made)
        # green's group is behind both listeners at weight 0 from the first deploy, so the
        # first Install waits for its health checks too
        assert made[setting] == 5 * 2  # the defaults: interval 5, healthy threshold 2
        # What Install took on the clock is what it lists (no unexplained second).
        assert install["seconds"] == sum(made.values())


def test_the_json_carries_the_timing_settings_lead_time_depends_on(auto: dict[str, Any]) -> None:
    settings = auto["timing"]["config"]
    assert settings["health_check"]["interval_seconds"] == 5
    assert settings["health_check"]["healthy_threshold"] == 2
    assert settings["reroute"] == "auto" and settings["wait_minutes"] is None
    assert settings["termination_wait_minutes"] == 15
    assert settings["deregistration_delay"]["seconds"] == 30
    assert settings["deregistration_delay"]["documented_default_seconds"] == 300
    assert settings["checks"] == 1


def test_auto_reroute_with_checks_reaches_production_within_the_bar(
    auto: dict[str, Any],
) -> None:
    """Issue 11's bar, in the model: a pushed release (the second) reaches production in
    at most 5.5 minutes; production moves right after the checks pass, with no wait."""
    second = auto["releases"][1]["lead_time"]
    assert second["push_to_production"]["seconds"] <= BAR_SECONDS
    parts = [p["what"] for p in second["push_to_production"]["parts"]]
    assert not any("reroute wait" in what for what in parts)
    assert any(what.startswith("AfterAllowTestTraffic: the verify hook runs 1") for what in parts)
    assert parts[-1].startswith("production :80 forwards to the new revision")
