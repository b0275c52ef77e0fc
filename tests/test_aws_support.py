"""Helpers for the Stubber tests of aws/ and the CLI (no tests here).

``Stubs`` makes real botocore clients with a Stubber each: every response is validated
against the AWS service model and every request against the expected parameters, so a
wrong call shape fails the test. The builders below queue CloudFormation's answers for
the deploy and destroy tests. The operating commands (status, promote, finish,
rollback, release, logs) run against the emulated AWS instead (tests/emulated.py,
tests/operations.py); what is left of their Stubber tests answers only what the emulated
AWS cannot produce.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.session
from botocore.stub import ANY, Stubber

from bluegreen.aws.session import Clients

REGION = "ap-northeast-1"
ACCOUNT = "123456789012"
T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


class Stubs:
    """One stubbed client per service; ``clients`` hands them out like the real seam."""

    def __init__(self) -> None:
        self._session = botocore.session.get_session()
        self._clients: dict[str, Any] = {}
        self._stubbers: dict[str, Stubber] = {}
        self.clients = Clients.from_factory(self.client, REGION)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            client = self._session.create_client(
                service,
                region_name=REGION,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
            stubber = Stubber(client)
            stubber.activate()
            self._clients[service] = client
            self._stubbers[service] = stubber
        return self._clients[service]

    def add(self, service: str, method: str, response: dict[str, Any], params: Any = None) -> None:
        self.client(service)
        self._stubbers[service].add_response(method, response, params)

    def error(
        self,
        service: str,
        method: str,
        code: str,
        message: str,
        params: Any = None,
        status: int = 400,
    ) -> None:
        self.client(service)
        self._stubbers[service].add_client_error(
            method,
            service_error_code=code,
            service_message=message,
            http_status_code=status,
            expected_params=params,
        )

    def done(self) -> None:
        for stubber in self._stubbers.values():
            stubber.assert_no_pending_responses()


def stack_id(stack: str) -> str:
    return f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{stack}/0000-{len(stack)}"


def cs_id(stack: str) -> str:
    return f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:changeSet/{stack}-x/1111"


def missing_stack(s: Stubs, stack: str) -> None:
    s.error(
        "cloudformation",
        "describe_stacks",
        "ValidationError",
        f"Stack with id {stack} does not exist",
        {"StackName": stack},
    )


def stack(
    s: Stubs,
    name: str,
    status: str,
    outputs: dict[str, str] | None = None,
    key: str | None = None,
    reason: str = "",
) -> None:
    body: dict[str, Any] = {
        "StackName": name,
        "StackId": stack_id(name),
        "CreationTime": T0,
        "StackStatus": status,
        "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in (outputs or {}).items()],
    }
    if reason:
        body["StackStatusReason"] = reason
    s.add("cloudformation", "describe_stacks", {"Stacks": [body]}, {"StackName": key or name})


def event(
    name: str, n: int, logical: str, rtype: str, status: str, reason: str = ""
) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "StackId": stack_id(name),
        "EventId": f"{name}-{n}",
        "StackName": name,
        "LogicalResourceId": logical,
        "ResourceType": rtype,
        "Timestamp": T0 + timedelta(seconds=n),
        "ResourceStatus": status,
    }
    if reason:
        raw["ResourceStatusReason"] = reason
    return raw


def events(s: Stubs, name: str, newest_first: list[dict[str, Any]]) -> None:
    s.add(
        "cloudformation",
        "describe_stack_events",
        {"StackEvents": newest_first},
        {"StackName": stack_id(name)},
    )


def change_set(
    s: Stubs,
    name: str,
    kind: str,
    changes: list[tuple[str, str, str, str]],
    status: str = "CREATE_COMPLETE",
    reason: str = "",
    body: Any = ANY,
) -> None:
    s.add(
        "cloudformation",
        "create_change_set",
        {"Id": cs_id(name), "StackId": stack_id(name)},
        {
            "StackName": name,
            "ChangeSetName": ANY,
            "ChangeSetType": kind,
            "TemplateBody": body,
            "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
            "Description": "bluegreen deploy",
        },
    )
    described: dict[str, Any] = {
        "ChangeSetId": cs_id(name),
        "ChangeSetName": f"{name}-20260102030405",
        "StackId": stack_id(name),
        "StackName": name,
        "Status": status,
        "ExecutionStatus": "AVAILABLE" if status == "CREATE_COMPLETE" else "UNAVAILABLE",
        "Changes": [
            {
                "Type": "Resource",
                "ResourceChange": {
                    "Action": action,
                    "LogicalResourceId": logical,
                    "ResourceType": rtype,
                    **({"Replacement": repl} if repl else {}),
                },
            }
            for action, logical, rtype, repl in changes
        ],
    }
    if reason:
        described["StatusReason"] = reason
    s.add("cloudformation", "describe_change_set", described, {"ChangeSetName": cs_id(name)})


def delete_change_set(s: Stubs, name: str) -> None:
    s.add("cloudformation", "delete_change_set", {}, {"ChangeSetName": cs_id(name)})


def execute(
    s: Stubs,
    name: str,
    before: list[dict[str, Any]],
    progress: list[list[dict[str, Any]]],
    final: str,
    final_reason: str = "",
    in_progress: str = "CREATE_IN_PROGRESS",
) -> None:
    """mark (events so far), execute, then one poll per ``progress`` batch (new events,
    newest first) with the stack in progress, the last poll reading ``final``."""
    events(s, name, before)
    s.add("cloudformation", "execute_change_set", {}, {"ChangeSetName": cs_id(name)})
    seen = list(before)
    for number, batch in enumerate(progress):
        seen = batch + seen
        events(s, name, seen)
        last = number == len(progress) - 1
        stack(
            s,
            name,
            final if last else in_progress,
            key=stack_id(name),
            reason=final_reason if last else "",
        )
        if last:
            events(s, name, seen)


CONFIG_TOML = """\
[project]
name = "sample3"
environment = "dev"
region = "ap-northeast-1"
"""


def write_repo(root: Any) -> None:
    """The application repository files ``bluegreen init`` writes, into ``root``."""
    from bluegreen import appkit, config

    cfg = config.parse(CONFIG_TOML)
    for path, text in appkit.render(cfg).items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    (root / "bluegreen.toml").write_text(CONFIG_TOML, encoding="utf-8")


# ---- names and stack outputs (bluegreen.names for the default config) the deploy tests stub

PREFIX = "sample3-dev"
CLUSTER = f"{PREFIX}-cluster"
SERVICE = f"{PREFIX}-service"
APP = f"{PREFIX}-app"
DG = f"{PREFIX}-deployment-group"
PIPELINE = f"{PREFIX}-pipeline"
ELB_ARN = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}"
PROD_LISTENER = f"{ELB_ARN}:listener/app/{PREFIX}-alb/50dc6c495c0c9188/f2f7dc8efc522ab2"
TEST_LISTENER = f"{ELB_ARN}:listener/app/{PREFIX}-alb/50dc6c495c0c9188/0467ef3c8400ae65"
BLUE_TG = f"{ELB_ARN}:targetgroup/{PREFIX}-blue/73e2d6bc24d8a067"
GREEN_TG = f"{ELB_ARN}:targetgroup/{PREFIX}-green/2453ed029918f21f"

SERVICE_OUTPUTS = {
    "ClusterName": CLUSTER,
    "ServiceName": SERVICE,
    "ProductionListenerArn": PROD_LISTENER,
    "TestListenerArn": TEST_LISTENER,
    "BlueTargetGroupArn": BLUE_TG,
    "GreenTargetGroupArn": GREEN_TG,
    "LoadBalancerDnsName": "alb-123.ap-northeast-1.elb.amazonaws.com",
    "ProductionUrl": "http://alb-123.ap-northeast-1.elb.amazonaws.com",
    "TestUrl": "http://alb-123.ap-northeast-1.elb.amazonaws.com:8080",
}
PIPELINE_OUTPUTS = {
    "PipelineName": PIPELINE,
    "CodeDeployApplicationName": APP,
    "DeploymentGroupName": DG,
    "ArtifactBucketName": "sample3-dev-pipeline-artifactbucket-abc",
}


def _active_statuses() -> list[str]:
    """Every CodeDeploy DeploymentStatus that is not final, from the botocore model: the
    DeploymentStatus enum minus the states the DeploymentSuccessful waiter ends on."""
    session = botocore.session.get_session()
    enum = session.get_service_model("codedeploy").shape_for("DeploymentStatus").enum
    waiter = session.get_waiter_model("codedeploy").get_waiter("DeploymentSuccessful")
    final = {a.expected for a in waiter.acceptors if a.argument == "deploymentInfo.status"}
    return [status for status in enum if status not in final]


ACTIVE = _active_statuses()
"""The non-final CodeDeploy statuses latest_deployment filters ListDeployments with."""


def service_template(s: Stubs, body: str | None, name: str = SERVICE) -> None:
    """deploy's first look: the service stack's deployed template (None: no stack yet)."""
    params = {"StackName": name, "TemplateStage": "Original"}
    if body is None:
        s.error(
            "cloudformation",
            "get_template",
            "ValidationError",
            f"Stack with id {name} does not exist",
            params,
        )
    else:
        s.add("cloudformation", "get_template", {"TemplateBody": body}, params)
