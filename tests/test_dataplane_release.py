"""Releases of the scaffold whose app really runs: what AWS would make of each revision.

`bluegreen deploy` and `git push` against an emulated account with the data plane on
(the rehearsal's): every revision's app container runs from the files CodeBuild built its
image from, the load balancer checks it over HTTP, and the listeners' local servers
answer with what the app answers. A revision that would fail on AWS fails here with the
cause AWS gives, and production keeps serving the revision before it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dataplane_support import get, listener_address, log_messages, tasks
from emulated import REGION, T0, Emulated
from operations import deployment, deployments, wait_for_deployment, wait_for_status

from bluegreen.config import Config
from bluegreen.emulator import Emulator

GREETING = "Hello, 網走"
APP_LOGS = "/bluegreen/sample3-dev/webapp"
MAIN = "webapp/app/main.py"


@pytest.fixture
def live(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Emulated]:
    """tests/emulated.py's ``emulated``, with the data plane on."""
    from bluegreen.appkit import init
    from bluegreen.cli import common

    root = tmp_path / "app"
    init(root, Config())
    with Emulator(REGION, start=T0, work_dir=tmp_path / "aws", data_plane=True) as aws:

        def make_clients(config: Config, profile: str | None, region: str | None) -> Any:
            common.invocation().region = region or config.project.region
            return aws.clients()

        monkeypatch.setattr(common, "make_clients", make_clients)
        monkeypatch.setattr(common, "sleep", aws.sleep)
        monkeypatch.setattr(common, "interactive", lambda: False)
        yield Emulated(aws, root, capsys)


def _deployed(live: Emulated) -> str:
    """`bluegreen deploy` (the first release promoted, its termination wait ended)."""
    assert live.cli("deploy", "--yes").code == 0
    first = str(deployments(live)[-1]["deploymentId"])
    assert live.cli("finish").code == 0
    wait_for_status(live, first, "Succeeded")
    live.adopt_first_commit()
    # The first release's targets were not health-checked while their group was behind
    # no listener (Target.NotInUse); production answers once they pass their checks.
    production = listener_address(live.aws, 80)
    live.until(lambda: get(production)[0] == 200, limit=600)
    return first


def _push_main(live: Emulated, message: str, old: str, new: str) -> str:
    count = len(deployments(live))
    main = (live.root / MAIN).read_text(encoding="utf-8")
    assert old in main
    live.push(message, {MAIN: main.replace(old, new)})
    return wait_for_deployment(live, after=count)


def test_the_unmodified_scaffold_serves_each_revision_it_releases(live: Emulated) -> None:
    _deployed(live)
    production = listener_address(live.aws, 80)
    test = listener_address(live.aws, 8080)
    # The first release's app (FastAPI on uvicorn, from the scaffold's image) answers.
    assert get(production)[:2] == (200, GREETING)
    runner = live.aws.service("ecs").runner
    assert runner.derived == []
    d2 = _push_main(live, "Say hi", GREETING, "Hi")
    wait_for_status(live, d2, "Ready")
    # Green answers on the test listener, production still on blue.
    assert get(test)[:2] == (200, "Hi")
    assert get(production)[:2] == (200, GREETING)
    assert live.cli("promote").code == 0
    live.until(lambda: get(production)[1] == "Hi", limit=600)
    assert live.cli("finish").code == 0
    wait_for_status(live, d2, "Succeeded")
    # uvicorn's own lines, as the process printed them.
    messages = log_messages(live.aws, APP_LOGS)
    assert "Uvicorn running on http://0.0.0.0:80 (Press CTRL+C to quit)" in " ".join(messages)


def test_a_release_whose_health_path_answers_404_is_rolled_back(live: Emulated) -> None:
    # The pushed app moved its health endpoint: the target group's /health gets 404, so
    # the replacement targets never turn healthy (Target.ResponseCodeMismatch, "Health
    # checks failed with these codes: [404]"), ECS keeps replacing them, and CodeDeploy
    # fails the deployment when Install times out; auto-rollback leaves production on
    # the previous revision.
    _deployed(live)
    production = listener_address(live.aws, 80)
    d2 = _push_main(
        live, "Move the health check", 'HEALTH_PATH = "/health"', 'HEALTH_PATH = "/status"'
    )
    seen: list[dict[str, Any]] = []

    def mismatch() -> bool:
        elbv2 = live.aws.client("elbv2")
        for group in elbv2.describe_target_groups()["TargetGroups"]:
            for health in elbv2.describe_target_health(TargetGroupArn=group["TargetGroupArn"])[
                "TargetHealthDescriptions"
            ]:
                if health["TargetHealth"]["State"] == "unhealthy":
                    seen.append(health["TargetHealth"])
                    return True
        return False

    live.until(mismatch, limit=1800)
    assert seen[-1] == {
        "State": "unhealthy",
        "Reason": "Target.ResponseCodeMismatch",
        "Description": "Health checks failed with these codes: [404]",
    }
    assert get(production)[:2] == (200, GREETING)
    wait_for_status(live, d2, "Failed", "Stopped", limit=2 * 3600)
    info = deployment(live, d2)
    assert info["status"] == "Failed"
    assert "healthy" in info["errorInformation"]["message"]
    assert get(production)[:2] == (200, GREETING)


def test_a_release_whose_app_crashes_at_start_stops_its_tasks(live: Emulated) -> None:
    # The pushed app raises at import: uvicorn exits 1, the task stops with
    # EssentialContainerExited (ECS API reference, Task.stopCode), the traceback is in
    # the app's logs; production keeps the previous revision.
    _deployed(live)
    production = listener_address(live.aws, 80)
    _push_main(
        live,
        "Read a setting that is not there",
        "GREETING = ",
        'import os\nos.environ["APP_SETTING"]\nGREETING = ',
    )

    def crashed() -> list[dict[str, Any]]:
        return [
            t for t in tasks(live.aws, "STOPPED") if t.get("stopCode") == "EssentialContainerExited"
        ]

    live.until(lambda: bool(crashed()), limit=1800)
    task = crashed()[0]
    assert task["stoppedReason"] == "Essential container in task exited"
    assert {c["name"]: c.get("exitCode") for c in task["containers"]}["webapp"] == 1
    assert any("KeyError: 'APP_SETTING'" in m for m in log_messages(live.aws, APP_LOGS))
    assert get(production)[:2] == (200, GREETING)
