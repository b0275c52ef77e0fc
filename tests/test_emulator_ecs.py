"""The emulated ECS: the service-linked role, CODE_DEPLOY services and their task sets,
tasks on the clock, and the refusals AWS makes (each cited where it is asserted)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError
from emulator_system import CLUSTER, REGION, SERVICE, T0, System, build, push_image, scaffold_images

from bluegreen.emulator import Emulator
from bluegreen.emulator.services.ecs import Ecs
from bluegreen.emulator.services.elbv2 import Prober, ProbeResult, TargetRef
from bluegreen.emulator.tasks import EmulatedTask

SLR_MESSAGE = (
    "Unable to assume the service linked role. Please verify that the ECS service linked "
    "role exists."
)


@pytest.fixture
def aws() -> Iterator[Emulator]:
    with Emulator(REGION, start=T0) as emulator:
        yield emulator


@pytest.fixture
def system(aws: Emulator) -> System:
    return build(aws)


def _error(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = caught.value.response["Error"]
    return str(error["Code"]), str(error["Message"])


def _tasks(system: System, status: str = "RUNNING") -> list[dict[str, Any]]:
    ecs = system.clients.ecs
    arns = ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE, desiredStatus=status)["taskArns"]
    if not arns:
        return []
    found: list[dict[str, Any]] = ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"]
    return found


# ----------------------------------------------------------------- service-linked role


def test_create_cluster_fails_until_the_service_linked_role_exists_and_creates_it(
    aws: Emulator,
) -> None:
    # aws-cloudformation/cloudformation-coverage-roadmap#818: in a new account
    # CreateCluster fails with this message and "Recreating the stack succeeds" (the
    # failed call created AWSServiceRoleForECS; ECS guide using-service-linked-roles.md).
    ecs, iam = aws.clients().ecs, aws.clients().iam
    with pytest.raises(ClientError) as caught:
        ecs.create_cluster(clusterName="c")
    assert _error(caught) == ("InvalidParameterException", SLR_MESSAGE)
    role = iam.get_role(RoleName="AWSServiceRoleForECS")["Role"]
    assert role["Path"] == "/aws-service-role/ecs.amazonaws.com/"
    ecs.create_cluster(clusterName="c")
    assert [c["clusterName"] for c in ecs.describe_clusters(clusters=["c"])["clusters"]] == ["c"]


def test_create_service_fails_without_the_service_linked_role_and_a_retry_works(
    system: System,
) -> None:
    # openemr/openemr-on-ecs#8 and aws-samples/aws-modern-application-workshop#99: the
    # same error from CreateService; creating the role (here: the failed call) fixes it.
    system.clients.iam.delete_service_linked_role(RoleName="AWSServiceRoleForECS")
    ecs = system.clients.ecs
    args: dict[str, Any] = {
        "cluster": CLUSTER,
        "serviceName": "second",
        "taskDefinition": system.task_definition,
        "desiredCount": 0,
        "launchType": "FARGATE",
        "deploymentController": {"type": "CODE_DEPLOY"},
        "loadBalancers": [
            {"targetGroupArn": system.blue, "containerName": "webapp", "containerPort": 80}
        ],
        "networkConfiguration": {
            "awsvpcConfiguration": {"subnets": system.subnets, "securityGroups": [system.task_sg]}
        },
    }
    with pytest.raises(ClientError) as caught:
        ecs.create_service(**args)
    assert _error(caught) == ("InvalidParameterException", SLR_MESSAGE)
    assert ecs.create_service(**args)["service"]["status"] == "ACTIVE"


def test_a_service_name_in_use_is_refused(system: System) -> None:
    # CreateService API reference: "If you attempt to create a new service with the same
    # name as an existing service in either ACTIVE or DRAINING status, you receive an error."
    service = system.service()
    with pytest.raises(ClientError) as caught:
        system.clients.ecs.create_service(
            cluster=CLUSTER,
            serviceName=SERVICE,
            taskDefinition=system.task_definition,
            desiredCount=1,
            deploymentController={"type": "CODE_DEPLOY"},
            launchType="FARGATE",
            networkConfiguration={
                "awsvpcConfiguration": service["networkConfiguration"]["awsvpcConfiguration"]
            },
        )
    assert _error(caught) == (
        "InvalidParameterException",
        "Creation of service was not idempotent.",
    )


# ------------------------------------------------- a CODE_DEPLOY service and its tasks


def test_a_code_deploy_service_gets_its_first_task_set_and_its_task_walks_the_lifecycle(
    aws: Emulator,
) -> None:
    # The CodeDeploy user guide (deployment-steps-ecs.md): the original task set is the
    # service's PRIMARY one; ECS task lifecycle (task-lifecycle.md): PROVISIONING,
    # PENDING, ACTIVATING, RUNNING; TaskSet.computedDesiredCount = desired x scale.
    seen: dict[float, tuple[str, int, int]] = {}
    system = build(aws, wait=False)

    def watch() -> None:
        tasks = _tasks(system)
        service = system.service()
        assert service["taskSets"][0]["computedDesiredCount"] == 1
        seen[aws.clock.seconds] = (
            tasks[0]["lastStatus"] if tasks else "-",
            service["runningCount"],
            service["pendingCount"],
        )

    task_set = system.service()["taskSets"][0]
    assert task_set["status"] == "PRIMARY"
    assert task_set["scale"] == {"value": 100.0, "unit": "PERCENT"}
    assert task_set["id"].startswith("ecs-svc/") and task_set["id"][8:].isdigit()
    assert task_set["loadBalancers"][0]["targetGroupArn"] == system.blue
    for moment in (0, 29, 31, 61, 71, 76):
        aws.sleep(moment - aws.clock.seconds)
        watch()
    assert seen[0] == ("PROVISIONING", 0, 1)
    assert seen[31] == ("PENDING", 0, 1)
    assert seen[71] == ("ACTIVATING", 0, 1)
    assert seen[76] == ("RUNNING", 1, 0)
    task = _tasks(system)[0]
    assert task["startedBy"] == task_set["id"]
    assert task["group"] == f"service:{SERVICE}"
    ip = next(
        d["value"] for d in task["attachments"][0]["details"] if d["name"] == "privateIPv4Address"
    )
    subnet = system.clients.ec2.describe_subnets(SubnetIds=[system.subnets[0]])["Subnets"][0]
    assert ipaddress.ip_address(ip) in ipaddress.ip_network(subnet["CidrBlock"])
    # Registered with the task set's target group once RUNNING (ACTIVATING registers).
    health = system.clients.elbv2.describe_target_health(TargetGroupArn=system.blue)
    assert [d["Target"] for d in health["TargetHealthDescriptions"]] == [{"Id": ip, "Port": 80}]
    # Stability: STEADY_STATE only once the target is healthy (TaskSet.stabilityStatus).
    assert system.service()["taskSets"][0]["stabilityStatus"] == "STABILIZING"
    aws.sleep(60)
    assert system.service()["taskSets"][0]["stabilityStatus"] == "STEADY_STATE"
    messages = [e["message"] for e in system.service()["events"]]
    assert f"(service {SERVICE}) has reached a steady state." in messages


def test_an_ecr_image_tag_that_does_not_exist_stops_the_task_with_cannot_pull(
    system: System,
) -> None:
    # ECS stopped-task errors: "CannotPullContainerError: pull image manifest has been
    # retried 5 time(s): failed to resolve ref" when the image or tag does not exist.
    missing = system.app_image.replace(":v1", ":never-pushed")
    definition = system.register(missing)
    ecs: Ecs = system.aws.service("ecs")
    ecs.create_task_set(
        CLUSTER,
        SERVICE,
        definition,
        target_group_arn=system.green,
        container_name="webapp",
        container_port=80,
    )
    system.aws.sleep(120)
    stopped = [t for t in _tasks(system, "STOPPED") if t["taskDefinitionArn"] == definition]
    assert stopped, "the task that could not pull its image stopped"
    task = stopped[0]
    assert task["stopCode"] == "TaskFailedToStart"
    assert task["stoppedReason"] == (
        "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to "
        f"resolve ref {missing}: {missing}: not found"
    )
    # The service scheduler retries, ever more slowly ("Service throttle logic").
    system.aws.sleep(3600)
    attempts = [t for t in _tasks(system, "STOPPED") if t["taskDefinitionArn"] == definition]
    assert 3 <= len(attempts) < 30
    messages = [e["message"] for e in system.service()["events"]]
    assert f"(service {SERVICE}) is unable to consistently start tasks successfully." in messages


def test_a_task_that_fails_its_health_checks_is_replaced_after_the_grace_period(
    system: System,
) -> None:
    # "failed Elastic Load Balancing health checks for a service cause a task to be
    # flagged as unhealthy, and Amazon ECS deregisters it and stops the task" (ECS guide,
    # Service throttle logic); the service's grace period is 60 s here.
    elb = system.aws.service("elbv2")
    before = _tasks(system)[0]["taskArn"]
    elb.default_prober = lambda target, at: ProbeResult(False, 503, "Target.ResponseCodeMismatch")

    def described() -> dict[str, Any]:
        found: dict[str, Any] = system.clients.ecs.describe_tasks(cluster=CLUSTER, tasks=[before])[
            "tasks"
        ][0]
        return found

    took = system.wait_for(lambda: described()["desiredStatus"] == "STOPPED", step=1)
    assert took == 45  # three failed checks, 15 s apart (the grace period is long over)
    stopping = described()
    assert (
        stopping["stoppedReason"]
        == f"Task failed ELB health checks in (target-group {system.blue})"
    )
    assert stopping["stopCode"] == "ServiceSchedulerInitiated"
    elb.default_prober = lambda target, at: ProbeResult(True)
    replacement = [t for t in _tasks(system) if t["taskArn"] != before]
    assert len(replacement) == 1


# ------------------------------------------------------------------------ UpdateService


@pytest.mark.parametrize(
    ("parameter", "what"),
    [
        ("taskDefinition", "task definition"),  # aws/aws-cdk#11243, boto/boto3#1936
        ("loadBalancers", "load balancers"),  # kayac/ecspresso#393
        ("networkConfiguration", "network parameters"),  # pulumi/pulumi-aws#1961
        ("platformVersion", "platform version"),  # aws/aws-cdk#23564 (listed as refused)
    ],
)
def test_update_service_refuses_what_codedeploy_owns_even_unchanged(
    system: System, parameter: str, what: str
) -> None:
    service = system.service()
    values = {
        "taskDefinition": service["taskDefinition"],
        "loadBalancers": service["loadBalancers"],
        "networkConfiguration": service["networkConfiguration"],
        "platformVersion": "LATEST",
    }
    with pytest.raises(ClientError) as caught:
        system.clients.ecs.update_service(
            cluster=CLUSTER, service=SERVICE, desiredCount=2, **{parameter: values[parameter]}
        )
    assert _error(caught) == (
        "InvalidParameterException",
        f"Unable to update {what} on services with a CODE_DEPLOY deployment controller. "
        "Use AWS CodeDeploy to trigger a new deployment.",
    )
    assert system.service()["desiredCount"] == 1  # nothing changed


def test_update_service_applies_the_desired_count_and_scales_the_primary_task_set(
    system: System,
) -> None:
    # UpdateService API reference: on a CODE_DEPLOY service "only the desired count,
    # deployment configuration, health check grace period, task placement constraints and
    # strategies, enable ECS managed tags option, and propagate tags can be updated".
    answer = system.clients.ecs.update_service(
        cluster=CLUSTER, service=SERVICE, desiredCount=3, healthCheckGracePeriodSeconds=90
    )["service"]
    assert answer["desiredCount"] == 3
    assert answer["healthCheckGracePeriodSeconds"] == 90
    assert system.primary()["computedDesiredCount"] == 3
    assert system.primary()["pendingCount"] == 2
    system.wait_for(lambda: system.primary()["runningCount"] == 3)
    assert system.service()["runningCount"] == 3
    system.clients.ecs.update_service(cluster=CLUSTER, service=SERVICE, desiredCount=1)
    system.wait_for(lambda: len(_tasks(system)) == 1)
    system.wait_for(lambda: system.service()["runningCount"] == 1)


# -------------------------------------------------------------------------- task sets


def test_task_set_operations_are_refused_unless_the_controller_is_external(system: System) -> None:
    # hashicorp/terraform-provider-aws#30347 quotes the refusal; the ECS API reference
    # says these operations are "used when a service uses the EXTERNAL deployment
    # controller type".
    ecs = system.clients.ecs
    primary = system.primary()["taskSetArn"]
    calls = [
        lambda: ecs.create_task_set(
            cluster=CLUSTER, service=SERVICE, taskDefinition=system.task_definition
        ),
        lambda: ecs.update_task_set(
            cluster=CLUSTER,
            service=SERVICE,
            taskSet=primary,
            scale={"value": 50, "unit": "PERCENT"},
        ),
        lambda: ecs.delete_task_set(cluster=CLUSTER, service=SERVICE, taskSet=primary),
        lambda: ecs.update_service_primary_task_set(
            cluster=CLUSTER, service=SERVICE, primaryTaskSet=primary
        ),
    ]
    for call in calls:
        with pytest.raises(ClientError) as caught:
            call()
        assert _error(caught) == (
            "InvalidParameterException",
            "Amazon ECS only supports task set management on services configured to use "
            "external deployment controllers.",
        )
    assert [ts["status"] for ts in system.task_sets()] == ["PRIMARY"]


def test_task_set_operations_work_on_an_external_service(system: System) -> None:
    ecs = system.clients.ecs
    network = system.service()["networkConfiguration"]
    ecs.create_service(
        cluster=CLUSTER,
        serviceName="external",
        desiredCount=2,
        deploymentController={"type": "EXTERNAL"},
    )
    created = ecs.create_task_set(
        cluster=CLUSTER,
        service="external",
        taskDefinition=system.task_definition,
        launchType="FARGATE",
        networkConfiguration=network,
        loadBalancers=[
            {"targetGroupArn": system.green, "containerName": "webapp", "containerPort": 80}
        ],
        scale={"value": 50.0, "unit": "PERCENT"},
    )["taskSet"]
    assert created["computedDesiredCount"] == 1
    ecs.update_task_set(
        cluster=CLUSTER,
        service="external",
        taskSet=created["taskSetArn"],
        scale={"value": 100.0, "unit": "PERCENT"},
    )
    ecs.update_service_primary_task_set(
        cluster=CLUSTER, service="external", primaryTaskSet=created["taskSetArn"]
    )
    system.aws.sleep(120)
    found = ecs.describe_task_sets(cluster=CLUSTER, service="external")["taskSets"][0]
    assert (found["status"], found["computedDesiredCount"], found["runningCount"]) == (
        "PRIMARY",
        2,
        2,
    )
    ecs.delete_task_set(cluster=CLUSTER, service="external", taskSet=created["taskSetArn"])
    assert (
        ecs.describe_task_sets(cluster=CLUSTER, service="external")["taskSets"][0]["status"]
        == "DRAINING"
    )
    system.aws.sleep(120)
    assert ecs.describe_task_sets(cluster=CLUSTER, service="external")["taskSets"] == []


def test_the_python_api_deletes_a_task_set_by_draining_its_targets_then_stopping_its_tasks(
    system: System,
) -> None:
    # What CodeDeploy's termination does through ECS: the targets drain for the group's
    # deregistration delay (30 s here), then the tasks stop (DEACTIVATING, STOPPING,
    # DEPROVISIONING, STOPPED).
    ecs: Ecs = system.aws.service("ecs")
    created = ecs.create_task_set(
        CLUSTER,
        SERVICE,
        system.task_definition,
        target_group_arn=system.green,
        container_name="webapp",
        container_port=80,
        external_id="d-EXAMPLE",
        started_by="CODE_DEPLOY",
    )
    system.aws.sleep(120)
    tasks = ecs.tasks(CLUSTER, SERVICE, created.id)
    assert [t.status for t in tasks] == ["RUNNING"]
    described = system.clients.ecs.describe_task_sets(cluster=CLUSTER, service=SERVICE)["taskSets"]
    green = next(ts for ts in described if ts["id"] == created.id)
    assert (green["startedBy"], green["externalId"], green["status"]) == (
        "CODE_DEPLOY",
        "d-EXAMPLE",
        "ACTIVE",
    )
    ecs.delete_task_set(CLUSTER, SERVICE, created.id)
    system.aws.sleep(1)
    assert tasks[0].status == "DEACTIVATING"
    assert system.health(system.green) == [("draining", "Target.DeregistrationInProgress")]
    system.aws.sleep(30)
    assert tasks[0].status == "STOPPING"
    system.aws.sleep(15)
    assert tasks[0].status == "STOPPED"
    assert [ts["status"] for ts in system.task_sets()] == ["PRIMARY"]


def test_a_container_runner_is_told_about_its_tasks_and_can_probe_them(system: System) -> None:
    # Issue 9's hook: a runner starts and stops the containers, and probes their targets.
    started: list[str] = []
    stopped: list[str] = []

    class Runner:
        def start(self, task: EmulatedTask) -> None:
            started.append(task.task_id)

        def stop(self, task: EmulatedTask) -> None:
            stopped.append(task.task_id)

        def prober(self, task: EmulatedTask) -> Prober | None:
            def probe(target: TargetRef, at: datetime) -> ProbeResult:
                return ProbeResult(False, 500, "Target.ResponseCodeMismatch")

            return probe

    ecs: Ecs = system.aws.service("ecs")
    ecs.runner = Runner()
    created = ecs.create_task_set(
        CLUSTER,
        SERVICE,
        system.task_definition,
        target_group_arn=system.blue,
        container_name="webapp",
        container_port=80,
    )
    system.aws.sleep(200)
    first = ecs.tasks(CLUSTER, SERVICE, created.id, include_stopped=True)[0]
    assert started[0] == first.task_id
    # The runner's prober failed every check: ECS replaced the task once the service's
    # 60 s grace period was over, and the runner was told to stop it.
    assert first.stopped_reason == f"Task failed ELB health checks in (target-group {system.blue})"
    assert first.task_id in stopped


# ----------------------------------------------------------------------- deleting


def test_delete_service_refuses_a_service_scaled_above_0(system: System) -> None:
    # DeleteService API reference: "If the service is actively maintaining tasks, you
    # can't delete it"; moto and AWS word it "The service cannot be stopped while it is
    # scaled above 0." (seen in AWS's console, per public write-ups).
    with pytest.raises(ClientError) as caught:
        system.clients.ecs.delete_service(cluster=CLUSTER, service=SERVICE)
    assert _error(caught) == (
        "InvalidParameterException",
        "The service cannot be stopped while it is scaled above 0.",
    )
    assert system.service()["status"] == "ACTIVE"


def test_delete_service_drains_the_tasks_then_the_service_is_inactive(system: System) -> None:
    # DeleteService API reference: DRAINING while tasks need cleanup, then INACTIVE;
    # DeleteCluster refuses a cluster with active services.
    ecs = system.clients.ecs
    with pytest.raises(ClientError) as caught:
        ecs.delete_cluster(cluster=CLUSTER)
    assert _error(caught)[0] == "ClusterContainsServicesException"
    ecs.update_service(cluster=CLUSTER, service=SERVICE, desiredCount=0)
    answer = ecs.delete_service(cluster=CLUSTER, service=SERVICE)["service"]
    assert answer["status"] == "DRAINING"
    assert system.health(system.blue) == [("draining", "Target.DeregistrationInProgress")]
    system.aws.sleep(120)
    assert system.service()["status"] == "INACTIVE"
    assert _tasks(system) == []
    assert (
        system.clients.ec2.describe_network_interfaces(
            Filters=[{"Name": "subnet-id", "Values": system.subnets}]
        )["NetworkInterfaces"]
        == []
    )
    ecs.delete_cluster(cluster=CLUSTER)


def test_delete_service_with_force_stops_a_running_service(system: System) -> None:
    answer = system.clients.ecs.delete_service(cluster=CLUSTER, service=SERVICE, force=True)
    assert answer["service"]["status"] == "DRAINING"
    system.aws.sleep(120)
    assert system.service()["status"] == "INACTIVE"


def test_list_tasks_lists_running_tasks_of_a_service_by_default(system: System) -> None:
    # ListTasks API reference: desiredStatus filters, RUNNING unless asked otherwise;
    # serviceName filters on the service (moto ignores it).
    ecs = system.clients.ecs
    app_files, _ = scaffold_images()
    push_image(system.aws, system.clients, "other", "v1", app_files)
    assert len(ecs.list_tasks(cluster=CLUSTER)["taskArns"]) == 1
    assert ecs.list_tasks(cluster=CLUSTER, serviceName="nothing")["taskArns"] == []
    assert ecs.list_tasks(cluster=CLUSTER, desiredStatus="STOPPED")["taskArns"] == []
