"""End-to-end rehearsals: the synthesized system in the embedded emulator, real releases.

Every assertion on listeners and task sets reads the timeline, whose steps are snapshots
read back from emulated ELBv2 and ECS at that moment. Rehearsals are shared per module
(each takes ~2 s), so the file stays well under 30 s with ``-n 2``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bluegreen.config import Config
from bluegreen.rehearse.model import Rehearsal, Release, Step
from bluegreen.rehearse.runner import Options, run

PROD = "sample3-dev-blue"
GREEN = "sample3-dev-green"


def _config(**deployment: Any) -> Config:
    return Config.model_validate({"deployment": deployment})


def _steps(release: Release, event: str) -> list[Step]:
    return [step for step in release.steps if step.event == event]


def _step(release: Release, event: str) -> Step:
    found = _steps(release, event)
    assert len(found) == 1, f"{event}: {[s.event for s in release.steps]}"
    return found[0]


def _primary(step: Step) -> list[Any]:
    return [t for t in step.task_sets if t.status == "PRIMARY"]


@pytest.fixture(scope="module")
def default() -> Rehearsal:
    return run(Options(Config()))


# --------------------------------------------------------------------------- default run


def test_two_releases_succeed_and_the_second_is_the_seed_change(default: Rehearsal) -> None:
    assert [r.outcome for r in default.releases] == ["succeeded", "succeeded"]
    second = default.releases[1]
    assert "こんにちは、あばしり" in second.message
    assert "webapp/app/main.py" in second.changed
    assert all(re.fullmatch(r"[0-9a-f]{40}", r.commit) for r in default.releases)
    assert default.releases[0].commit != second.commit


def test_bootstrap_serves_both_listeners_before_the_first_release(default: Rehearsal) -> None:
    first = default.releases[0].steps[0]
    assert first.event == "Source"
    assert first.production == {PROD: 100} and first.test == {PROD: 100}
    (primary,) = first.task_sets
    assert primary.status == "PRIMARY" and primary.target_group == PROD
    assert primary.images["webapp"].startswith("public.ecr.aws/")  # the bootstrap image


def test_release_one_phases_read_back(default: Rehearsal) -> None:
    release = default.releases[0]
    install = _step(release, "Install")
    assert install.production == {PROD: 100} and install.test == {PROD: 100}
    assert {(t.status, t.target_group) for t in install.task_sets} == {
        ("PRIMARY", PROD),
        ("ACTIVE", GREEN),
    }
    test_traffic = _step(release, "AllowTestTraffic")
    assert test_traffic.production == {PROD: 100} and test_traffic.test == {GREEN: 100}
    shifted = _step(release, "AllowTraffic")
    assert shifted.production == {GREEN: 100}
    # The default reroute = "manual" (STOP_DEPLOYMENT): the rehearsal promotes on the user's
    # behalf as soon as green is ready, so traffic moves at once.
    assert shifted.seconds - install.seconds == 0
    primary = _step(release, "Replacement task set PRIMARY")
    assert [t.target_group for t in _primary(primary)] == [GREEN]
    done = _step(release, "Original task set terminated")
    assert done.seconds - primary.seconds == 15 * 60
    assert [t.target_group for t in done.task_sets] == [GREEN]


def test_registered_images_are_the_commit_tags(default: Rehearsal) -> None:
    for release in default.releases:
        tag = release.commit  # the whole commit id, as the buildspecs tag images
        assert set(release.images) == {"webapp", "log-router"}
        assert release.images["webapp"].endswith(f"/sample3-dev-webapp:{tag}")
        assert release.images["log-router"].endswith(f"/sample3-dev-log-router:{tag}")
        final = release.steps[-1]
        (primary,) = _primary(final)
        assert primary.images == release.images  # read back from describe_task_definition
        assert primary.running == 1


def test_second_release_goes_to_the_other_target_group(default: Rehearsal) -> None:
    second = default.releases[1]
    assert second.steps[0].production == {GREEN: 100}
    assert _step(second, "AllowTestTraffic").test == {PROD: 100}
    final = second.steps[-1]
    assert final.production == {PROD: 100} and final.test == {PROD: 100}
    assert [t.task_definition for t in final.task_sets] == ["sample3-dev-task:3"]


def test_simulated_time_comes_from_the_system(default: Rehearsal) -> None:
    # per release: 30 s health + 15 min termination wait (promoted at once: no reroute wait)
    assert default.simulated_seconds == 2 * (30 + 900)
    assert default.wall_seconds < 30


# --------------------------------------------------------------------------- faults


@pytest.mark.parametrize("fault", ["green-unhealthy", "test-traffic-fails", "build-fails"])
def test_faults_roll_back_and_never_touch_production(fault: str) -> None:
    result = run(Options(Config(), fault=fault))
    first, second = result.releases
    assert first.succeeded
    assert not result.succeeded and result.failed_release is second
    assert fault in str(second.cause) or fault in " ".join(s.detail for s in second.steps)
    # production never forwarded to the failed replacement (blue here)
    assert all(step.production == {GREEN: 100} for step in second.steps)
    final = second.steps[-1]
    assert final.test == {GREEN: 100}
    assert [(t.status, t.target_group) for t in final.task_sets] == [("PRIMARY", GREEN)]
    if fault == "build-fails":
        assert second.outcome == "failed" and not second.images
        assert not _steps(second, "Install")
    else:
        assert second.outcome == "rolled back"
        assert _step(second, "Rollback") is final
    if fault == "green-unhealthy":
        install = _step(second, "Install")
        replacement = [t for t in install.task_sets if t.status == "ACTIVE"]
        assert replacement and replacement[0].running == 0  # ECS stopped the failing tasks
        assert not _steps(second, "AllowTestTraffic")
    if fault == "test-traffic-fails":
        assert _step(second, "AllowTestTraffic").test == {PROD: 100}


# --------------------------------------------------------------------------- deployment configs


def test_canary_with_manual_reroute() -> None:
    result = run(
        Options(_config(config="CodeDeployDefault.ECSCanary10Percent5Minutes", reroute="manual"))
    )
    assert result.succeeded
    release = result.releases[0]
    reroute = _step(release, "Reroute")
    assert "promote" in reroute.detail
    assert reroute.seconds == _step(release, "AllowTestTraffic").seconds  # no wait: promoted
    shifts = _steps(release, "AllowTraffic")
    assert [s.production for s in shifts] == [{PROD: 90, GREEN: 10}, {GREEN: 100}]
    assert shifts[1].seconds - shifts[0].seconds == 5 * 60


def test_linear_shifts_ten_percent_a_minute() -> None:
    result = run(Options(_config(config="CodeDeployDefault.ECSLinear10PercentEvery1Minutes")))
    assert result.succeeded
    shifts = _steps(result.releases[1], "AllowTraffic")
    weights = [s.production.get(PROD, 0) for s in shifts]
    assert weights == [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    assert [s.seconds - shifts[0].seconds for s in shifts] == [60 * i for i in range(10)]
    assert shifts[4].production == {GREEN: 50, PROD: 50}


def test_manual_reroute_not_promoted_times_out_and_rolls_back() -> None:
    result = run(Options(_config(reroute="manual", wait_minutes=7), promote=False))
    (release,) = result.releases  # the first release already fails: no second
    assert release.outcome == "rolled back"
    assert "7 min" in str(release.cause)
    assert all(step.production == {PROD: 100} for step in release.steps)
    assert release.steps[-1].seconds - _step(release, "AllowTestTraffic").seconds == 7 * 60
    assert "Reroute stopped" in release.steps[-1].detail


def test_without_auto_rollback_a_stopped_deployment_is_left_as_it_is() -> None:
    # DeploymentReadyOption: when the wait runs out "the deployment status is changed to
    # Stopped"; without rollback the components stay where they are (user guide, "What
    # happens during an Amazon ECS deployment"): test on green, green still running.
    result = run(
        Options(_config(reroute="manual", wait_minutes=7, auto_rollback=False), promote=False)
    )
    (release,) = result.releases
    assert release.outcome == "failed"
    final = release.steps[-1]
    assert final.event == "Deployment stopped"
    assert all(step.production == {PROD: 100} for step in release.steps)
    assert final.test == {GREEN: 100}
    assert [(t.status, t.target_group, t.running) for t in final.task_sets] == [
        ("PRIMARY", PROD, 1),
        ("ACTIVE", GREEN, 1),
    ]


# --------------------------------------------------------------------------- template change


def test_a_template_change_shows_up_in_the_rehearsal() -> None:
    def edit(out: Path) -> None:
        path = out / "2-service.yaml"
        text = path.read_text(encoding="utf-8")
        assert text.count("HealthCheckIntervalSeconds: 15") == 2
        assert text.count("DesiredCount: 1") == 1
        text = text.replace("HealthCheckIntervalSeconds: 15", "HealthCheckIntervalSeconds: 40")
        path.write_text(text.replace("DesiredCount: 1", "DesiredCount: 3"), encoding="utf-8")

    result = run(Options(Config(), edit_templates=edit))
    release = result.releases[0]
    assert release.steps[0].task_sets[0].running == 3
    install = _step(release, "Install")
    created = _step(release, "Deployment created")
    assert install.seconds - created.seconds == 2 * 40
    assert "3 healthy targets" in install.detail


def test_an_unknown_resource_type_is_an_error_naming_it() -> None:
    from bluegreen.errors import RehearsalError

    def edit(out: Path) -> None:
        path = out / "1-source.yaml"
        text = path.read_text(encoding="utf-8")
        path.write_text(
            text.replace("Resources:\n", "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n", 1),
            encoding="utf-8",
        )

    with pytest.raises(RehearsalError, match=r"1-source.yaml: Topic has type AWS::SNS::Topic"):
        run(Options(Config(), edit_templates=edit))


# --------------------------------------------------------------------------- user repository


def test_a_user_repository_is_copied_and_released_once(tmp_path: Path) -> None:
    from bluegreen.appkit import init

    init(tmp_path, Config())
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    result = run(Options(Config(), repository=tmp_path))
    (release,) = result.releases
    assert release.succeeded
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before
    assert not (tmp_path / ".git").exists()


@pytest.mark.parametrize(
    ("path", "edit", "cause"),
    [
        ("taskdef.json", lambda text: "{", "taskdef.json is not JSON"),
        ("taskdef.json", lambda text: text.replace('"name": "webapp"', '"name": "web"'), ""),
        ("appspec.yml", lambda text: text.replace('"webapp"', '"web"'), ""),
    ],
)
def test_a_broken_taskdef_or_appspec_fails_the_release_without_a_crash(
    tmp_path: Path, path: str, edit: Any, cause: str
) -> None:
    from bluegreen.appkit import init

    init(tmp_path, Config())
    file = tmp_path / path
    file.write_text(edit(file.read_text(encoding="utf-8")), encoding="utf-8")
    (release,) = run(Options(Config(), repository=tmp_path)).releases
    assert release.outcome == "failed"
    assert cause in (release.cause or "")
    assert release.steps[-1].event == "Deployment failed"


def test_hooks_run_in_the_documented_order_and_primary_flips_at_its_own_step(
    tmp_path: Path,
) -> None:
    # CodeDeploy user guide, "What happens during an Amazon ECS deployment": BeforeInstall,
    # Install, AfterInstall, AllowTestTraffic, AfterAllowTestTraffic, BeforeAllowTraffic,
    # AllowTraffic, AfterAllowTraffic. The timeline step that says the replacement became
    # PRIMARY must be the first one whose read-back state shows it.
    from bluegreen.appkit import init

    init(tmp_path, Config())
    appspec = tmp_path / "appspec.yml"
    hooks = ("BeforeInstall", "AfterInstall", "AfterAllowTestTraffic")
    hooks += ("BeforeAllowTraffic", "AfterAllowTraffic")
    appspec.write_text(
        appspec.read_text(encoding="utf-8")
        + "Hooks:\n"
        + "".join(f'  - {hook}: "fn{hook}"\n' for hook in hooks),
        encoding="utf-8",
    )
    (release,) = run(Options(Config(), repository=tmp_path)).releases
    assert release.succeeded
    lifecycle = (*hooks, "Install", "AllowTestTraffic", "AllowTraffic")
    assert [s.event for s in release.steps if s.event in lifecycle] == [
        "BeforeInstall",
        "Install",
        "AfterInstall",
        "AllowTestTraffic",
        "AfterAllowTestTraffic",
        "BeforeAllowTraffic",
        "AllowTraffic",
        "AfterAllowTraffic",
    ]
    flipped = next(s for s in release.steps if [t.target_group for t in _primary(s)] == [GREEN])
    assert flipped.event == "Replacement task set PRIMARY"
