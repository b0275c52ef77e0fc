"""A hook of the user's own in appspec.yml is played as bluegreen.toml declares it.

The emulator cannot run a Lambda function's code; a hook it does not know fails the
rehearsed release (naming the setting), a declared one reports through CodeDeploy's API
as the function's role, and CodeDeploy's service role must be allowed to invoke it (the
limited managed policy allows ``CodeDeployHook_*`` functions only: AWS managed policy
reference, AWSCodeDeployRoleForECSLimited).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bluegreen.config import Config
from bluegreen.rehearse.story import Options, run

HOOK = "CodeDeployHook_smoke"


def _repository(
    path: Path, config: Config, function: str, event: str = "AfterAllowTestTraffic"
) -> None:
    from bluegreen.appkit import init

    init(path, config)
    appspec = path / "appspec.yml"
    appspec.write_text(
        appspec.read_text(encoding="utf-8") + f'Hooks:\n  - {event}: "{function}"\n',
        encoding="utf-8",
    )


@pytest.mark.parametrize(
    ("function", "play", "outcome", "cause"),
    [
        (HOOK, "succeed", "succeeded", None),
        (HOOK, "fail", "rolled back", "AfterAllowTestTraffic"),
        (HOOK, None, "rolled back", f'[rehearse] hooks = {{ {HOOK} = "succeed" }}'),
        # Declared, but the limited policy lets CodeDeploy invoke CodeDeployHook_* only.
        ("smoke", "succeed", "rolled back", "following AWS service: AWSLambda"),
    ],
)
def test_a_hook_of_the_users_own_is_played_as_declared(
    tmp_path: Path, function: str, play: str | None, outcome: str, cause: str | None
) -> None:
    config = Config.model_validate({"rehearse": {"hooks": {function: play} if play else {}}})
    _repository(tmp_path, config, function)
    (release,) = run(Options(config, repository=tmp_path)).releases
    assert release.outcome == outcome, release.cause
    if cause is None:
        assert release.cause is None
    else:
        assert release.cause is not None and cause in release.cause
    if outcome != "succeeded":
        # Production never on the release whose hook failed.
        assert all(
            weights.get("sample3-dev-green", 0) == 0
            for weights in (step.production for step in release.steps)
        )


def test_a_failure_after_production_moved_returns_production_to_the_old_tasks(
    tmp_path: Path,
) -> None:
    # AfterAllowTraffic runs once production is on the replacement; a failed hook there
    # fails the deployment and, with automatic rollback, CodeDeploy reroutes production
    # back to the original task set ("Redeploy and roll back a deployment with
    # CodeDeploy": a rolled-back ECS deployment shifts traffic back to the original).
    config = Config.model_validate({"rehearse": {"hooks": {HOOK: "fail"}}})
    _repository(tmp_path, config, HOOK, event="AfterAllowTraffic")
    (release,) = run(Options(config, repository=tmp_path)).releases
    assert release.outcome == "rolled back", release.cause
    assert release.cause is not None and "AfterAllowTraffic" in release.cause
    # The hook runs after AllowTraffic (the AppSpec hooks reference's order), so the
    # release had production; the rollback deployment gave it back to blue.
    assert release.cause.startswith("The AfterAllowTraffic hook CodeDeployHook_smoke")
    production = [step.production for step in release.steps if step.production]
    assert production[-1].get("sample3-dev-blue") == 100
    assert production[-1].get("sample3-dev-green", 0) == 0
