"""The read helpers of aws/ (ecs, elb, pipeline, console, codedeploy's single calls):
which API they call with which parameters, and what they make of the answer.

ECS and ELBv2 run against the emulated AWS (one account for the module). CodePipeline's
executions and CodeDeploy's deployment targets need a whole release to exist there, so
their exact requests and the answers' shapes (validated against the botocore model) are
queued on botocore Stubber (tests/test_aws_support.py), each answer shaped as the API
reference documents it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.stub import ANY
from test_aws_support import Stubs

from bluegreen.aws import codedeploy, console, ecs, elb, pipeline
from bluegreen.aws.errors import AwsCallError
from bluegreen.emulator import Emulator

REGION = "ap-northeast-1"


@pytest.fixture(scope="module")
def aws() -> Iterator[Emulator]:
    with Emulator(REGION) as emulator:
        # What `bluegreen deploy` creates first, as ECS requires (ECS developer guide,
        # "Using service-linked roles for Amazon ECS").
        emulator.client("iam").create_service_linked_role(AWSServiceName="ecs.amazonaws.com")
        yield emulator


# ---- console links ---------------------------------------------------------------------


def test_console_links_in_each_partition() -> None:
    # Console domains: aws.amazon.com, amazonaws.cn (China regions, cn-*) and
    # amazonaws-us-gov.com (GovCloud, us-gov-*), AWS General Reference "AWS Management
    # Console endpoints".
    assert console.pipeline("eu-west-1", "my pipe") == (
        "https://eu-west-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/"
        "my%20pipe/view?region=eu-west-1"
    )
    assert console.pipeline("cn-north-1", "p") == (
        "https://cn-north-1.console.amazonaws.cn/codesuite/codepipeline/pipelines/p/view"
        "?region=cn-north-1"
    )
    assert console.pipeline("us-gov-west-1", "p") == (
        "https://us-gov-west-1.console.amazonaws-us-gov.com/codesuite/codepipeline/pipelines/"
        "p/view?region=us-gov-west-1"
    )
    # "us-" alone is the commercial partition
    assert console.pipeline("us-east-1", "p").startswith("https://us-east-1.console.aws.amazon")


def test_console_links_of_each_page() -> None:
    base = f"https://{REGION}.console.aws.amazon.com"
    assert console.pipeline_execution(REGION, "p q", "e 1") == (
        f"{base}/codesuite/codepipeline/pipelines/p%20q/executions/e%201/timeline?region={REGION}"
    )
    assert console.deployment_group(REGION, "a b", "g h") == (
        f"{base}/codesuite/codedeploy/applications/a%20b/deployment-groups/g%20h?region={REGION}"
    )
    assert console.service_deployments(REGION, "c 1", "s 1") == (
        f"{base}/ecs/v2/clusters/c%201/services/s%201/deployments?region={REGION}"
    )
    assert console.deployment(REGION, "d-1 2") == (
        f"{base}/codesuite/codedeploy/deployments/d-1%202?region={REGION}"
    )
    arn = f"arn:aws:cloudformation:{REGION}:123456789012:stack/s/1"
    assert console.stack(REGION, arn) == (
        f"{base}/cloudformation/home?region={REGION}#/stacks/stackinfo?stackId="
        f"arn%3Aaws%3Acloudformation%3A{REGION}%3A123456789012%3Astack%2Fs%2F1"
    )


# ---- ECS -------------------------------------------------------------------------------


def _task_definition(client: Any, family: str) -> str:
    arn: str = client.register_task_definition(
        family=family,
        containerDefinitions=[{"name": "web", "image": "nginx", "memory": 128}],
    )["taskDefinition"]["taskDefinitionArn"]
    return arn


def test_describe_service_skips_an_inactive_service(aws: Emulator) -> None:
    # DeleteService leaves the service INACTIVE, still described (ECS API reference,
    # DeleteService: "the service status moves from ACTIVE to DRAINING ... INACTIVE").
    client = aws.client("ecs")
    client.create_cluster(clusterName="reads")
    arn = _task_definition(client, "reads-web")
    client.create_service(cluster="reads", serviceName="live", taskDefinition=arn)
    client.create_service(cluster="reads", serviceName="gone", taskDefinition=arn)
    client.delete_service(cluster="reads", service="gone", force=True)
    found = ecs.describe_service(client, "reads", "live")
    assert found is not None and found["serviceName"] == "live"
    assert ecs.describe_service(client, "reads", "gone") is None
    assert ecs.describe_service(client, "reads", "never") is None


def test_task_definitions_are_described_once_per_revision(aws: Emulator) -> None:
    client = aws.client("ecs")
    first = _task_definition(client, "memo-web")
    second = _task_definition(client, "memo-web")
    memo: dict[str, Any] = {}
    found = ecs.task_definitions(client, [second, first, "", first], memo)
    assert list(found) == sorted({first, second})
    assert found[first]["revision"] == 1 and found[second]["revision"] == 2
    assert set(memo) == {f"task-definition {first}", f"task-definition {second}"}
    # A revision is answered from the memo: a changed entry shows it was not asked again.
    memo[f"task-definition {first}"] = {"revision": "from memo"}
    assert ecs.task_definitions(client, [first], memo)[first] == {"revision": "from memo"}
    # A family's ARN (its latest revision) is asked every time, never remembered.
    latest = ecs.task_definitions(client, ["memo-web"], memo)
    assert latest["memo-web"]["revision"] == 2
    assert "task-definition memo-web" not in memo
    assert ecs.task_definitions(client, [first])[first]["revision"] == 1  # no memo at all


def test_describe_task_definition_gives_its_status(aws: Emulator) -> None:
    client = aws.client("ecs")
    arn = _task_definition(client, "status-web")
    assert ecs.describe_task_definition(client, arn)["status"] == "ACTIVE"
    client.deregister_task_definition(taskDefinition=arn)
    assert ecs.describe_task_definition(client, arn)["status"] == "INACTIVE"


# ---- ELBv2 -----------------------------------------------------------------------------


def _load_balancer(aws: Emulator) -> tuple[Any, str, str, str, str]:
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{n}.0/24", AvailabilityZone=f"{REGION}{z}")[
            "Subnet"
        ]["SubnetId"]
        for n, z in ((1, "a"), (2, "c"))
    ]
    client = aws.client("elbv2")
    lb = client.create_load_balancer(Name="reads-alb", Subnets=subnets)["LoadBalancers"][0]
    groups = [
        client.create_target_group(
            Name=f"reads-{color}", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip"
        )["TargetGroups"][0]["TargetGroupArn"]
        for color in ("blue", "green")
    ]
    plain = client.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": groups[0]}],
    )["Listeners"][0]["ListenerArn"]
    weighted = client.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"],
        Protocol="HTTP",
        Port=8080,
        DefaultActions=[
            {
                "Type": "forward",
                "ForwardConfig": {
                    "TargetGroups": [
                        {"TargetGroupArn": groups[0], "Weight": 90},
                        {"TargetGroupArn": groups[1], "Weight": 10},
                    ]
                },
            }
        ],
    )["Listeners"][0]["ListenerArn"]
    return client, plain, weighted, groups[0], groups[1]


def test_listeners_and_their_forwards(aws: Emulator) -> None:
    # DescribeListeners takes several ListenerArns in one call; a forward action has either
    # TargetGroupArn or ForwardConfig.TargetGroups with weights (ELBv2 API reference,
    # Action and ForwardActionConfig).
    client, plain, weighted, blue, green = _load_balancer(aws)
    found = elb.describe_listeners(client, [plain, weighted])
    assert set(found) == {plain, weighted}
    assert elb.forwards(found[weighted]) == [(blue, 90), (green, 10)]
    single = elb.forwards(found[plain])
    assert single == [(blue, 100)]  # a plain forward takes all the traffic
    assert elb.target_group_name(blue) == "reads-blue"
    assert elb.target_health(client, green) == {}


def test_forwards_of_each_action_shape() -> None:
    assert elb.forwards({"DefaultActions": [{"Type": "forward", "TargetGroupArn": "tg"}]}) == [
        ("tg", 100)
    ]
    # A ForwardConfig group without a weight weighs 1 (ELBv2 API reference,
    # TargetGroupTuple.Weight: "default 1" when several groups are given).
    forward = {
        "Type": "forward",
        "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": "a"}, {"TargetGroupArn": "b"}]},
    }
    fixed = {"Type": "fixed-response", "TargetGroupArn": "ignored"}
    assert elb.forwards({"DefaultActions": [fixed, forward]}) == [("a", 1), ("b", 1)]
    empty = {"Type": "forward", "ForwardConfig": {"TargetGroups": []}}
    assert elb.forwards({"DefaultActions": [empty]}) == []
    assert elb.forwards({}) == []
    assert elb.target_group_name("not-an-arn") == "not-an-arn"
    assert elb.target_group_name("arn:aws:x:targetgroup/name") == "name"


def test_target_health_counts_each_state() -> None:
    s = Stubs()
    s.add(
        "elbv2",
        "describe_target_health",
        {
            "TargetHealthDescriptions": [
                {"TargetHealth": {"State": "unhealthy"}},
                {"TargetHealth": {"State": "healthy"}},
                {"TargetHealth": {"State": "healthy"}},
                {"TargetHealth": {}},
                {},
            ]
        },
        {"TargetGroupArn": "arn:tg"},
    )
    counts = elb.target_health(s.client("elbv2"), "arn:tg")
    # The order is part of what users read: `bluegreen status` prints the states in the
    # dict's order ("healthy 2, unhealthy 1, unknown 2", cli/status.py), so it is
    # alphabetical, the same on every refresh whatever order ELB lists the targets in.
    assert list(counts.items()) == [("healthy", 2), ("unhealthy", 1), ("unknown", 2)]
    s.done()


# ---- CodePipeline ----------------------------------------------------------------------


def test_pipeline_calls_and_their_answers() -> None:
    # CodePipeline API reference: StartPipelineExecution (name), ListPipelineExecutions
    # (pipelineName, maxResults; newest first), GetPipelineExecution, GetPipelineState.
    s = Stubs()
    s.add("codepipeline", "start_pipeline_execution", {"pipelineExecutionId": "e-1"}, {"name": "p"})
    assert pipeline.start(s.client("codepipeline"), "p") == "e-1"
    newest = {"pipelineExecutionId": "e-2", "status": "InProgress"}
    s.add(
        "codepipeline",
        "list_pipeline_executions",
        {"pipelineExecutionSummaries": [newest]},  # maxResults=1: one summary at most
        {"pipelineName": "p", "maxResults": 1},
    )
    assert pipeline.latest_execution(s.client("codepipeline"), "p") == newest
    s.add(
        "codepipeline",
        "list_pipeline_executions",
        {"pipelineExecutionSummaries": []},
        {"pipelineName": "p", "maxResults": 1},
    )
    assert pipeline.latest_execution(s.client("codepipeline"), "p") is None
    s.add(
        "codepipeline",
        "get_pipeline_execution",
        {"pipelineExecution": {"pipelineExecutionId": "e-1", "status": "Succeeded"}},
        {"pipelineName": "p", "pipelineExecutionId": "e-1"},
    )
    assert pipeline.execution(s.client("codepipeline"), "p", "e-1")["status"] == "Succeeded"
    s.add(
        "codepipeline",
        "get_pipeline_state",
        {"stageStates": [{"stageName": "Source"}]},
        {"name": "p"},
    )
    assert pipeline.state(s.client("codepipeline"), "p") == [{"stageName": "Source"}]
    s.add("codepipeline", "get_pipeline_state", {}, {"name": "p"})
    assert pipeline.state(s.client("codepipeline"), "p") == []
    s.done()


@pytest.mark.parametrize(
    ("summary", "pending"),
    [
        ({"status": "InProgress", "trigger": {"triggerType": "CreatePipeline"}}, True),
        ({"status": "Succeeded", "trigger": {"triggerType": "CreatePipeline"}}, False),
        ({"status": "InProgress", "trigger": {"triggerType": "StartPipelineExecution"}}, False),
        ({"status": "InProgress"}, False),
        (None, False),
    ],
)
def test_first_run_pending(summary: dict[str, Any] | None, pending: bool) -> None:
    # ExecutionTrigger.triggerType CreatePipeline: the run CodePipeline starts itself when
    # it creates a pipeline (botocore model, ExecutionTrigger).
    s = Stubs()
    listed = [dict(summary, pipelineExecutionId="e-1")] if summary is not None else []
    s.add(
        "codepipeline",
        "list_pipeline_executions",
        {"pipelineExecutionSummaries": listed},
        {"pipelineName": "p", "maxResults": 1},
    )
    assert pipeline.first_run_pending(s.client("codepipeline"), "p") is pending
    s.done()


# ---- CodeDeploy: one deployment --------------------------------------------------------


def test_ecs_target_of_a_started_and_an_unstarted_deployment() -> None:
    # ListDeploymentTargets answers DeploymentNotStartedException before the deployment
    # starts; GetDeploymentTarget gives the ECS target (CodeDeploy API reference).
    s = Stubs()
    client = s.client("codedeploy")
    s.error(
        "codedeploy",
        "list_deployment_targets",
        "DeploymentNotStartedException",
        "no",
        {"deploymentId": "d-1"},
    )
    assert codedeploy.ecs_target(client, "d-1") is None
    s.add("codedeploy", "list_deployment_targets", {"targetIds": []}, {"deploymentId": "d-1"})
    assert codedeploy.ecs_target(client, "d-1") is None
    s.add(
        "codedeploy",
        "list_deployment_targets",
        {"targetIds": ["c:s", "other"]},
        {"deploymentId": "d-1"},
    )
    target = {"deploymentId": "d-1", "targetId": "c:s", "status": "InProgress"}
    s.add(
        "codedeploy",
        "get_deployment_target",
        {"deploymentTarget": {"deploymentTargetType": "ECSTarget", "ecsTarget": target}},
        {"deploymentId": "d-1", "targetId": "c:s"},
    )
    assert codedeploy.ecs_target(client, "d-1") == target
    s.error(
        "codedeploy",
        "list_deployment_targets",
        "DeploymentDoesNotExistException",
        "gone",
        {"deploymentId": "d-9"},
    )
    with pytest.raises(AwsCallError) as info:
        codedeploy.ecs_target(client, "d-9")
    assert info.value.code == "DeploymentDoesNotExistException"
    s.done()


def test_deployment_calls_send_what_the_api_takes() -> None:
    s = Stubs()
    client = s.client("codedeploy")
    s.add(
        "codedeploy",
        "get_deployment",
        {"deploymentInfo": {"deploymentId": "d-1", "status": "Ready"}},
        {"deploymentId": "d-1"},
    )
    assert codedeploy.get_deployment(client, "d-1")["status"] == "Ready"
    s.add(
        "codedeploy",
        "get_deployment_group",
        {"deploymentGroupInfo": {"deploymentGroupName": "g"}},
        {"applicationName": "a", "deploymentGroupName": "g"},
    )
    assert codedeploy.deployment_group(client, "a", "g") == {"deploymentGroupName": "g"}
    s.add(
        "codedeploy",
        "get_deployment_group",
        {},
        {"applicationName": "a", "deploymentGroupName": "g"},
    )
    assert codedeploy.deployment_group(client, "a", "g") == {}
    s.add(
        "codedeploy",
        "continue_deployment",
        {},
        {"deploymentId": "d-1", "deploymentWaitType": "TERMINATION_WAIT"},
    )
    codedeploy.continue_deployment(client, "d-1", "TERMINATION_WAIT")
    # StopDeployment with autoRollbackEnabled: "rolls back to the previous version"
    s.add(
        "codedeploy",
        "stop_deployment",
        {"status": "Pending", "statusMessage": "stopping"},
        {"deploymentId": "d-1", "autoRollbackEnabled": True},
    )
    assert codedeploy.stop_deployment(client, "d-1")["status"] == "Pending"
    revision = {"revisionType": "AppSpecContent", "appSpecContent": {"content": "{}"}}
    s.add(
        "codedeploy",
        "create_deployment",
        {"deploymentId": "d-2"},
        {
            "applicationName": "a",
            "deploymentGroupName": "g",
            "revision": revision,
            "description": "rollback",
        },
    )
    assert codedeploy.create_deployment(client, "a", "g", revision, "rollback") == "d-2"
    s.done()


def test_with_content_reads_the_appspec_by_its_sha256() -> None:
    # GetDeployment leaves appSpecContent.content null; GetApplicationRevision with the
    # sha256 gives it (CodeDeploy API reference, GetDeployment).
    s = Stubs()
    client = s.client("codedeploy")
    bare = {"revisionType": "AppSpecContent", "appSpecContent": {"sha256": "abc"}}
    full = {"revisionType": "AppSpecContent", "appSpecContent": {"content": "x", "sha256": "abc"}}
    s.add(
        "codedeploy",
        "get_application_revision",
        {"revision": full},
        {
            "applicationName": "a",
            "revision": {"revisionType": "AppSpecContent", "appSpecContent": {"sha256": "abc"}},
        },
    )
    assert codedeploy.with_content(client, "a", bare) == full
    s.add("codedeploy", "get_application_revision", {}, {"applicationName": "a", "revision": ANY})
    assert codedeploy.with_content(client, "a", bare) == bare  # no revision in the answer
    # No call: already has its content, has no sha256, or is not an AppSpecContent.
    assert codedeploy.with_content(client, "a", full) == full
    no_sha = {"revisionType": "AppSpecContent", "appSpecContent": {}}
    assert codedeploy.with_content(client, "a", no_sha) == no_sha
    s3 = {"revisionType": "S3", "appSpecContent": {"sha256": "abc"}}
    assert codedeploy.with_content(client, "a", s3) == s3
    s.done()


def test_newest_ignores_infos_without_a_create_time() -> None:
    old = {"deploymentId": "d-1", "createTime": datetime(2026, 1, 1, tzinfo=UTC)}
    new = {"deploymentId": "d-2", "createTime": datetime(2026, 1, 2, tzinfo=UTC)}
    assert codedeploy.newest([new, {"deploymentId": "d-3"}, old]) == new
    assert codedeploy.newest([{"deploymentId": "d-3"}]) is None
    assert codedeploy.newest([]) is None
