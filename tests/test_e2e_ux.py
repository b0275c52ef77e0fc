"""What a new user saw driving every command, end to end against the emulated AWS.

The real CLI (tests/emulated.py) on one deployed scaffold: ``release`` reports only its
own execution's actions, and ``promote``, ``finish``, ``rollback`` and ``destroy`` give
one JSON document with ``ok`` under ``--output json`` (nothing else on stdout); destroy
says in one line that it keeps the ECS service-linked role on purpose.
"""

from __future__ import annotations

import json
from typing import Any

from emulated import Emulated, emulated  # noqa: F401 (the fixture ops builds on)
from operations import (
    deployment,
    deployments,
    execution,
    latest,
    ops_fixture,  # noqa: F401 (fixture)
    wait_for_status,
    wait_for_termination_wait,
)

SLR = "AWSServiceRoleForECS"


def _document(text: str) -> dict[str, Any]:
    """stdout is one JSON document and nothing else."""
    data: dict[str, Any] = json.loads(text)
    return data


def test_release_follows_its_own_execution_and_operations_answer_in_json(ops: Emulated) -> None:
    deployed = ops.cli("deploy", "--yes")
    assert deployed.code == 0, deployed.err
    d1 = latest(ops)["deploymentId"]
    wait_for_termination_wait(ops, d1)

    # finish -o json: one document, ok first (the first release is in its termination
    # wait: deploy promoted it).
    result = ops.cli("finish", "-o", "json")
    assert result.code == 0, result.err
    data = _document(result.out)
    assert list(data)[0] == "ok" and data["ok"] is True
    assert (data["action"], data["deployment_id"]) == ("finish", d1)
    assert d1 in data["message"]
    wait_for_status(ops, d1, "Succeeded")

    # release: GetPipelineState still shows the previous execution's action runs in a
    # stage the new execution has entered (an action's latestExecution carries no
    # pipelineExecutionId). Only this execution's states are printed, in their order.
    result = ops.cli("release")
    assert result.code == 0, result.err
    run2 = execution(ops)["pipelineExecutionId"]
    d2 = latest(ops)["deploymentId"]
    progress = result.err.splitlines()
    assert progress[0] == f"started sample3-dev-pipeline execution {run2}"
    assert [line.split(" (")[0] for line in progress[1:]] == [
        "Source/Source: InProgress",
        "Source/Source: Succeeded",
        "Build/BuildApp: InProgress",
        "Build/BuildApp: Succeeded",
        "Build/BuildRouter: InProgress",
        "Build/BuildRouter: Succeeded",
        "Deploy/Deploy: InProgress",
    ]
    assert progress[-1] == f"Deploy/Deploy: InProgress ({d2})"

    # promote -o json
    result = ops.cli("promote", "-o", "json")
    assert result.code == 0, result.err
    data = _document(result.out)
    assert (data["ok"], data["action"], data["deployment_id"]) == (True, "promote", d2)
    wait_for_termination_wait(ops, d2)

    # promote again: refused, and the failure document says so (ok false, exit 1).
    result = ops.cli("promote", "-o", "json")
    assert result.code == 1
    data = _document(result.out)
    assert (data["ok"], data["kind"], data["exit_code"]) == (False, "operation", 1)
    assert data["error"].startswith(f"cannot promote: deployment {d2} is InProgress")

    # rollback -o json during the termination wait: CodeDeploy's stop-and-roll-back.
    result = ops.cli("rollback", "-o", "json")
    assert result.code == 0, result.err
    data = _document(result.out)
    assert (data["ok"], data["action"], data["deployment_id"]) == (True, "rollback", d2)
    assert data["message"].startswith(f"stopped deployment {d2} (termination-wait)")
    rollback = latest(ops)["deploymentId"]
    assert rollback != d2 and rollback in data["message"]
    wait_for_status(ops, rollback, "Succeeded")
    assert deployment(ops, d2)["status"] == "Stopped"
    assert len(deployments(ops)) == 3

    # destroy -o json: what was deleted and what is kept on purpose, one document.
    result = ops.cli("destroy", "--yes", "--empty-bucket", "--delete-images", "-o", "json")
    assert result.code == 0, result.err
    data = _document(result.out)
    assert data["ok"] is True and data["cancelled"] is False
    assert [(s["stack"], s["status"]) for s in data["stacks"]] == [
        ("sample3-dev-pipeline", "DELETE_COMPLETE"),
        ("sample3-dev-service", "DELETE_COMPLETE"),
        ("sample3-dev-source", "DELETE_COMPLETE"),
    ]
    assert data["cleanup"]["kept"] == [SLR] and data["cleanup"]["left"] == []
    assert data["left"] == [] and data["in_flight"] is None
    # The role is still there: destroy never deletes it (ECS developer guide, "Using
    # service-linked roles for Amazon ECS": the account's ECS services share it).
    assert ops.aws.client("iam").get_role(RoleName=SLR)["Role"]["RoleName"] == SLR


def test_destroy_says_in_one_line_that_it_keeps_the_service_linked_role(ops: Emulated) -> None:
    deployed = ops.cli("deploy", "--yes", "--no-follow")
    assert deployed.code == 0, deployed.err
    result = ops.cli("destroy", "--yes", "--empty-bucket", "--delete-images")
    assert result.code == 0, result.err
    kept = [line for line in result.out.splitlines() if SLR in line]
    assert kept == [
        f"kept on purpose: {SLR}, the ECS service-linked role every ECS service in the "
        "account shares (delete it only once the account runs nothing on ECS)"
    ]
    assert "left:" not in result.out
    # Without the role (another tool deleted it), nothing is said about it.
    ops.aws.client("iam").delete_service_linked_role(RoleName=SLR)
    result = ops.cli("destroy", "--yes", "-o", "json")
    assert result.code == 0, result.err
    data = _document(result.out)
    assert data["ok"] is True and data["stacks"] == []


def test_the_sandbox_log_names_the_revision_and_who_promotes_the_first_release(
    ops: Emulated,
) -> None:
    """The sandbox's log (emulator/sandbox.py observe), read as a system changes: the
    execution's end names the commit it released, and the first release's reroute wait
    says deploy promotes it, not that someone must run `bluegreen promote`."""
    from bluegreen.emulator.sandbox import Sandbox, Settings
    from bluegreen.engine.watch import DeploymentWatch

    watcher = Sandbox(
        Settings(port=0, default_region="ap-northeast-1"), deployments=DeploymentWatch().lines
    )
    watcher.emulator = ops.aws  # observe reads through the account's API, in process
    log: list[str] = []

    def observed(text: str) -> bool:
        log.extend(line.split("  ", 1)[1] for line in watcher.observe())
        return any(text in line for line in log)

    assert ops.cli("deploy", "--yes", "--no-follow").code == 0
    ops.until(lambda: observed("waits for reroute"), step=15)
    d1 = latest(ops)["deploymentId"]
    assert (
        f"deployment {d1}: waits for reroute: the first release, which `bluegreen deploy` "
        "promotes as it follows it (after `deploy --no-follow`: `bluegreen promote`)"
    ) in log
    assert ops.cli("promote").code == 0
    ops.until(lambda: observed("Succeeded (revision"), step=30)
    run1 = execution(ops)
    commit = run1["sourceRevisions"][0]["revisionId"]
    assert (
        f"pipeline sample3-dev-pipeline: execution {run1['pipelineExecutionId'][:8]} "
        f"Succeeded (revision {commit[:8]})"
    ) in log
