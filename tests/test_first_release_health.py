"""A broken FIRST release: the rehearsal fails it where AWS would, and production never
serves it.

What AWS does: a target group behind no listener is not health-checked (its targets are
``unused``, Target.NotInUse: ALB guide, "Health checks for Application Load Balancer
target groups"; ELBv2 API reference, TargetHealth), and CodeDeploy's Install then
requires no health check of the replacement (the CodeDeploy team's note in
traveloka/terraform-aws-alb-single-listener#47), so a deployment can complete with
unhealthy replacement tasks (aws/containers-roadmap#1941). bluegreen's listeners
therefore forward {blue: 100, green: 0} from the first deploy (the shape CodeDeploy
leaves after every deployment since 2022): green is health-checked from the start, and
CodeDeploy's Install waits for its targets to be healthy, failing after its hour
(CircleCI-Public/aws-ecs-orb#134) and rolling back. That holds with reroute = "auto"
too, where no person and no `bluegreen deploy` stands between Install and production.

`bluegreen deploy`, which promotes the first release on its own when reroute is
"manual", still reads the health check behind the test listener before it promotes
(bluegreen/aws/release.py, replacement_health): a check that fails after Install (a
task that stops answering, one ECS replaced) makes it roll back instead of promoting.

The rehearsal runs the app for real (the data plane), so the answer is the app's own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bluegreen import config as config_mod
from bluegreen.appkit import init
from bluegreen.config import Config
from bluegreen.rehearse.model import Release
from bluegreen.rehearse.story import _HEALTH_500, _HEALTH_RETURN, Options, run

GREEN = "sample3-dev-green"
MAIN = Path("webapp/app/main.py")


def _broken(tmp_path: Path, old: str, new: str, config: Config | None = None) -> Release:
    config = config or Config()
    init(tmp_path, config)
    main = tmp_path / MAIN
    text = main.read_text(encoding="utf-8")
    assert old in text
    main.write_text(text.replace(old, new), encoding="utf-8")
    (release,) = run(Options(config, repository=tmp_path)).releases
    return release


def _production_never_on_green(release: Release) -> None:
    for step in release.steps:
        assert not step.production.get(GREEN), (step.seconds, step.event, step.production)


NEEDS_APP = pytest.mark.skipif(
    __import__("importlib").util.find_spec("fastapi") is None,
    reason="the scaffold's app runs only with its packages installed (pip install -e '.[dev]')",
)
INSTALL_TIMED_OUT = (
    "The deployment timed out while waiting for the replacement task set to become healthy. "
    "This time out period is 60 minutes."
)


def _rolled_back_in_install(release: Release) -> None:
    """CodeDeploy's Install failed the release on the load balancer's health check of
    green (behind both listeners at weight 0) and rolled it back: neither listener ever
    sent green a request, and only blue's task set is left."""
    assert release.outcome == "rolled back", release.cause
    assert release.cause == INSTALL_TIMED_OUT
    # The listeners kept green in their forward at weight 0 throughout (in use, so
    # health-checked) ...
    assert all(GREEN in step.production for step in release.steps if step.production)
    # ... and neither moved any traffic to it.
    _production_never_on_green(release)
    assert not any(step.test.get(GREEN) for step in release.steps)
    assert not any("promoted the first release" in s.detail for s in release.steps)
    assert [t.target_group for t in release.steps[-1].task_sets] == ["sample3-dev-blue"]


@NEEDS_APP
def test_a_first_release_whose_health_path_answers_404_fails_install(tmp_path: Path) -> None:
    # The app serves its health check on another path than the target groups check.
    release = _broken(tmp_path, 'HEALTH_PATH = "/health"', 'HEALTH_PATH = "/healthz"')
    _rolled_back_in_install(release)
    # deploy never had to hold it: the deployment never reached Ready.
    assert not any("not promoting" in s.detail for s in release.steps)


@NEEDS_APP
def test_a_first_release_that_reroutes_by_itself_is_rolled_back_by_codedeploy(
    tmp_path: Path,
) -> None:
    """reroute = "auto": CodeDeploy shifts production right after the test traffic with
    nobody and no deploy in between, so only Install's health gate can stop a broken first
    release; the health path answers 500 (what --fault green-unhealthy pushes)."""
    config = config_mod.parse('[deployment]\nreroute = "auto"\n')
    assert config.deployment.reroute == "auto"
    release = _broken(tmp_path, _HEALTH_RETURN, _HEALTH_500, config)
    _rolled_back_in_install(release)


@NEEDS_APP
def test_a_first_release_that_turns_unhealthy_after_install_is_not_promoted_by_deploy(
    tmp_path: Path,
) -> None:
    """deploy's own gate still matters: each task answers its first two health checks
    (the healthy threshold, so Install passes) and 500 from then on. By the time the
    deployment waits for reroute the load balancer has failed them and ECS has replaced
    them ("Task failed ELB health checks"), so deploy rolls back instead of promoting."""
    init(tmp_path, Config())
    main = tmp_path / MAIN
    text = main.read_text(encoding="utf-8")
    ok = 'HEALTH_OK = "Health Check OK"\n'
    assert ok in text and _HEALTH_RETURN in text
    text = text.replace(ok, ok + "_CHECKS = [0]\n").replace(
        _HEALTH_RETURN,
        "    _CHECKS[0] += 1\n"
        "    if _CHECKS[0] > 2:\n"
        '        return PlainTextResponse("stopped answering", status_code=500)\n' + _HEALTH_RETURN,
    )
    main.write_text(text, encoding="utf-8")
    (release,) = run(Options(Config(), repository=tmp_path)).releases
    assert release.outcome == "rolled back", release.cause
    assert (release.cause or "").startswith("deploy did not promote the first release: ")
    assert "health check behind the test listener :8080" in (release.cause or "")
    held = [s for s in release.steps if s.kind == "operation" and "not promoting" in s.detail]
    assert held and held[0].event == "bluegreen deploy"
    _production_never_on_green(release)
    assert [t.target_group for t in release.steps[-1].task_sets] == ["sample3-dev-blue"]


def test_the_unmodified_scaffold_is_still_promoted_on_its_first_release(tmp_path: Path) -> None:
    init(tmp_path, Config())
    (release,) = run(Options(Config(), repository=tmp_path)).releases
    assert release.outcome == "succeeded", release.cause
    assert any("promoted the first release" in s.detail for s in release.steps)
    assert not any("not promoting" in s.detail for s in release.steps)
