"""One deployed scaffold per test module, and releases through it (no tests here).

``deployed(tmp)`` runs ``bluegreen deploy --yes`` (the three stacks, the first commit,
the first release promoted) against a fresh emulated account, as tests/emulated.py's
fixture does, but for a whole module. ``release`` pushes a commit to the emulated
CodeCommit repository and follows what AWS does by itself: the EventBridge rule starts
the pipeline, the pipeline builds and deploys, CodeDeploy waits for the reroute (the
release is promoted, as ``bluegreen promote`` would), and the outcome is read back
through the emulated account's API.

``without`` takes actions out of a role's inline policy (as a template change removing
them would) for the duration of a block; ``untrusting`` changes a role's trust policy.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from emulated import REGION, T0, Emulated

from bluegreen.config import Config
from bluegreen.emulator import Emulator
from bluegreen.emulator.core import Refusal

ACCOUNT = "123456789012"
PIPELINE = "sample3-dev-pipeline"
APP = "sample3-dev-app"
GROUP = "sample3-dev-deployment-group"
CLUSTER = "sample3-dev-cluster"
SERVICE = "sample3-dev-service"
DENIED = ("AccessDenied", "AccessDeniedException")


class _Quiet:
    """A stand-in for pytest's capsys in a module-scoped fixture (the CLI's output goes
    to pytest's capture)."""

    def readouterr(self) -> Any:
        return type("Captured", (), {"out": "", "err": ""})()


@contextmanager
def deployed(tmp: Path) -> Iterator[Emulated]:
    """A fresh account with the scaffold deployed and its first release promoted."""
    from bluegreen.appkit import init
    from bluegreen.cli import common

    root = tmp / "app"
    init(root, Config())
    with (
        Emulator(REGION, start=T0, work_dir=tmp / "aws") as aws,
        pytest.MonkeyPatch.context() as mp,
    ):
        mp.setattr(common, "make_clients", lambda config, profile, region: aws.clients())
        mp.setattr(common, "sleep", aws.sleep)
        mp.setattr(common, "interactive", lambda: False)
        system = Emulated(aws, root, _Quiet())  # type: ignore[arg-type]
        done = system.cli("deploy", "--yes")
        assert done.code == 0, done.err
        system.adopt_first_commit()
        # The first release's termination wait ends before the scenarios change roles.
        codedeploy = aws.clients().codedeploy
        while any(
            codedeploy.get_deployment(deploymentId=d)["deploymentInfo"]["status"]
            in ("Created", "InProgress", "Ready")
            for d in _deployments(codedeploy)
        ):
            aws.sleep(60)
        yield system


def denials(refusals: list[Refusal]) -> list[Refusal]:
    """The refusals of calls made as a role (AccessDenied, or a role not assumed)."""
    return [
        r for r in refusals if r.code in DENIED or (r.service, r.operation) == ("sts", "AssumeRole")
    ]


@dataclass
class Outcome:
    """What a release came to, read through the emulated account's API."""

    execution: dict[str, Any] | None  # GetPipelineExecution (None: the pipeline never started)
    failed_action: str = ""  # the failed action's name
    error: str = ""  # ... and its error message
    deployment: dict[str, Any] | None = None  # the release's CodeDeploy deployment
    refusals: list[Refusal] = field(default_factory=list)  # denials during the release
    production_before: dict[str, int] = field(default_factory=dict)
    production_after: dict[str, int] = field(default_factory=dict)
    statuses: list[str] = field(default_factory=list)  # the deployment's, as polled

    @property
    def status(self) -> str:
        return str((self.execution or {}).get("status", "not started"))


def release(system: Emulated, label: str, limit: float = 4 * 3600) -> Outcome:
    """Push a commit and follow the release it starts until it ends (promoting it when
    CodeDeploy waits for the reroute), then until any rollback ended."""
    aws = system.aws
    clients = aws.clients()
    pipeline, codedeploy = clients.codepipeline, clients.codedeploy
    known = {e["pipelineExecutionId"] for e in _executions(pipeline)}
    deployments = set(_deployments(codedeploy))
    refusals = len(aws.refusals)
    outcome = Outcome(None, production_before=production(system))
    system.push(f"Release {label}", {"webapp/release.txt": f"{label}\n"})
    started = [e for e in _executions(pipeline) if e["pipelineExecutionId"] not in known]
    waited = 0.0
    while not started and waited < 600:
        aws.sleep(15)
        waited += 15
        started = [e for e in _executions(pipeline) if e["pipelineExecutionId"] not in known]
    if started:
        execution_id = started[0]["pipelineExecutionId"]
        while waited < limit:
            execution = pipeline.get_pipeline_execution(
                pipelineName=PIPELINE, pipelineExecutionId=execution_id
            )["pipelineExecution"]
            if execution["status"] not in ("InProgress", "Stopping"):
                break
            for deployment_id in set(_deployments(codedeploy)) - deployments:
                info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
                if info["creator"] == "user" and info["status"] not in outcome.statuses[-1:]:
                    outcome.statuses.append(info["status"])
                if info["status"] == "Ready":  # `bluegreen promote`
                    codedeploy.continue_deployment(
                        deploymentId=deployment_id, deploymentWaitType="READY_WAIT"
                    )
            # Every 15 s until a deployment runs, then every minute (its steps take minutes).
            step = 60.0 if outcome.statuses else 15.0
            aws.sleep(step)
            waited += step
        outcome.execution = execution
        outcome.failed_action, outcome.error = _failed_action(pipeline)
    new = [d for d in _deployments(codedeploy) if d not in deployments]
    created = [codedeploy.get_deployment(deploymentId=d)["deploymentInfo"] for d in new]
    mine = [d for d in created if d["creator"] == "user"]
    if mine:
        outcome.deployment = mine[0]
    # Let a rollback (and a termination wait) finish before the next scenario.
    while waited < limit and any(
        codedeploy.get_deployment(deploymentId=d)["deploymentInfo"]["status"]
        in ("Created", "InProgress", "Ready")
        for d in _deployments(codedeploy)
    ):
        aws.sleep(60)
        waited += 60
    if outcome.deployment is not None:
        outcome.deployment = codedeploy.get_deployment(
            deploymentId=outcome.deployment["deploymentId"]
        )["deploymentInfo"]
        if outcome.deployment["status"] not in outcome.statuses[-1:]:
            outcome.statuses.append(outcome.deployment["status"])
    outcome.refusals = denials(aws.refusals[refusals:])
    outcome.production_after = production(system)
    return outcome


def production(system: Emulated) -> dict[str, int]:
    """{target group name: weight} the production listener (:80) forwards to, by name."""
    elbv2 = system.aws.clients().elbv2
    balancer = elbv2.describe_load_balancers()["LoadBalancers"][0]["LoadBalancerArn"]
    listeners = elbv2.describe_listeners(LoadBalancerArn=balancer)["Listeners"]
    listener = next(item for item in listeners if item["Port"] == 80)
    action = listener["DefaultActions"][0]
    groups = (action.get("ForwardConfig") or {}).get("TargetGroups") or [
        {"TargetGroupArn": action["TargetGroupArn"], "Weight": 1}
    ]
    return {
        g["TargetGroupArn"].split(":targetgroup/")[1].split("/")[0]: int(g.get("Weight", 1))
        for g in groups
    }


def serving(weights: dict[str, int]) -> str:
    """The target group production serves (weight > 0)."""
    (name,) = [n for n, w in weights.items() if w > 0]
    return name


def _executions(pipeline: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = pipeline.list_pipeline_executions(pipelineName=PIPELINE)[
        "pipelineExecutionSummaries"
    ]
    return found


def _deployments(codedeploy: Any) -> list[str]:
    found: list[str] = codedeploy.list_deployments(applicationName=APP, deploymentGroupName=GROUP)[
        "deployments"
    ]
    return found


def _failed_action(pipeline: Any) -> tuple[str, str]:
    state = pipeline.get_pipeline_state(name=PIPELINE)
    for stage in state["stageStates"]:
        for action in stage.get("actionStates", []):
            latest = action.get("latestExecution") or {}
            if latest.get("status") == "Failed":
                return str(action["actionName"]), str(
                    (latest.get("errorDetails") or {}).get("message", "")
                )
    return "", ""


# ------------------------------------------------------------------- editing the roles


def role_name(system: Emulated, logical: str) -> str:
    """The physical name of a template's role (<stack>-<logical id>-<suffix>)."""
    iam = system.aws.clients().iam
    names = [r["RoleName"] for r in iam.list_roles()["Roles"] if f"-{logical}-" in r["RoleName"]]
    (name,) = names
    return str(name)


def role_arn(system: Emulated, logical: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{role_name(system, logical)}"


@contextmanager
def without(system: Emulated, logical: str, *actions: str) -> Iterator[str]:
    """The role's inline policy (named after the role, as the templates name it) without
    ``actions`` for the block; the role's name."""
    iam = system.aws.clients().iam
    name = role_name(system, logical)
    document = iam.get_role_policy(RoleName=name, PolicyName=logical)["PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    edited = copy.deepcopy(document)
    kept = []
    for statement in edited["Statement"]:
        listed = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        statement["Action"] = [a for a in listed if a not in actions]
        if statement["Action"]:
            kept.append(statement)
    assert sum(len(s["Action"]) for s in kept) < sum(
        len(s["Action"]) if isinstance(s["Action"], list) else 1 for s in document["Statement"]
    ), f"{logical} has none of {actions}"
    edited["Statement"] = kept
    if kept:
        iam.put_role_policy(RoleName=name, PolicyName=logical, PolicyDocument=json.dumps(edited))
    else:  # a policy needs a statement: the role keeps none
        iam.delete_role_policy(RoleName=name, PolicyName=logical)
    try:
        yield name
    finally:
        iam.put_role_policy(RoleName=name, PolicyName=logical, PolicyDocument=json.dumps(document))


@contextmanager
def untrusting(system: Emulated, logical: str, service: str = "ec2.amazonaws.com") -> Iterator[str]:
    """The role trusting only ``service`` for the block; the role's ARN."""
    iam = system.aws.clients().iam
    name = role_name(system, logical)
    original = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]
    original = json.loads(original) if isinstance(original, str) else original
    other = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(other))
    try:
        yield f"arn:aws:iam::{ACCOUNT}:role/{name}"
    finally:
        iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(original))


def session_of(logical_role: str, system: Emulated) -> str:
    """The start of the assumed-role ARN AWS names for the role (its session varies)."""
    return f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{role_name(system, logical_role)}/"
