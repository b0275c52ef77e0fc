"""`bluegreen sandbox` with an ECS-engine system (review of issue 10, F4): its log reads
the deployments through the engine interface (bluegreen.engine.watch), so the pause of
an ECS service deployment gets the same "waits for reroute" cue as CodeDeploy's Ready
(ECS: a PAUSE hook AWAITING_ACTION, which ContinueServiceDeployment continues; ECS
developer guide, "Pause lifecycle hooks"), and its banner lists the commands that apply
to the configured engine only (no `finish` under ECS: no API ends a bake,
bluegreen.engine.ecs)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ecs_support import CLUSTER, ECS_CONFIG, SERVICE, release
from emulated import Emulated, wired

from bluegreen import config as config_mod
from bluegreen.cli import sandbox as sandbox_cli
from bluegreen.emulator import Emulator
from bluegreen.emulator.sandbox import Sandbox, Settings


@pytest.fixture
def ecs_system(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Emulated]:
    with wired(tmp_path, monkeypatch, capsys, config_mod.parse(ECS_CONFIG)) as emulated:
        yield emulated


def _newest(aws: Emulator) -> dict[str, Any]:
    ecs = aws.client("ecs")
    listed = ecs.list_service_deployments(cluster=CLUSTER, service=SERVICE, maxResults=100)[
        "serviceDeployments"
    ]
    newest = max(listed, key=lambda d: d["createdAt"])
    found: dict[str, Any] = ecs.describe_service_deployments(
        serviceDeploymentArns=[newest["serviceDeploymentArn"]]
    )["serviceDeployments"][0]
    return found


def test_the_sandbox_log_cues_promote_when_an_ecs_deployment_pauses(
    ecs_system: Emulated,
) -> None:
    from bluegreen.engine.watch import DeploymentWatch

    watcher = Sandbox(
        Settings(port=0, default_region="ap-northeast-1"), deployments=DeploymentWatch().lines
    )
    watcher.emulator = ecs_system.aws  # observe reads through the account's API, in process
    log: list[str] = []

    def observed(text: str) -> bool:
        log.extend(line.split("  ", 1)[1] for line in watcher.observe())
        return any(text in line for line in log)

    aws = ecs_system.aws
    assert ecs_system.cli("deploy", "--yes", "--no-follow").code == 0
    # The first release through the pipeline pauses: deploy would promote it.
    ecs_system.until(lambda: observed("waits for reroute: the first release"), step=15)
    first = _newest(aws)["serviceDeploymentArn"].rsplit("/", 1)[-1]
    assert (
        f"service deployment {first}: waits for reroute: the first release, which "
        "`bluegreen deploy` promotes as it follows it (after `deploy --no-follow`: "
        "`bluegreen promote`)"
    ) in log
    assert ecs_system.cli("promote").code == 0
    ecs_system.until(lambda: observed(f"service deployment {first}: SUCCESSFUL"), step=60)

    # A later release pauses for a person: the cue names promote.
    release(aws, "two")
    ecs_system.until(lambda: _newest(aws)["serviceDeploymentArn"].endswith(first) is False)
    second = _newest(aws)["serviceDeploymentArn"].rsplit("/", 1)[-1]
    ecs_system.until(lambda: observed(f"service deployment {second}: waits for reroute"), step=15)
    assert (
        f"service deployment {second}: waits for reroute: test green on the test listener, "
        "then `bluegreen promote` (or `bluegreen rollback`)"
    ) in log
    done = ecs_system.cli("rollback")
    assert done.code == 0, done.err
    try:
        ecs_system.until(
            lambda: observed(f"service deployment {second}: ROLLBACK_SUCCESSFUL"), step=15
        )
    except AssertionError:
        raise AssertionError("\n".join(log)) from None
    # Each cue said once.
    assert sum("waits for reroute" in line for line in log) == 2


def _banner(engine: str | None, capsys: pytest.CaptureFixture[str]) -> list[str]:
    from types import SimpleNamespace

    box = Sandbox(Settings(port=0, default_region="ap-northeast-1"))
    box.endpoint = SimpleNamespace(url="http://127.0.0.1:4566")  # not opened: the banner only
    box.status = lambda: {  # type: ignore[method-assign]
        "clock": "2026-12-01T00:00:00+00:00",
        "account": "123456789012",
        "region": "ap-northeast-1",
        "repositories": {},
    }
    capsys.readouterr()
    sandbox_cli._introduce(box, engine)
    return capsys.readouterr().out.splitlines()


@pytest.mark.parametrize("engine", ["ecs", "codedeploy", None])
def test_the_banner_lists_the_commands_of_the_configured_engine(
    engine: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = _banner(engine, capsys)
    commands = [line.split()[1] for line in lines if line.startswith("  bluegreen ")]
    assert "promote" in commands
    text = "\n".join(lines)
    if engine == "ecs":
        assert "finish" not in text
        assert "rollback" in commands
    else:
        assert "then finish or rollback" in text
    if engine is None:
        assert 'finish: engine "codedeploy" only' in text
