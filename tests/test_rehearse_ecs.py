"""``bluegreen rehearse`` of a repository made by ``bluegreen init --engine ecs``: the same
timeline and JSON document as with CodeDeploy, in ECS's terms, through the engine
interface (src/bluegreen/engine/ecs.py) against the emulated ECS service deployments
(src/bluegreen/emulator/services/ecs_native.py).

What ECS does and the sources: the lifecycle stages in order (ECS developer guide,
"Amazon ECS blue/green service deployments workflow"; ServiceDeployment.lifecycleStage,
ECS API reference), test traffic on the alternate target group before production, a
PAUSE hook at POST_TEST_TRAFFIC_SHIFT continued with ContinueServiceDeployment ("Pause
hooks for Amazon ECS service deployments"), BAKE_TIME then CLEAN_UP
(DeploymentConfiguration.bakeTimeInMinutes), LINEAR steps (LinearConfiguration), and a
failed release rolled back to the source revision (ServiceDeployment.rollback).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bluegreen import config as config_mod
from bluegreen.appkit import init
from bluegreen.cli.app import main

ECS = '[deployment]\nengine = "ecs"\n'
LINEAR = (
    ECS + '[deployment.ecs]\nstrategy = "LINEAR"\nstep_percent = 50.0\n'
    "step_bake_minutes = 2\nbake_minutes = 1\n"
)


def _repository(tmp_path: Path, text: str = ECS) -> Path:
    root = tmp_path / "app"
    init(root, config_mod.parse(text))
    return root


def _rehearse(
    root: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, dict[str, Any]]:
    code = main(["rehearse", str(root), "--output", "json", *extra])
    return code, json.loads(capsys.readouterr().out)


def _events(release: dict[str, Any]) -> list[str]:
    return [f"{s['event']} {s['detail']}" for s in release["steps"]]


def _first(events: list[str], text: str, start: int = 0) -> int:
    return next(i for i, e in enumerate(events) if text in e and i >= start)


def test_the_ecs_story_tests_pauses_promotes_shifts_bakes_and_cleans_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The deploy step's polling (`sleep 15` in a played build) follows the simulated
    # clock (tests/test_builds_sleep.py): a real one would be stopped after 120 s.
    code = main(["rehearse", str(_repository(tmp_path)), "--output", "json"])
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert code == 0, data
    # the progress says why the first deploy goes quiet for the bake (review U8)
    assert "it still bakes 15 min (deployment.ecs.bake_minutes)" in captured.err
    assert data["outcome"] == "succeeded"
    assert data["deployment_group"] == "service sample3-dev-service"
    assert data["deployment_config"].startswith("ECS BLUE_GREEN, PAUSE hook at POST_TEST")
    (release,) = data["releases"]
    assert release["outcome"] == "succeeded"
    assert (
        "service-deployment/sample3-dev-cluster/sample3-dev-service/" in (release["deployment_id"])
    )
    events = _events(release)
    text = "\n".join(events)
    # The service's creation paused too, and deploy continued it (nothing served yet).
    creation = _first(events, "the service's creation, at its pause")
    created = _first(events, "sample3-dev-service: CREATE_COMPLETE")
    assert creation < created
    # The release: test traffic on the alternate target group, the pause, the promote,
    # production moved, the bake, the clean-up, in that order.
    deploying = _first(events, "Deploy/Deploy: InProgress")
    test_shift = _first(events, "test :8080 → green (sample3-dev-green)", deploying)
    paused = _first(events, "AWAITING_ACTION", deploying)
    promoted = _first(events, "promoted the first release", deploying)
    production = _first(events, "production :80 →", deploying)
    bake = _first(events, "BAKE_TIME: InProgress", deploying)
    cleaned = _first(events, "CLEAN_UP: Succeeded", deploying)
    assert creation < created < deploying
    assert deploying < test_shift < paused < promoted < production < bake < cleaned
    assert "Service deployment " in text and " of service sample3-dev-service: " in text
    for stage in ("PRE_SCALE_UP", "SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT"):
        assert f"{stage}: Succeeded" in text
    assert "codedeploy" not in text.lower() and "CodeDeploy" not in text
    # A pipeline action's row is at the time CodePipeline recorded it, where the lead
    # time puts it, not at the next status read (review U4: up to 90 s late).
    parts = release["lead_time"]["push_to_production"]["parts"]
    for action in ("BuildApp", "BuildRouter"):
        seen = next(p for p in parts if p["what"].startswith(f"Build/{action}: CodePipeline sees"))
        row = next(s for s in release["steps"] if s["event"] == f"Build/{action}: Succeeded")
        assert abs(row["seconds"] - (seen["start_seconds"] + seen["seconds"])) <= 1
    # hooks by what they are, not their generated hookIds (review U16)
    assert "hook pause: AWAITING_ACTION" in text
    assert "hook AWS_LAMBDA" not in text and "hook PAUSE" not in text
    # deploy says why the service stack's creation takes the bake more (review U8)
    assert (
        "it still bakes 15 min (deployment.ecs.bake_minutes) before it ends" in (events[creation])
    )
    # Production is on green only after the promote.
    for step in release["steps"][: promoted + 1]:
        assert step["production"].get("sample3-dev-green", 0) == 0
    final = release["steps"][-1]
    assert final["production"] == {"sample3-dev-blue": 0, "sample3-dev-green": 100}
    assert [t["status"] for t in final["task_sets"]] == ["PRIMARY"]
    # The lead time in ECS's terms: production moves during the deploy build; the
    # release is done when the bake is over and blue's tasks stopped (the pipeline's
    # Deploy build ended at BAKE_TIME).
    lead = release["lead_time"]
    for key in ("push_to_production", "push_to_done"):
        assert lead[key]["seconds"] == round(sum(p["seconds"] for p in lead[key]["parts"]), 1)
    done = [p["what"] for p in lead["push_to_done"]["parts"]]
    assert done[-1].startswith("the bake (15 min), then ECS stops blue's tasks")
    assert lead["push_to_production"]["parts"][-1]["what"].startswith("production :80")
    assert "codedeploy" not in json.dumps(lead).lower()


@pytest.mark.parametrize(
    ("fault", "outcome", "cause"),
    [
        # the hook's real checks against the app answering 500 on /
        ("test-traffic-fails", "rolled back", "check GET / (request 1 of 3) failed: status 500"),
        ("green-unhealthy", "rolled back", "circuit breaker was triggered"),
        ("build-fails", "failed", "Build/BuildApp"),
    ],
)
def test_each_fault_rolls_back_and_production_never_serves_the_failed_revision(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fault: str, outcome: str, cause: str
) -> None:
    # init's config, with its check (which test-traffic-fails needs).
    root = tmp_path / "app"
    init(root, config_mod.scaffold({"deployment": {"engine": "ecs"}}))
    code, data = _rehearse(root, capsys, "--fault", fault)
    assert code == 1
    failed = data["releases"][-1]
    assert failed["fault"] == fault
    assert failed["outcome"] == outcome
    assert cause in failed["cause"]
    # Production never forwards to a target group running the failed release's revision
    # (the newest task definition seen in the release).
    revisions = {t["task_definition"] for s in failed["steps"] for t in s["task_sets"]}
    newest = max(revisions, key=lambda r: int(r.rsplit(":", 1)[1]))
    for step in failed["steps"]:
        for task_set in step["task_sets"]:
            if task_set["task_definition"] == newest and task_set["status"] != "PRIMARY":
                assert step["production"].get(task_set["target_group"], 0) == 0, step
    if outcome == "rolled back":
        events = "\n".join(_events(failed))
        assert "ROLLBACK_SUCCESSFUL" in events
    # Each reason is one line: the deploy step's failure says what its script printed
    # last, never the script (F6).
    for step in failed["steps"]:
        assert "\n" not in step["event"] + step["detail"], step
    if fault != "build-fails":
        (deploy,) = [e for e in _events(failed) if e.startswith("Deploy/Deploy: Failed")]
        assert "(26-line script)` failed: exit status 1; last output: the deployment did " in (
            deploy
        )
        assert "describe-service-deployments" not in deploy


def test_a_linear_release_shifts_production_in_steps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, data = _rehearse(_repository(tmp_path, LINEAR), capsys)
    assert code == 0, data
    assert data["deployment_config"].startswith("ECS LINEAR 50 % every 2 min")
    (release,) = data["releases"]
    shifts = [
        s["production"]
        for s in release["steps"]
        if s["event"].startswith("production :80") or "production :80 →" in s["detail"]
    ]
    # Half, then all (LinearConfiguration.stepPercent 50).
    assert shifts[0] == {"sample3-dev-blue": 50, "sample3-dev-green": 50}
    assert shifts[-1] == {"sample3-dev-blue": 0, "sample3-dev-green": 100}
    events = "\n".join(_events(release))
    assert "production :80 → blue (sample3-dev-blue) 50%, green (sample3-dev-green) 50%" in events


def test_the_deployments_link_is_the_engines_console() -> None:
    from bluegreen.engine import deployments_console

    ecs = deployments_console("ap-northeast-1", config_mod.parse(ECS), {})
    assert ecs == (
        "https://ap-northeast-1.console.aws.amazon.com/ecs/v2/clusters/sample3-dev-cluster/"
        "services/sample3-dev-service/deployments?region=ap-northeast-1"
    )
    codedeploy = deployments_console("ap-northeast-1", config_mod.parse(""), {})
    assert "/codesuite/codedeploy/applications/" in codedeploy
    assert codedeploy.endswith(
        "deployment-groups/sample3-dev-deployment-group?region=ap-northeast-1"
    )


def test_the_engine_switch_of_a_running_codedeploy_system_is_rehearsed_as_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Issue 10 item 5, rehearsed: the scaffold's CodeDeploy system runs two releases,
    then its config switches to deployment.engine = "ecs" and `bluegreen deploy` refuses
    it (exit 2), changing nothing, with the ways to move (aws/owned.py)."""
    assert main(["rehearse", "--scenario", "engine-switch", "--output", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    first, second, switch = data["releases"]
    assert (first["outcome"], second["outcome"]) == ("succeeded", "succeeded")
    assert switch["outcome"] == "succeeded" and switch["as_designed"]
    events = [(s["event"], s["detail"]) for s in switch["steps"]]
    assert events[0] == ("bluegreen deploy", 'with deployment.engine = "ecs"')
    assert events[1][0] == "refused (exit 2)"
    assert "runs the CODE_DEPLOY deployment controller" in events[1][1]
    assert events[1][1].endswith("nothing was changed, production still served")
    ways = [detail for event, detail in events if event == "the ways to move"]
    assert [w[:3] for w in ways] == ["(1)", "(2)", "(3)"]
    assert "migrate-codedeploy-to-ecs-bluegreen.html" in ways[2]
    # Production stayed on release 2's target group throughout.
    served = {tuple(sorted(s["production"].items())) for s in switch["steps"]}
    assert len(served) == 1


def test_the_engine_switch_scenario_needs_a_codedeploy_system(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rehearse", str(_repository(tmp_path)), "--scenario", "engine-switch"]) == 2
    err = capsys.readouterr().err
    assert "rehearses moving a running CodeDeploy system to ECS" in err
    assert 'deployment.engine = "ecs"' in err


BLUE_GREEN_BAKE = ECS + "[deployment.ecs]\nbake_minutes = 5\n"
LINEAR_BAKE = LINEAR.replace("\nbake_minutes = 1\n", "\nbake_minutes = 5\n")


@pytest.mark.parametrize("text", [BLUE_GREEN_BAKE, LINEAR_BAKE], ids=["BLUE_GREEN", "LINEAR"])
def test_blue_and_green_keep_their_meaning_through_the_production_shift(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    """Review F3: for the whole of a release, blue is the target group of the revision
    production was on when the deployment started (sourceServiceRevisions) and green
    the target revision's, as CodeDeploy labels its task sets; before the fix, status
    labelled whichever group production forwarded to most "blue", so green became
    "blue" once production moved. The bake is named as ECS names it (BAKE_TIME)."""
    code, data = _rehearse(_repository(tmp_path, text), capsys)
    assert code == 0, data
    (release,) = data["releases"]
    steps = release["steps"]
    events = _events(release)
    deploying = _first(events, "Deploy/Deploy: InProgress")
    done = _first(events, "SUCCESSFUL (succeeded)", deploying)
    release_steps = [s for s in steps[deploying:done] if s["roles"]]
    before = [s for s in release_steps if not s["production"].get("sample3-dev-green")]
    after = [s for s in release_steps if s["production"].get("sample3-dev-green")]
    assert before and after
    # The release's green target group is green before, during and after the shift, in
    # the roles of every row and in its task sets; the source's is blue throughout.
    for step in release_steps:
        assert step["roles"] == {"sample3-dev-blue": "blue", "sample3-dev-green": "green"}, step
        for task_set in step["task_sets"]:
            expected = {"sample3-dev-blue": "blue", "sample3-dev-green": "green"}
            assert task_set["role"] == expected[task_set["target_group"]], step
    # Production all on green, still called green (the timeline's text too).
    assert any(s["production"] == {"sample3-dev-blue": 0, "sample3-dev-green": 100} for s in after)
    assert "production :80 → green (sample3-dev-green)" in "\n".join(events)
    if text == LINEAR_BAKE:
        assert (
            "production :80 → blue (sample3-dev-blue) 50%, green (sample3-dev-green) 50%"
            in "\n".join(events)
        )
    assert "blue (sample3-dev-green)" not in "\n".join(events[deploying:done])
    baking = _first(events, "BAKE_TIME: InProgress", deploying)
    assert "(bake-time)" in events[baking]
    assert "termination-wait" not in "\n".join(events)
