"""Readers and waits for the end-to-end operation tests (no tests here).

The tests drive the real CLI (tests/emulated.py) and check what it prints against what
the emulated AWS holds. What they compare with is read here through the emulated AWS's
own API (boto3 clients of the account), never through bluegreen's code, so a test cannot
agree with bluegreen by construction: deployment ids, execution ids and start times,
task-definition revisions and the lifecycle events CodeDeploy reports.

The names are the default scaffold's (project sample3, environment dev); the emulated
account is 123456789012 in ap-northeast-1 (tests/emulated.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError
from emulated import Emulated

APP = "sample3-dev-app"
GROUP = "sample3-dev-deployment-group"
PIPELINE = "sample3-dev-pipeline"
CLUSTER = "sample3-dev-cluster"
SERVICE = "sample3-dev-service"
FAMILY = "sample3-dev-task"
BUCKET_STACK = "sample3-dev-pipeline"
ACCOUNT = "123456789012"
REGION = "ap-northeast-1"
TD_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{FAMILY}"
ALB = "http://sample3-dev-alb-1.ap-northeast-1.elb.amazonaws.com"

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
"""CodeDeploy user guide, "Deployments on an Amazon ECS compute platform": the events of
an ECS deployment with a test listener, in order."""


@pytest.fixture(name="ops")
def ops_fixture(emulated: Emulated) -> Emulated:
    """tests/emulated.py's ``emulated`` (import it into the test module too)."""
    return emulated


# -- what the emulated account holds, read through its API ----------------------------------


def deployments(e: Emulated) -> list[dict[str, Any]]:
    """Every deployment of the group, oldest first (ListDeployments, BatchGetDeployments)."""
    client = e.aws.client("codedeploy")
    ids: list[str] = []
    for page in client.get_paginator("list_deployments").paginate(
        applicationName=APP, deploymentGroupName=GROUP
    ):
        ids += page["deployments"]
    found: list[dict[str, Any]] = []
    for start in range(0, len(ids), 25):
        found += client.batch_get_deployments(deploymentIds=ids[start : start + 25])[
            "deploymentsInfo"
        ]
    return sorted(found, key=lambda d: d["createTime"])


def latest(e: Emulated) -> dict[str, Any]:
    return deployments(e)[-1]


def deployment(e: Emulated, deployment_id: str) -> dict[str, Any]:
    info: dict[str, Any] = e.aws.client("codedeploy").get_deployment(deploymentId=deployment_id)[
        "deploymentInfo"
    ]
    return info


def _target(e: Emulated, deployment_id: str) -> dict[str, Any]:
    """The deployment's ECS target (GetDeploymentTarget); empty before the deployment
    started (DeploymentNotStartedException, its documented error)."""
    try:
        found: dict[str, Any] = e.aws.client("codedeploy").get_deployment_target(
            deploymentId=deployment_id, targetId=f"{CLUSTER}:{SERVICE}"
        )["deploymentTarget"]["ecsTarget"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "DeploymentNotStartedException":
            raise
        return {}
    return found


def events(e: Emulated, deployment_id: str) -> dict[str, str]:
    """The ECS target's lifecycle events: name -> status."""
    target = _target(e, deployment_id)
    return {ev["lifecycleEventName"]: ev["status"] for ev in target.get("lifecycleEvents", [])}


def target_status(e: Emulated, deployment_id: str) -> str:
    return str(_target(e, deployment_id).get("status", ""))


def execution(e: Emulated) -> dict[str, Any]:
    """The pipeline's most recent execution (ListPipelineExecutions)."""
    summaries = e.aws.client("codepipeline").list_pipeline_executions(
        pipelineName=PIPELINE, maxResults=1
    )["pipelineExecutionSummaries"]
    found: dict[str, Any] = summaries[0]
    return found


def stamp(moment: datetime) -> str:
    """How `bluegreen status` prints a time."""
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def revision(e: Emulated, deployment_id: str) -> dict[str, Any]:
    """A deployment's revision with its AppSpec: GetDeployment leaves the content out
    ("always null. Use GetApplicationRevision and the sha256 property", its API
    reference), so it is read as the note says."""
    info = deployment(e, deployment_id)
    found: dict[str, Any] = e.aws.client("codedeploy").get_application_revision(
        applicationName=info["applicationName"], revision=info["revision"]
    )["revision"]
    return found


def task_definition(e: Emulated, deployment_id: str) -> str:
    """``family:revision`` of the task definition a deployment deploys (its AppSpec)."""
    content = revision(e, deployment_id)["appSpecContent"]["content"]
    for line in content.splitlines():
        if line.strip().startswith("TaskDefinition:"):
            return line.split('"')[1].rsplit("/", 1)[-1]
    raise AssertionError(f"no TaskDefinition in the AppSpec of {deployment_id}")


def link(execution_id: str) -> str:
    return (
        f"https://{REGION}.console.aws.amazon.com/codesuite/codepipeline/pipelines/"
        f"{PIPELINE}/executions/{execution_id}/timeline?region={REGION}"
    )


# -- waits --------------------------------------------------------------------------------


def wait_for_deployment(e: Emulated, after: int, limit: float = 1800) -> str:
    """Simulated time passes until the group has more than ``after`` deployments; the
    newest one's id."""
    e.until(lambda: len(deployments(e)) > after, limit=limit, step=10)
    return str(latest(e)["deploymentId"])


def wait_for_status(e: Emulated, deployment_id: str, *statuses: str, limit: float = 3600) -> None:
    e.until(lambda: deployment(e, deployment_id)["status"] in statuses, limit=limit)


def wait_for_event(
    e: Emulated, deployment_id: str, event: str, status: str, limit: float = 3600
) -> None:
    e.until(lambda: events(e, deployment_id).get(event) == status, limit=limit)


def wait_for_termination_wait(e: Emulated, deployment_id: str, limit: float = 3600) -> None:
    """The ECS target is Succeeded while the deployment stays InProgress: the termination
    wait (aws/containers-roadmap#269, AWS's answer)."""

    def waiting() -> bool:
        return (
            deployment(e, deployment_id)["status"] == "InProgress"
            and target_status(e, deployment_id) == "Succeeded"
        )

    e.until(waiting, limit=limit)


def empty_artifact_bucket(e: Emulated) -> None:
    """Delete every object version of the pipeline's artifact bucket (S3 refuses to delete
    a bucket that is not empty, so CloudFormation cannot delete the stack otherwise)."""
    outputs = e.aws.client("cloudformation").describe_stacks(StackName=BUCKET_STACK)["Stacks"][0][
        "Outputs"
    ]
    bucket = next(o["OutputValue"] for o in outputs if o["OutputKey"] == "ArtifactBucketName")
    s3 = e.aws.client("s3")
    listed = s3.list_object_versions(Bucket=bucket)
    for version in [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])]:
        s3.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])


def stack_gone(e: Emulated, name: str) -> Callable[[], bool]:
    def gone() -> bool:
        stacks = e.aws.client("cloudformation").list_stacks()["StackSummaries"]
        return all(s["StackStatus"] == "DELETE_COMPLETE" for s in stacks if s["StackName"] == name)

    return gone


def wait_until_green_is_tested(e: Emulated, deployment_id: str) -> None:
    """Simulated time passes until the test traffic hook is done (AfterAllowTestTraffic
    Succeeded): the half second before CodeDeploy reports the deployment Ready (or,
    rerouting by itself, starts BeforeAllowTraffic).

    The emulated CodeDeploy takes half a second per event and between events
    (timing ``codedeploy.event``): AfterAllowTestTraffic ends 3 s after Install does. So
    2 s steps until Install has ended, then quarter seconds."""
    e.until(lambda: events(e, deployment_id).get("Install") == "Succeeded", step=2)
    e.until(
        lambda: events(e, deployment_id).get("AfterAllowTestTraffic") == "Succeeded",
        step=0.25,
        limit=10,
    )


# -- answers the emulated AWS does not give ----------------------------------------------------


@contextmanager
def answered(
    e: Emulated,
    service: str,
    operation: str,
    *,
    error: tuple[str, str] | None = None,
    edit: Callable[[dict[str, Any]], None] | None = None,
    after: int = 0,
    calls: int | None = 1,
) -> Iterator[list[int]]:
    """Within the block, the commands' ``service`` client answers ``operation`` its own
    way for ``calls`` calls (None: all) after the first ``after`` ones: with ``error``
    (code, message) instead of asking the emulated AWS, or with the emulated answer
    passed through ``edit``. Every other call is the emulated AWS's.

    This is for what the emulated AWS cannot produce: a state that changes between two
    calls of one command (AWS answering "not Ready" right after reporting Ready, a
    deployment started meanwhile), error shapes (throttling, access denied), a field AWS
    may leave out. It is botocore's own ``before-call``/``after-call`` hook, the one
    botocore's Stubber answers through, used for one operation in an otherwise real run.
    Yields a one-item list: how many calls were answered this way.
    """
    from botocore.awsrequest import AWSResponse

    client = e.aws.client(service)
    service_id = client.meta.service_model.service_id.hyphenize()
    seen = [0]
    done = [0]

    def mine() -> bool:
        seen[0] += 1
        if seen[0] <= after or (calls is not None and done[0] >= calls):
            return False
        done[0] += 1
        return True

    def before(**_: Any) -> Any:
        if error is None or not mine():
            return None
        code, message = error
        body = {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        return AWSResponse("https://emulated.invalid", 400, {}, None), body

    def after_call(http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
        if edit is not None and http_response.status_code < 300 and mine():
            edit(parsed)

    events = client.meta.events
    before_event = f"before-call.{service_id}.{operation}"
    after_event = f"after-call.{service_id}.{operation}"
    events.register_first(before_event, before, unique_id="tests-operations-answered")
    events.register_first(after_event, after_call, unique_id="tests-operations-edited")
    try:
        yield done
    finally:
        events.unregister(before_event, unique_id="tests-operations-answered")
        events.unregister(after_event, unique_id="tests-operations-edited")
