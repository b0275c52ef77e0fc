"""The rehearsal's load run: requests through the production listener during every
release, what served them, what failed, the GET / after each release, and the ALB's
metrics in the emulated CloudWatch (read back with GetMetricStatistics by the story).
"""

from __future__ import annotations

import pytest
from dataplane_support import (
    create_service_stack,
    health_states,
    listener_address,
    plane_fixture,  # noqa: F401 (the plane fixture)
    until,
)

from bluegreen.config import Config
from bluegreen.emulator import Emulator
from bluegreen.rehearse import load as load_mod
from bluegreen.rehearse.load import RATE_PER_MINUTE
from bluegreen.rehearse.model import Rehearsal, Release
from bluegreen.rehearse.story import SEED_GREETING, SEED_NEW_GREETING, Options, run

BLUE = "sample3-dev-blue"
GREEN = "sample3-dev-green"


def _live(weights: dict[str, int]) -> set[str]:
    return {name for name, weight in weights.items() if weight}


def _served(release: Release) -> dict[str, int]:
    """The requests of the release's rows, by target group."""
    total: dict[str, int] = {}
    for step in release.steps:
        for name, count in step.served.items():
            total[name] = total.get(name, 0) + count
    return total


@pytest.fixture(scope="module")
def default() -> Rehearsal:
    return run(Options(Config()))


def test_no_request_fails_through_both_releases(default: Rehearsal) -> None:
    for release in default.releases:
        load = release.load
        assert load is not None and load["rate_per_minute"] == RATE_PER_MINUTE
        assert load["failed"] == 0 and sum(s.failed for s in release.steps) == 0
        # Every request is in exactly one row, and the rows add up to the release.
        assert _served(release) == load["served"]
        assert sum(load["served"].values()) == load["requests"] > 0
        assert load["stopped"] is None  # within its bounds
    first, second = default.releases
    # From the push (release 1: once deploy made production) to the release's end.
    created = next(s for s in first.steps if "sample3-dev-service: CREATE_COMPLETE" in s.detail)
    assert first.load and first.load["started_at"] == created.time
    assert second.load and second.load["started_at"] == second.steps[0].time
    minutes = (second.steps[-1].seconds - second.steps[0].seconds) / 60
    assert abs(second.load["requests"] - (minutes * RATE_PER_MINUTE + 2)) <= 1


def test_each_request_is_served_where_production_forwarded(default: Rehearsal) -> None:
    for release in default.releases:
        steps = release.steps
        for before, step in zip(steps, steps[1:], strict=False):
            if step.served and before.production:
                # Sent between the two rows: routed by the forward the row before shows.
                assert set(step.served) <= _live(before.production), step
    second = default.releases[1]
    shift = next(i for i, s in enumerate(second.steps) if s.event.startswith("production :80"))
    assert {n for s in second.steps[: shift + 1] for n in s.served} == {GREEN}
    assert {n for s in second.steps[shift + 1 :] for n in s.served} == {BLUE}


def test_get_after_each_release_shows_its_greeting(default: Rehearsal) -> None:
    for release, greeting, group in zip(
        default.releases, (SEED_GREETING, SEED_NEW_GREETING), (GREEN, BLUE), strict=True
    ):
        last = release.steps[-1]
        assert (last.kind, last.event) == ("request", "GET / on :80")
        assert last.detail.startswith(f"200 “{greeting}” from ") and group in last.detail
        assert release.load is not None
        assert release.load["greeting"] == {
            "status": 200,
            "body": greeting,
            "target_group": group,
        }


def test_cloudwatch_holds_the_counts_the_timeline_shows(default: Rehearsal) -> None:
    served: dict[str, int] = {}
    for release in default.releases:
        for name, count in _served(release).items():
            served[name] = served.get(name, 0) + count
    # The load balancer counts every request it served: the checks' through the test
    # listener too (one run a release, on the release's new revision: green, then blue).
    checks = sum(c.count for c in Config().verify.checks)
    for name in (GREEN, BLUE):
        served[name] = served.get(name, 0) + checks
    metrics = default.metrics
    assert metrics["namespace"] == "AWS/ApplicationELB"
    groups = metrics["target_groups"]
    assert set(groups) == {BLUE, GREEN}
    for name, found in groups.items():
        assert found["sum"] == {
            "RequestCount": served[name],
            "HTTPCode_Target_2XX_Count": served[name],
            "HTTPCode_Target_5XX_Count": 0,
        }
        dimensions = found["dimensions"]
        assert dimensions["TargetGroup"].startswith(f"targetgroup/{name}/")
        assert dimensions["LoadBalancer"].startswith("app/sample3-dev-alb/")


def test_a_revision_that_fails_under_load_is_rolled_back_by_the_5xx_alarm() -> None:
    """The fault is real code in release 2's app: good answers to the checks on the test
    listener, then 500s once production traffic reaches it; the stack's 5xx alarm on its
    target group (watched by the deployment) rolls it back during the termination wait."""
    config = Config.model_validate({"verify": {"checks": [{"path": "/", "count": 3}]}})
    result = run(Options(config, fault="fails-under-load"))
    first, second = result.releases
    assert first.outcome == "succeeded" and first.failed_requests == 0
    assert any("verify.alarms.enabled = true" in note for note in result.notes)
    stack = {s["name"]: s["resources"] for s in result.stacks}["sample3-dev-service"]
    assert stack >= 23 + 7  # the seven alarms
    # The checks through the test listener passed: the app answered them well.
    assert any("AfterAllowTestTraffic: Succeeded" in f"{s.event}; {s.detail}" for s in second.steps)
    shift = next(i for i, s in enumerate(second.steps) if s.event.startswith("production :80"))
    assert sum(s.failed for s in second.steps[: shift + 1]) == 0
    load = second.load
    assert load is not None and load["rate_per_minute"] == 10  # twice the alarm's threshold
    assert load["failed"] >= 5
    assert {(f["status"], f["target_group"]) for f in load["failures"]} == {(500, BLUE)}
    # What the 5xx alarm reads: the targets' 5xx, as many as the timeline shows failed.
    sums = result.metrics["target_groups"][BLUE]["sum"]
    assert sums["HTTPCode_Target_5XX_Count"] == load["failed"]
    # The stack's 5xx alarm on the new revision's group went to ALARM (its row), and
    # CodeDeploy stopped the deployment and rolled it back in the termination wait.
    assert second.outcome == "rolled back"
    assert "Activated alarms: <sample3-dev-blue-5xx>" in (second.cause or "")
    alarm = next(s for s in second.steps if s.kind == "alarm" and "OK → ALARM" in s.event)
    waited = next(s for s in second.steps if "(termination-wait)" in s.event)
    assert "sample3-dev-blue-5xx" in alarm.event and alarm.seconds > waited.seconds
    # ... and the row says whose revision it judged (review A2).
    assert f"(on green ({BLUE}), the new revision)" in alarm.event
    # Production served the failing revision only until then.
    back = next(
        i
        for i, s in enumerate(second.steps)
        if i > shift and s.event.startswith("production :80") and _live(s.production) == {GREEN}
    )
    assert sum(s.failed for s in second.steps[back + 1 :]) == 0
    # Rolled back during the termination wait: production back on release 1's group.
    assert _live(second.steps[-1].production) == {GREEN}
    assert load["greeting"] == {"status": 200, "body": SEED_GREETING, "target_group": GREEN}


def test_the_load_run_stops_by_itself_at_its_bound(
    plane: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Requests on the simulated clock, one every 60 / rate seconds, each read back from
    the load balancer's access log; at its bound the run stops and says why."""
    monkeypatch.setattr(load_mod, "MAX_REQUESTS", 5)
    create_service_stack(plane)
    until(plane, lambda: health_states(plane) == ["healthy"])
    address = listener_address(plane, 80)
    counter = iter(range(1, 1000))
    run_ = load_mod.LoadRun(plane, lambda: address, 12, lambda: next(counter))
    start = plane.clock.seconds
    run_.advance_to(start + 3600)
    assert plane.clock.seconds == start + 3600  # the clock went on without requests
    assert [r.seconds - start for r in run_.served] == [0, 5, 10, 15, 20]
    assert {(r.status, r.group) for r in run_.served} == {(200, BLUE)}
    assert not run_.active and run_.stopped == "the load run stopped at its bound of 5 requests"
    run_.advance_to(start + 7200)
    assert len(run_.served) == 5
