"""End-to-end rehearsals: the operating code (deploy, git push, the release follower,
promote, rollback) against the emulated AWS, read with the code of ``bluegreen status``.

Every assertion on listeners and task sets reads the timeline, whose rows carry what a
status read showed at that moment. Rehearsals are shared per module where they can be.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bluegreen.config import Config, scaffold
from bluegreen.rehearse.model import Rehearsal, Release, Step
from bluegreen.rehearse.story import SEED_NEW_GREETING, Options, run

BLUE = "sample3-dev-blue"
GREEN = "sample3-dev-green"


def _config(**deployment: Any) -> Config:
    return Config.model_validate({"deployment": deployment})


def _operations(release: Release) -> list[str]:
    return [step.event for step in release.steps if step.kind == "operation"]


def _first(release: Release, text: str) -> Step:
    for step in release.steps:
        if text in step.event or text in step.detail:
            return step
    raise AssertionError(f"no step mentions {text!r}: {[s.event for s in release.steps]}")


def _live(weights: dict[str, int]) -> set[str]:
    return {name for name, weight in weights.items() if weight}


@pytest.fixture(scope="module")
def default() -> Rehearsal:
    """The default `bluegreen rehearse`: init's config, with its check."""
    return run(Options(scaffold()))


# --------------------------------------------------------------------------- the story


def test_a_manual_release_lists_the_reroute_wait_in_its_lead_time(default: Rehearsal) -> None:
    """reroute = "manual" (the default): push to production includes the wait for
    `bluegreen promote`, listed with deployment.wait_minutes (the rehearsal promotes as
    soon as it sees the deployment Ready); both lead times add up to their parts."""
    for release in default.releases:
        assert release.lead_time is not None
        for key in ("push_to_production", "push_to_done"):
            figure = release.lead_time[key]
            assert figure["seconds"] == round(sum(p["seconds"] for p in figure["parts"]), 1)
    parts = default.releases[1].lead_time["push_to_production"]["parts"]  # type: ignore[index]
    (wait,) = [p for p in parts if p["what"].startswith("the reroute wait")]
    assert wait["made_of"][0]["setting"] == "deployment.wait_minutes"
    assert wait["made_of"][0]["seconds"] == 10 * 60


def test_two_releases_succeed_through_the_operating_code(default: Rehearsal) -> None:
    first, second = default.releases
    assert [r.outcome for r in default.releases] == ["succeeded", "succeeded"]
    assert SEED_NEW_GREETING in second.message and "webapp/app/main.py" in second.changed
    assert all(re.fullmatch(r"[0-9a-f]{40}", r.commit) for r in default.releases)
    assert first.commit != second.commit
    # What the rehearsal ran, in order, with the commands' own code.
    assert _operations(first)[0] == "bluegreen deploy"
    # deploy promotes the first release itself: its row is deploy's, not a promote's.
    promoted = _first(first, "promoted the first release")
    assert (promoted.kind, promoted.event) == ("operation", "bluegreen deploy")
    assert set(_operations(first)) == {"bluegreen deploy"}
    # The second git push is to feature/rehearsal (builds.branches), made while the
    # release deploys: it deploys nothing (tests/test_rehearse.py's branch tests).
    assert _operations(second)[:3] == ["git push", "git push", "bluegreen promote"]
    # The first commit was made through CodeCommit's API by deploy (no empty file: B1).
    assert "committed 21 files" in _first(first, "committed").detail


def test_init_s_check_passes_each_release_on_the_test_listener_before_production(
    default: Rehearsal,
) -> None:
    """The hook's own code sends GET / three times through the test listener after the
    test traffic shift; each result is a row, in order, before production moves."""
    for release in default.releases:
        assert [(c["number"], c["request"], c["result"], c["status"]) for c in release.checks] == [
            (n, "GET /", "pass", 200) for n in (1, 2, 3)
        ]
        events = [step.event for step in release.steps]
        rows = [i for i, e in enumerate(events) if e.startswith("check ")]
        assert [events[i].split(":")[0] for i in rows] == [f"check {n}/3 GET /" for n in (1, 2, 3)]
        # Each request at its own time (review U13: all three had the run's end), one
        # verify.interval_seconds (1 s) apart on the simulated clock.
        times = [c["time"] for c in release.checks]
        assert times == sorted(times) and len(set(times)) == 3, times
        seconds = [release.steps[i].seconds for i in rows]
        assert [b - a for a, b in zip(seconds, seconds[1:], strict=False)] == [1, 1], seconds
        tested = next(i for i, e in enumerate(events) if e.startswith("test :8080 → green"))
        moved = next(i for i, e in enumerate(events) if e.startswith("production :80 → green"))
        assert tested < rows[0] and rows[-1] < moved
        for i in rows:
            step = release.steps[i]
            assert step.detail == 'expected 200, body matches "\\S", within 2000 ms'
            # status read it while the test listener served the new revision only
            assert _live(step.test) != _live(step.production)


def test_every_stack_is_made_through_change_sets_with_events(default: Rehearsal) -> None:
    details = [s.detail for s in default.releases[0].steps if s.event == "bluegreen deploy"]
    for stack in ("source", "service", "pipeline"):
        # The change set's full name: <stack>-<UTC time> (aws/deploy.py change_set_name).
        assert any(
            re.search(rf"sample3-dev-{stack}: creating change set sample3-dev-{stack}-\d{{14}} ", d)
            for d in details
        )
        assert any(f"sample3-dev-{stack}: CREATE_COMPLETE" in d for d in details)
    # The pipeline stack: 15, and 5 for the branch checks (builds.branches).
    # The service stack: 23, and 3 for init's check (the verify function, its role and
    # its log group).
    assert [s["resources"] for s in default.stacks] == [3, 26, 20]
    # A new account has no ECS service-linked role: deploy makes it (B2).
    assert any("service-linked role" in d for d in details)


def test_release_one_moves_test_then_production_to_the_replacement(default: Rehearsal) -> None:
    release = default.releases[0]
    ready = _first(release, "Ready")
    assert _live(ready.production) == {BLUE} and _live(ready.test) == {GREEN}
    assert {(t.status, t.target_group) for t in ready.task_sets} == {
        ("PRIMARY", BLUE),
        ("ACTIVE", GREEN),
    }
    # Each target group is shown with the role status gives it: blue serves production.
    assert ready.roles == {BLUE: "blue", GREEN: "green"}
    assert [(t.target_group, t.role) for t in ready.task_sets] == [(BLUE, "blue"), (GREEN, "green")]
    # The test listener's shift is a row of its own, at the time the listener changed
    # (AllowTestTraffic), before the read that found the deployment Ready.
    moved = _first(release, f"test :8080 → green ({GREEN})")
    assert (moved.event, moved.kind) == (f"test :8080 → green ({GREEN})", "status")
    assert moved.seconds <= ready.seconds and _live(moved.test) == {GREEN}
    assert f"test :8080 → green ({GREEN})" not in ready.detail  # not said twice
    assert f"task set sample3-dev-task:2 on green ({GREEN}): ACTIVE, 1 running" in ready.detail
    # The deployment is named with its full deployment group the first time it shows.
    started = _first(release, "Deployment d-")
    # (its own row's event since the pipeline's rows carry CodePipeline's times, review U4)
    said = f"{started.event}; {started.detail}"
    assert re.search(r"(^|; )Deployment d-\w+ of sample3-dev-deployment-group: ", said)
    shifted = _first(release, "termination-wait")
    assert _live(shifted.production) == {GREEN}
    # CodeDeploy keeps the old group behind the listener at weight 0 (AWS since 2022).
    assert shifted.production == {GREEN: 100, BLUE: 0}
    assert [t.status for t in shifted.task_sets] == ["PRIMARY", "ACTIVE"]
    done = release.steps[-1]
    assert [(t.status, t.target_group) for t in done.task_sets] == [("PRIMARY", GREEN)]


def test_images_are_the_content_tags_and_the_bootstrap_is_replaced(default: Rehearsal) -> None:
    first, second = default.releases
    # status shows image tags: the bootstrap's pinned public image, then content tags.
    bootstrap = next(s for s in first.steps if s.task_sets)
    assert bootstrap.task_sets[0].images["webapp"] == "3.12.11-slim-bookworm"
    assert [(b["action"], b["result"]) for b in first.builds] == [
        ("BuildApp", "built"),
        ("BuildRouter", "built"),
    ]
    assert first.images == {
        "webapp": first.builds[0]["tag"],
        "log-router": first.builds[1]["tag"],
    }


def test_the_greeting_change_rebuilds_the_app_and_reuses_the_router_image(
    default: Rehearsal,
) -> None:
    first, second = default.releases
    assert [(b["action"], b["result"]) for b in second.builds] == [
        ("BuildApp", "built"),
        ("BuildRouter", "reused"),
    ]
    assert second.images["webapp"] != first.images["webapp"]
    assert second.images["log-router"] == first.images["log-router"]
    # The skipped build is seconds of BUILD phase instead of a docker build and push.
    app, router = second.builds
    assert router["seconds"] < app["seconds"] - 100


def test_the_second_release_goes_to_the_other_target_group(default: Rehearsal) -> None:
    second = default.releases[1]
    ready = _first(second, "Ready")
    assert _live(ready.production) == {GREEN} and _live(ready.test) == {BLUE}
    assert _live(second.steps[-1].production) == {BLUE}


def test_simulated_time_comes_from_the_system(default: Rehearsal) -> None:
    # Two termination waits of 15 minutes alone take 30 minutes; builds, CloudFormation and
    # Fargate starts add more. Nothing of it is real time.
    assert default.simulated_seconds > 2 * 15 * 60
    termination = 15 * 60
    for release in default.releases:
        shifted = _first(release, "termination-wait").seconds
        succeeded = _first(release, "Succeeded (succeeded)").seconds
        assert termination <= succeeded - shifted <= termination + 150  # read every <= 120 s


# --------------------------------------------------------------------------- faults


@pytest.mark.parametrize(
    ("fault", "outcome", "cause"),
    [
        ("build-fails", "failed", "fault injected: build-fails"),
        ("test-traffic-fails", "rolled back", "check GET / (request 1 of 3) failed: status 500"),
        ("green-unhealthy", "rolled back", "replacement task set to become healthy"),
    ],
)
def test_faults_never_put_production_on_the_failed_release(
    fault: str, outcome: str, cause: str
) -> None:
    result = run(Options(scaffold(), fault=fault))
    first, second = result.releases
    assert first.outcome == "succeeded"
    assert second.outcome == outcome and cause in (second.cause or "")
    served = {name for step in second.steps for name in _live(step.production)}
    assert served == {GREEN}  # release 1's group served production throughout
    assert [t.task_definition for t in second.steps[-1].task_sets] == ["sample3-dev-task:2"]


# --------------------------------------------------------------------------- scenarios


def test_a_rollback_in_the_termination_wait_returns_production_to_blue() -> None:
    result = run(Options(Config(), scenario="rollback-in-termination-wait"))
    second = result.releases[1]
    assert second.outcome == "rolled back"
    # The rollback was the scenario's own: played as designed (the CLI exits 0).
    assert second.expected == "rolled back" and result.succeeded
    assert result.failed_release is None
    assert _operations(second) == ["git push", "bluegreen promote", "bluegreen rollback"]
    # CodeDeploy's rollback deployment (creator codeDeployRollback) is labelled as one.
    restore = _first(second, "Rollback deployment d-")
    assert "of sample3-dev-deployment-group: " in (restore.event + restore.detail)
    rollback = _first(second, "bluegreen rollback")
    assert "StopDeployment" in rollback.detail or "stopped deployment" in rollback.detail
    assert _live(second.steps[-1].production) == {GREEN}
    assert [t.task_definition for t in second.steps[-1].task_sets] == ["sample3-dev-task:2"]


def test_a_rollback_after_success_redeploys_the_previous_revision() -> None:
    result = run(Options(Config(), scenario="rollback-after-success"))
    second, rollback = result.releases[1], result.releases[2]
    assert second.outcome == "succeeded" and rollback.outcome == "succeeded"
    assert "bluegreen rollback" in _operations(rollback)
    # A new CodeDeploy deployment of release 1's task definition, never a primary-task-set
    # swap around CodeDeploy (aws-fidelity M3).
    assert rollback.deployment_id and rollback.deployment_id != second.deployment_id
    # bluegreen rollback's deployment (its description says so) is labelled a rollback.
    assert _first(rollback, f"Rollback deployment {rollback.deployment_id} of ").kind == "status"
    final = rollback.steps[-1]
    assert [t.task_definition for t in final.task_sets][0] == "sample3-dev-task:2"


def test_a_config_change_is_applied_and_an_impossible_one_refused() -> None:
    result = run(Options(Config(), scenario="config-change"))
    scaled, refused = result.releases[2], result.releases[3]
    assert scaled.outcome == "succeeded"
    assert any("desired count" in s.detail for s in scaled.steps)
    assert any(t.running == 3 for t in scaled.steps[-1].task_sets)
    assert refused.outcome == "succeeded"
    refusal = _first(refused, "refused (exit 2)")
    assert "nothing was changed" in refusal.detail


# --------------------------------------------------------------------------- configs


def test_canary_with_manual_reroute_shifts_ten_percent_first() -> None:
    result = run(Options(_config(config="CodeDeployDefault.ECSCanary10Percent5Minutes")))
    assert [r.outcome for r in result.releases] == ["succeeded", "succeeded"]
    weights = [s.production for s in result.releases[1].steps]
    assert {GREEN: 90, BLUE: 10} in weights or {BLUE: 10, GREEN: 90} in weights
    # Each shift is a row at the time the load balancer's listener changed, not at the
    # next status read: 10 % at AllowTraffic, the rest exactly 5 minutes later.
    for release in result.releases:
        shifts = [s for s in release.steps if s.event.startswith("production :80 → ")]
        assert "10%" in shifts[0].event and "%" not in shifts[1].event
        assert len(shifts) == 2
        assert shifts[1].seconds - shifts[0].seconds == 5 * 60
        assert shifts == sorted(shifts, key=lambda s: s.seconds)
        times = [s.seconds for s in release.steps]
        assert times == sorted(times)


def test_without_a_promote_the_reroute_wait_stops_the_deployment() -> None:
    result = run(Options(Config(), promote=False))
    first = result.releases[0]  # deploy promotes the first release itself
    assert first.outcome == "succeeded"
    second = result.releases[1]
    assert second.outcome == "rolled back"
    assert second.as_designed and result.succeeded  # what --no-promote asks for
    assert _live(second.steps[-1].production) == {GREEN}


def test_a_user_repository_is_copied_and_released_once(tmp_path: Path) -> None:
    from bluegreen.appkit import init

    config = Config()
    init(tmp_path, config)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = run(Options(config, repository=tmp_path))
    assert [r.outcome for r in result.releases] == ["succeeded"]
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # never changed


def test_a_feature_branch_push_is_tested_and_built_but_not_deployed(default: Rehearsal) -> None:
    (run,) = default.branch_runs
    assert run["branch"] == "feature/rehearsal"  # builds.branches = ["feature/*"]
    assert run["changed_files"] == ["webapp/app/main.py", "webapp/tests/test_main.py"]
    build = run["build"]
    assert build["build_id"].startswith("sample3-dev-branch-checks:")
    assert build["status"] == "SUCCEEDED" and build["commit"] == run["commit"]
    found = build["variables"]
    assert found["BRANCH"] == "feature/rehearsal"
    assert (found["APP_TESTS"], found["CHECKS"]) == ("passed", "passed")
    # The app changed on the branch: built (not pushed); the router did not: the
    # pipeline's image of the same content is in ECR, so it is not built again.
    assert (found["APP_IMAGE"], found["ROUTER_IMAGE"]) == ("built", "in-ecr")
    second = default.releases[1]
    assert found["ROUTER_TAG"] == second.images["log-router"]
    assert found["APP_TAG"] != second.images["webapp"]
    # Nothing deployed: the pipeline did not start, and release 2's deployment is the
    # last one.
    assert run["pipeline_started"] is False
    assert default.releases[-1].deployment_id == second.deployment_id
