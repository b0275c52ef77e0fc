"""A broken FIRST release: the rehearsal fails it where bluegreen on AWS would, and
production never serves it.

What AWS does (the sources are cited in bluegreen/aws/release.py, replacement_health): a
first release's replacement target group is behind no listener while CodeDeploy installs
it, so its targets are ``unused`` (Target.NotInUse) and Install requires no health check
(the CodeDeploy team's note in traveloka/terraform-aws-alb-single-listener#47); CodeDeploy
completes a deployment whose replacement tasks are unhealthy (aws/containers-roadmap#1941).
The load balancer checks them once AllowTestTraffic points the test listener at them.
`bluegreen deploy`, which promotes the first release on its own, reads that health check
first: a failing one makes it stop the deployment (with rollback) instead of promoting.

The rehearsal runs the app for real (the data plane), so the answer is the app's own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bluegreen.appkit import init
from bluegreen.config import Config
from bluegreen.rehearse.model import Release
from bluegreen.rehearse.story import Options, run

GREEN = "sample3-dev-green"
MAIN = Path("webapp/app/main.py")


def _broken(tmp_path: Path, old: str, new: str) -> Release:
    init(tmp_path, Config())
    main = tmp_path / MAIN
    text = main.read_text(encoding="utf-8")
    assert old in text
    main.write_text(text.replace(old, new), encoding="utf-8")
    (release,) = run(Options(Config(), repository=tmp_path)).releases
    return release


def _production_never_on_green(release: Release) -> None:
    for step in release.steps:
        assert not step.production.get(GREEN), (step.seconds, step.event, step.production)


@pytest.mark.skipif(
    __import__("importlib").util.find_spec("fastapi") is None,
    reason="the scaffold's app runs only with its packages installed (pip install -e '.[dev]')",
)
def test_a_first_release_whose_health_path_answers_404_is_stopped_before_production(
    tmp_path: Path,
) -> None:
    # The app serves its health check on another path than the target groups check.
    release = _broken(tmp_path, 'HEALTH_PATH = "/health"', 'HEALTH_PATH = "/healthz"')
    assert release.outcome == "rolled back"
    # The cause is the load balancer's own: DescribeTargetHealth's reason and description
    # for a 404 (ELBv2 API reference, TargetHealth: Target.ResponseCodeMismatch).
    assert release.cause.startswith("deploy did not promote the first release: ")
    assert "health check behind the test listener :8080" in release.cause
    assert "Health checks failed with these codes: [404]" in release.cause
    held = [s for s in release.steps if s.kind == "operation" and "not promoting" in s.detail]
    assert held and held[0].event == "bluegreen deploy"
    # Test traffic reached the broken tasks (that is where the check failed) ...
    assert any(step.test.get(GREEN) for step in release.steps)
    # ... production never did, and the replacement is gone.
    _production_never_on_green(release)
    assert [t.target_group for t in release.steps[-1].task_sets] == ["sample3-dev-blue"]


def test_the_unmodified_scaffold_is_still_promoted_on_its_first_release(tmp_path: Path) -> None:
    init(tmp_path, Config())
    (release,) = run(Options(Config(), repository=tmp_path)).releases
    assert release.outcome == "succeeded", release.cause
    assert any("promoted the first release" in s.detail for s in release.steps)
    assert not any("not promoting" in s.detail for s in release.steps)
