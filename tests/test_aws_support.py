"""Helpers for the aws/ and operating-command tests (no tests here).

``Stubs`` makes real botocore clients with a Stubber each: every response is validated
against the AWS service model and every request against the expected parameters, so a
wrong call shape fails the test. Scenario builders below queue the call sequences that
CloudFormation, CodeDeploy, ECS and ELB answer in typical states.
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


# ---- service-side scenario pieces (names follow bluegreen.names for the default config)

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
TD = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{PREFIX}-task"
ECR = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{PREFIX}"

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


def refs(s: Stubs) -> None:
    """service_refs: the service and pipeline stack outputs."""
    stack(s, f"{PREFIX}-service", "UPDATE_COMPLETE", SERVICE_OUTPUTS)
    stack(s, f"{PREFIX}-pipeline", "UPDATE_COMPLETE", PIPELINE_OUTPUTS)


def task_set(
    ident: str, status: str, revision: int, tg: str, running: int = 1, desired: int = 1
) -> dict[str, Any]:
    return {
        "id": ident,
        "taskSetArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-set/{CLUSTER}/{SERVICE}/{ident}",
        "status": status,
        "taskDefinition": f"{TD}:{revision}",
        "computedDesiredCount": desired,
        "runningCount": running,
        "pendingCount": 0,
        "loadBalancers": [{"targetGroupArn": tg, "containerName": "webapp", "containerPort": 80}],
    }


def service(s: Stubs, task_sets: list[dict[str, Any]], controller: str = "CODE_DEPLOY") -> None:
    s.add(
        "ecs",
        "describe_services",
        {
            "services": [
                {
                    "serviceName": SERVICE,
                    "status": "ACTIVE",
                    "deploymentController": {"type": controller},
                    "taskSets": task_sets,
                }
            ]
        },
        {"cluster": CLUSTER, "services": [SERVICE]},
    )


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

LIFECYCLE = (
    "BeforeInstall",
    "Install",
    "AfterInstall",
    "AllowTestTraffic",
    "AfterAllowTestTraffic",
    "BeforeAllowTraffic",
    "AllowTraffic",
    "AfterAllowTraffic",
)


def deployment(
    s: Stubs,
    dep_id: str,
    status: str,
    done: int,
    *,
    target_status: str = "InProgress",
    running: str | None = None,
    weights: tuple[float, float] = (100.0, 0.0),
    error: tuple[str, str] | None = None,
) -> None:
    """latest_deployment + ecs_target: ``done`` lifecycle events Succeeded, then
    ``running`` (if given) InProgress, the rest Pending."""
    info: dict[str, Any] = {
        "deploymentId": dep_id,
        "applicationName": APP,
        "deploymentGroupName": DG,
        "status": status,
        "createTime": T0,
        "computePlatform": "ECS",
    }
    if error:
        info["errorInformation"] = {"code": error[0], "message": error[1]}
    active = status not in ("Succeeded", "Failed", "Stopped")
    s.add(
        "codedeploy",
        "list_deployments",
        {"deployments": [dep_id] if active else []},
        {"applicationName": APP, "deploymentGroupName": DG, "includeOnlyStatuses": ACTIVE},
    )
    if active:
        s.add(
            "codedeploy",
            "batch_get_deployments",
            {"deploymentsInfo": [info]},
            {"deploymentIds": [dep_id]},
        )
    else:
        # None active: the newest finished one among the recent deployments (the window
        # itself is checked in test_aws_codedeploy.py).
        s.add(
            "codedeploy",
            "list_deployments",
            {"deployments": [dep_id, "d-OLDER0000"]},
            {"applicationName": APP, "deploymentGroupName": DG, "createTimeRange": ANY},
        )
        older = dict(
            info,
            deploymentId="d-OLDER0000",
            status="Succeeded",
            createTime=T0 - timedelta(days=1),
        )
        s.add(
            "codedeploy",
            "batch_get_deployments",
            {"deploymentsInfo": [older, info]},
            {"deploymentIds": [dep_id, "d-OLDER0000"]},
        )
    target_id = f"{CLUSTER}:{SERVICE}"
    s.add(
        "codedeploy",
        "list_deployment_targets",
        {"targetIds": [target_id]},
        {"deploymentId": dep_id},
    )
    lifecycle = []
    for i, name in enumerate(LIFECYCLE):
        state = "Succeeded" if i < done else ("InProgress" if name == running else "Pending")
        lifecycle.append({"lifecycleEventName": name, "status": state})
    s.add(
        "codedeploy",
        "get_deployment_target",
        {
            "deploymentTarget": {
                "deploymentTargetType": "ECSTarget",
                "ecsTarget": {
                    "deploymentId": dep_id,
                    "targetId": target_id,
                    "status": target_status,
                    "lifecycleEvents": lifecycle,
                    "taskSetsInfo": [
                        {
                            "identifer": "ecs-svc/1111",
                            "taskSetLabel": "Blue",
                            "status": "PRIMARY",
                            "trafficWeight": weights[0],
                            "targetGroup": {"name": f"{PREFIX}-blue"},
                            "desiredCount": 1,
                            "runningCount": 1,
                        },
                        {
                            "identifer": "ecs-svc/2222",
                            "taskSetLabel": "Green",
                            "status": "ACTIVE",
                            "trafficWeight": weights[1],
                            "targetGroup": {"name": f"{PREFIX}-green"},
                            "desiredCount": 1,
                            "runningCount": 1,
                        },
                    ],
                },
            }
        },
        {"deploymentId": dep_id, "targetId": target_id},
    )


def listeners(s: Stubs, production: list[tuple[str, int]], test: list[tuple[str, int]]) -> None:
    def action(pairs: list[tuple[str, int]]) -> dict[str, Any]:
        if len(pairs) == 1:
            return {"Type": "forward", "TargetGroupArn": pairs[0][0]}
        return {
            "Type": "forward",
            "ForwardConfig": {
                "TargetGroups": [{"TargetGroupArn": a, "Weight": w} for a, w in pairs]
            },
        }

    s.add(
        "elbv2",
        "describe_listeners",
        {
            "Listeners": [
                {"ListenerArn": PROD_LISTENER, "Port": 80, "DefaultActions": [action(production)]},
                {"ListenerArn": TEST_LISTENER, "Port": 8080, "DefaultActions": [action(test)]},
            ]
        },
        {"ListenerArns": [PROD_LISTENER, TEST_LISTENER]},
    )


def health(s: Stubs, tg: str, states: list[str]) -> None:
    s.add(
        "elbv2",
        "describe_target_health",
        {
            "TargetHealthDescriptions": [
                {"Target": {"Id": f"10.0.0.{i}", "Port": 80}, "TargetHealth": {"State": st}}
                for i, st in enumerate(states)
            ]
        },
        {"TargetGroupArn": tg},
    )


def task_definition(s: Stubs, revision: int, tag: str) -> None:
    s.add(
        "ecs",
        "describe_task_definition",
        {
            "taskDefinition": {
                "taskDefinitionArn": f"{TD}:{revision}",
                "family": f"{PREFIX}-task",
                "revision": revision,
                "containerDefinitions": [
                    {"name": "webapp", "image": f"{ECR}-webapp:{tag}"},
                    {"name": "log-router", "image": f"{ECR}-log-router:{tag}"},
                ],
            }
        },
        {"taskDefinition": f"{TD}:{revision}"},
    )


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


def pipeline_poll(
    s: Stubs, execution: str, status: str, stage: str, action: dict[str, Any]
) -> None:
    """One round of following ``execution``: its ``status``, then the pipeline state with
    one ``stage`` holding one ``action`` state."""
    s.add(
        "codepipeline",
        "get_pipeline_execution",
        {"pipelineExecution": {"pipelineExecutionId": execution, "status": status}},
    )
    s.add(
        "codepipeline",
        "get_pipeline_state",
        {
            "stageStates": [
                {
                    "stageName": stage,
                    "latestExecution": {"pipelineExecutionId": execution, "status": status},
                    "actionStates": [action],
                }
            ]
        },
    )
