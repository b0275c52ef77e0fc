"""Issue 11 in the rehearsal's world: the verify hook's own code, run for real against
the data plane's test listener (the app's revisions running on loopback behind the
listeners' local servers), decides a release.

A release whose app answers 500 on `/` fails its checks at CodeDeploy's
AfterAllowTestTraffic and is rolled back; production never serves it. The checks' requests
and results are in the hook's log group, where `bluegreen status` reads them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dataplane_support import get, listener_address, log_messages
from emulated import REGION, T0, Emulated
from operations import deployment, deployments, wait_for_deployment, wait_for_status

from bluegreen import config as config_mod
from bluegreen.config import Config
from bluegreen.emulator import Emulator

GREETING = "Hello, 網走"
MAIN = "webapp/app/main.py"
VERIFY_LOGS = "/bluegreen/sample3-dev/verify"
CONFIG = {"verify": {"checks": [{"path": "/", "count": 3, "body_pattern": "^H"}]}}


@pytest.fixture
def live(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Emulated]:
    """tests/test_dataplane_release.py's ``live``, for a system with [verify] checks."""
    from bluegreen.appkit import init
    from bluegreen.cli import common

    root = tmp_path / "app"
    init(root, config_mod.from_dict(CONFIG))
    with Emulator(REGION, start=T0, work_dir=tmp_path / "aws", data_plane=True) as aws:

        def make_clients(config: Config, profile: str | None, region: str | None) -> Any:
            common.invocation().region = region or config.project.region
            return aws.clients()

        monkeypatch.setattr(common, "make_clients", make_clients)
        monkeypatch.setattr(common, "sleep", aws.sleep)
        monkeypatch.setattr(common, "interactive", lambda: False)
        yield Emulated(aws, root, capsys)


def _checks_logged(live: Emulated) -> list[dict[str, Any]]:
    return [
        json.loads(message.split(" ", 1)[1])
        for message in log_messages(live.aws, VERIFY_LOGS)
        if message.startswith("bluegreen-check ")
    ]


def test_checks_pass_a_good_release_and_roll_back_one_answering_500(live: Emulated) -> None:
    result = live.cli("deploy", "--yes")
    assert result.code == 0, (result.out[-300:], log_messages(live.aws, VERIFY_LOGS))
    first = str(deployments(live)[-1]["deploymentId"])
    # The first release ran the hook too: three GETs of / through the test listener.
    logged = _checks_logged(live)
    assert [(r["request"], r["status"], r["ok"]) for r in logged] == [("GET /", 200, True)] * 3
    assert live.cli("finish").code == 0
    wait_for_status(live, first, "Succeeded")
    live.adopt_first_commit()
    production = listener_address(live.aws, 80)
    live.until(lambda: get(production)[0] == 200, limit=600)
    assert get(production)[:2] == (200, GREETING)

    # A release whose home page answers 500.
    count = len(deployments(live))
    main = (live.root / MAIN).read_text(encoding="utf-8")
    broken = main.replace(
        "    return GREETING\n",
        '    raise RuntimeError("broken on purpose")\n',
    )
    assert broken != main
    live.push("Break the home page", {MAIN: broken})
    bad = wait_for_deployment(live, after=count)
    waited = 0.0
    while deployment(live, bad)["status"] not in ("Failed", "Stopped", "Succeeded"):
        assert waited < 3600, "the deployment did not end within a simulated hour"
        assert get(production)[:2] == (200, GREETING)  # never the broken revision
        live.aws.sleep(15)
        waited += 15
    info = deployment(live, bad)
    assert info["status"] == "Failed"
    assert info["errorInformation"]["code"] == "HOOK_EXECUTION_FAILURE"
    assert "AfterAllowTestTraffic" in info["errorInformation"]["message"]
    failed = _checks_logged(live)[3:]
    assert [(r["request"], r["status"], r["ok"]) for r in failed] == [("GET /", 500, False)]
    assert failed[0]["reason"] == "status 500, expected 200"
    # what came back and what was asked, in the hook's log (F5)
    assert failed[0]["body"] == "Internal Server Error"
    assert failed[0]["expected"] == '200, body matches "^H", within 2000 ms'
    # `status` shows the latest run's checks: request, result, latency, reason
    shown = live.cli("status")
    assert shown.code == 0
    lines = shown.out.splitlines()
    at = lines.index("checks (the latest run of the verify hook)")
    assert lines[at + 1].split() == [
        "1/3",
        "GET",
        "/",
        "FAIL",
        "500",
        str(failed[0]["latency_ms"]),
        "ms",
        "status",
        "500,",
        "expected",
        "200;",
        "body",
        "'Internal",
        "Server",
        "Error'",
    ]
    as_json = live.cli("status", "--output", "json")
    assert json.loads(as_json.out)["verify"] == {"checks": failed, "alarms": []}
    rollback = str(info["rollbackInfo"]["rollbackDeploymentId"])
    wait_for_status(live, rollback, "Succeeded", limit=3600)
    assert get(production)[:2] == (200, GREETING)
