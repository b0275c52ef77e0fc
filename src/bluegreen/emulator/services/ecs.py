"""Amazon ECS: services, task sets and tasks that behave, on the simulated clock.

moto keeps clusters, task definitions, services, task sets and tasks; this module adds
what ECS does by itself and the refusals moto does not make:

- **The service-linked role.** CreateCluster and CreateService fail with
  ``InvalidParameterException`` "Unable to assume the service linked role. Please
  verify that the ECS service linked role exists." while ``AWSServiceRoleForECS`` does
  not exist, and the failed call creates it, so a retry works: what a brand-new account
  sees (aws-cloudformation/cloudformation-coverage-roadmap#818, "Recreating the stack
  succeeds"; aws-samples/baseline-environment-on-aws#238 shows the code; the role's name:
  ECS developer guide, using-service-linked-roles.md).
- **Task sets of a CODE_DEPLOY service.** ECS gives the service its first task set
  (PRIMARY, scale 100 %, on the service's load balancer) when it is created; CodeDeploy
  creates, scales, promotes and deletes the others through this module's Python API
  (:meth:`Ecs.create_task_set` ...), as AWS does internally. The public task-set
  operations (CreateTaskSet, UpdateTaskSet, DeleteTaskSet, UpdateServicePrimaryTaskSet)
  are refused for every caller unless the service's controller is EXTERNAL:
  ``InvalidParameterException`` "Amazon ECS only supports task set management on
  services configured to use external deployment controllers."
  (hashicorp/terraform-provider-aws#30347; ECS API reference: these operations are
  "used when a service uses the EXTERNAL deployment controller type").
- **Tasks** start and stop through their lifecycle (:mod:`bluegreen.emulator.tasks`),
  get an address in their subnet, are registered with their task set's target group
  (through the ELBv2 API, as the service-linked role) and count in the task set's
  ``runningCount``/``pendingCount`` and the service's. A task set's ``computedDesiredCount``
  is the service's desired count times its scale, rounded up (ECS API reference,
  TaskSet). The service scheduler keeps each task set at that count, replacing tasks
  that stop, with the documented throttle for tasks that fail to start ("Service throttle
  logic": up to 15 minutes between attempts), and replaces a task whose target turns
  unhealthy once the service's health check grace period is over ("Task failed ELB
  health checks").
- **UpdateService on a CODE_DEPLOY service** refuses a task definition, load balancers,
  a network configuration or a platform version, each with ECS's own message, even
  unchanged (aws/aws-cdk#23564: calls "will be rejected if the network configuration,
  platform version, task definition, or load balancer is provided"; messages from
  aws/aws-cdk#11243, kayac/ecspresso#393, pulumi/pulumi-aws#1961). The desired count,
  deployment configuration, health check grace period, placement constraints and
  strategies, managed tags and tag propagation are applied (UpdateService API reference);
  a new desired count scales every task set.
- **DeleteService** refuses a service scaled above 0 unless forced ("The service cannot
  be stopped while it is scaled above 0."); otherwise the service goes DRAINING, its task
  sets drain and stop their tasks, and it ends INACTIVE (DeleteService API reference).
  DeleteCluster refuses a cluster that still has services or tasks.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from moto.ecs.models import TaskSet

from bluegreen.emulator import internal, timing
from bluegreen.emulator.clock import Body, Wait
from bluegreen.emulator.service import PASS, Call, Params, Result, Service, ServiceError, operation
from bluegreen.emulator.services.ecs_native import NativeDeployments
from bluegreen.emulator.tasks import (
    PRE_RUNNING,
    AppProcess,
    ContainerRunner,
    EmulatedTask,
    NoRunner,
    app_kind,
    hook,
    lifecycle,
    task_id,
)

if TYPE_CHECKING:
    from bluegreen.emulator.core import Emulator
    from bluegreen.emulator.services.elbv2 import CheckEvent, Elbv2, TargetState

_PASS: Result = PASS
"""Let moto serve the request (typed for the handlers' return)."""

SERVICE_LINKED_ROLE = "AWSServiceRoleForECS"
SLR_MESSAGE = (
    "Unable to assume the service linked role. Please verify that the ECS service linked "
    "role exists."
)
TASK_SET_MESSAGE = (
    "Amazon ECS only supports task set management on services configured to use external "
    "deployment controllers."
)

# UpdateService on a CODE_DEPLOY service: the parameters it refuses, in the order they
# are checked, with ECS's messages. Task definition: aws/aws-cdk#11243, boto/boto3#1936;
# load balancers: kayac/ecspresso#393; network: pulumi/pulumi-aws#1961,
# hashicorp/terraform-provider-aws#13473; platform version: listed as refused by an AWS
# engineer in aws/aws-cdk#23564, no public thread quotes its text, so it is worded like
# the other three.
_CODE_DEPLOY_REFUSED = (
    ("taskDefinition", "task definition"),
    ("loadBalancers", "load balancers"),
    ("networkConfiguration", "network parameters"),
    ("platformVersion", "platform version"),
)
# What UpdateService applies on a CODE_DEPLOY or EXTERNAL service (API reference).
_UPDATABLE = {
    "deploymentConfiguration": "deployment_configuration",
    "healthCheckGracePeriodSeconds": "health_check_grace_period_seconds",
    "placementConstraints": "placement_constraints",
    "placementStrategy": "placement_strategy",
    "enableECSManagedTags": "enable_ecs_managed_tags",
    "propagateTags": "propagate_tags",
    "enableExecuteCommand": "enable_execute_command",
}

_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[^:@]+)(?::(?P<tag>[^@]+))?(?:@(?P<digest>sha256:[0-9a-f]+))?$"
)


@contextmanager
def moto_errors() -> Iterator[None]:
    """moto's exceptions, raised inside a handler, as the AWS errors they stand for."""
    from moto.core.exceptions import ServiceException

    try:
        yield
    except ServiceError:
        raise
    except ServiceException as exc:
        raise ServiceError(str(exc.code), str(exc.message)) from exc


class Ecs(Service):
    """Amazon ECS: the behaviour and refusals moto lacks; the rest is moto's."""

    name = "ecs"

    def __init__(self, emulator: Emulator) -> None:
        super().__init__(emulator)
        self.runner: ContainerRunner = NoRunner()
        """What runs a task's containers: nothing (every health check passes), or with
        ``Emulator(data_plane=True)`` the data plane (real local processes, health checks
        over HTTP, the network read from the VPC's state)."""
        self._tasks: dict[str, EmulatedTask] = {}
        self._by_ip: dict[str, EmulatedTask] = {}
        self._tasks_started = 0
        self._task_sets_made = 0
        self._events = 0
        self._failures: dict[str, int] = {}
        self.health_failures: dict[str, int] = {}
        """Task set ARN -> its tasks stopped for failing the load balancer's health checks
        since one last passed them (the deployment circuit breaker counts them: ecs_native)."""
        self._retrying: set[str] = set()
        self._steady: dict[str, bool] = {}
        self._used_ips: set[str] = set()
        elbv2: Elbv2 = emulator.service("elbv2")
        elbv2.check_observers.append(self._on_check)
        elbv2.state_observers.append(self._on_target_state)
        self._patch_iam_naming()
        self.native = NativeDeployments(self)
        """ECS built-in blue/green (:mod:`bluegreen.emulator.services.ecs_native`)."""
        if getattr(emulator, "data_plane", False):
            from bluegreen.emulator.dataplane import ProcessRunner

            runner = ProcessRunner(
                emulator, principal=self._slr_arn(), app_container=self._app_container
            )
            self.runner = runner
            elbv2.forwarder = runner.forward_to
            elbv2.after_request = runner.after_request

    # -- moto's IAM names the service-linked role of ecs.amazonaws.com "AWSServiceRoleForecs"
    def _patch_iam_naming(self) -> None:
        """AWS names it AWSServiceRoleForECS (ECS developer guide,
        using-service-linked-roles.md); moto lowercases the service part. Restored on close."""
        from moto.iam import models

        self._iam_conversion = models.SERVICE_NAME_CONVERSION
        patched = dict(models.SERVICE_NAME_CONVERSION)
        patched["ecs"] = "ECS"
        models.SERVICE_NAME_CONVERSION = patched

    def close(self) -> None:
        from moto.iam import models

        models.SERVICE_NAME_CONVERSION = self._iam_conversion
        closer = getattr(self.runner, "close", None)
        if closer is not None:
            closer()

    # =========================================================================== Python API
    def get_service(self, cluster: str, service: str) -> Any:
        """moto's service object (raises ServiceError ServiceNotFoundException)."""
        with moto_errors():
            return self._backend()._get_service(cluster, service)

    def task_sets(self, cluster: str, service: str) -> list[Any]:
        """The service's task sets (moto objects, with their counts up to date)."""
        return list(self.get_service(cluster, service).task_sets)

    def task_set(self, cluster: str, service: str, task_set: str) -> Any:
        for found in self.task_sets(cluster, service):
            if task_set in (found.task_set_arn, found.id):
                return found
        raise ServiceError("TaskSetNotFoundException", "The specified task set does not exist.")

    def tasks(
        self,
        cluster: str,
        service: str,
        task_set: str | None = None,
        include_stopped: bool = False,
    ) -> list[EmulatedTask]:
        """The service's tasks (of one task set: its ARN or id), oldest first."""
        svc = self.get_service(cluster, service)
        wanted = None
        if task_set is not None:
            wanted = self.task_set(cluster, service, task_set).id
        return [
            t
            for t in self._tasks.values()
            if t.cluster_name == svc.cluster_name
            and t.service == svc.name
            and (wanted is None or t.task_set_id == wanted)
            and (include_stopped or not t.stopped)
        ]

    def create_task_set(
        self,
        cluster: str,
        service: str,
        task_definition: str,
        *,
        target_group_arn: str | None = None,
        container_name: str | None = None,
        container_port: int | None = None,
        scale: float = 100.0,
        network_configuration: dict[str, Any] | None = None,
        platform_version: str | None = None,
        launch_type: str | None = None,
        external_id: str | None = None,
        started_by: str | None = None,
    ) -> Any:
        """A new ACTIVE task set on ``target_group_arn`` (what CodeDeploy's Install does)."""
        svc = self.get_service(cluster, service)
        load_balancers = []
        if target_group_arn:
            load_balancers = [
                {
                    "targetGroupArn": target_group_arn,
                    "containerName": container_name,
                    "containerPort": int(container_port or 0),
                }
            ]
        return self._new_task_set(
            svc,
            task_definition,
            load_balancers=load_balancers,
            scale=scale,
            network_configuration=network_configuration or svc.network_configuration or None,
            platform_version=platform_version or svc.platform_version,
            launch_type=launch_type or svc.launch_type,
            external_id=external_id,
            started_by=started_by,
        )

    def scale_task_set(self, cluster: str, service: str, task_set: str, percent: float) -> Any:
        svc = self.get_service(cluster, service)
        found = self.task_set(cluster, service, task_set)
        found.scale = {"value": float(percent), "unit": "PERCENT"}
        found.updatedAt = self._naive_now()
        self._refresh(svc)
        return found

    def make_primary(self, cluster: str, service: str, task_set: str) -> Any:
        """Make a task set PRIMARY: the service takes its task definition and load
        balancers; the other task sets become ACTIVE (UpdateServicePrimaryTaskSet)."""
        svc = self.get_service(cluster, service)
        primary = self.task_set(cluster, service, task_set)
        for found in svc.task_sets:
            if found.status == "DRAINING":
                continue
            found.status = "PRIMARY" if found is primary else "ACTIVE"
            found.updatedAt = self._naive_now()
        svc.task_definition = primary.task_definition
        svc.load_balancers = list(primary.load_balancers)
        self._refresh(svc)
        return primary

    def delete_task_set(self, cluster: str, service: str, task_set: str) -> Any:
        """Delete a task set as ECS does: DRAINING, its targets deregistered and drained,
        its tasks stopped; it disappears once every task has stopped."""
        svc = self.get_service(cluster, service)
        found = self.task_set(cluster, service, task_set)
        found.status = "DRAINING"
        found.updatedAt = self._naive_now()
        self._refresh(svc)
        return found

    def serve_request(
        self,
        task: EmulatedTask,
        path: str,
        *,
        method: str = "GET",
        status: int = 200,
        client: str = "203.0.113.10",
        port: int = 51234,
    ) -> bool:
        """One request the task's app serves (its access-log line); whether it was kept."""
        if task.app is None or task.status != "RUNNING":
            return False
        return task.app.request(self.emulator.now(), client, port, method, path, status)

    # =========================================================================== operations
    @operation("CreateCluster")
    def create_cluster(self, params: Params, call: Call) -> Result:
        self._require_service_linked_role(call)
        return _PASS

    @operation("DeleteCluster")
    def delete_cluster(self, params: Params, call: Call) -> Result:
        backend = self._backend()
        name = str(params["cluster"]).split("/")[-1]
        for svc in backend.services.values():
            if svc.cluster_name == name and svc.status in ("ACTIVE", "DRAINING"):
                raise ServiceError(
                    "ClusterContainsServicesException",
                    "The Cluster cannot be deleted while Services are active.",
                )
        for task in self._tasks.values():
            if task.cluster_name == name and not task.stopped:
                raise ServiceError(
                    "ClusterContainsTasksException",
                    "The Cluster cannot be deleted while Tasks are active.",
                )
        return _PASS

    @operation("CreateService")
    def create_service(self, params: Params, call: Call) -> Result:
        self._require_service_linked_role(call)
        backend = self._backend()
        cluster_name = str(params.get("cluster", "default"))
        name = str(params["serviceName"])
        with moto_errors():
            cluster = backend._get_cluster(cluster_name)
        existing = backend.services.get(f"{cluster.name}:{name}")
        if existing is not None and existing.status in ("ACTIVE", "DRAINING"):
            raise ServiceError(
                "InvalidParameterException", "Creation of service was not idempotent."
            )
        controller = (params.get("deploymentController") or {}).get("type", "ECS")
        _refuse_deployment_alarms(controller, params)
        with moto_errors():
            svc = backend.create_service(
                cluster_name,
                name,
                params.get("desiredCount"),
                params.get("taskDefinition"),
                params.get("loadBalancers"),
                params.get("schedulingStrategy"),
                params.get("tags"),
                params.get("deploymentController"),
                params.get("launchType"),
                network_configuration=params.get("networkConfiguration"),
                service_registries=params.get("serviceRegistries"),
                platform_version=params.get("platformVersion"),
                propagate_tags=params.get("propagateTags") or "NONE",
                role_arn=params.get("role"),
            )
        svc.created_at = self.emulator.now()
        svc.created_by = call.principal
        svc.events = []
        # A CODE_DEPLOY service shows task sets, never ECS deployments: "deployments ...
        # for the CODE_DEPLOY type will always be empty" (boto/botocore#2865); moto keeps
        # them empty too.
        for key, attribute in _UPDATABLE.items():
            if key in params:
                setattr(svc, attribute, params[key])
        if controller == "CODE_DEPLOY" and params.get("taskDefinition"):
            # AWS gives a CODE_DEPLOY service its first task set itself (the CodeDeploy
            # user guide: the original task set is the service's PRIMARY one).
            first = self._new_task_set(
                svc,
                str(params["taskDefinition"]),
                load_balancers=list(params.get("loadBalancers") or []),
                scale=100.0,
                network_configuration=params.get("networkConfiguration"),
                platform_version=params.get("platformVersion"),
                launch_type=svc.launch_type,
                external_id=None,
                started_by=None,
            )
            first.status = "PRIMARY"
        if NativeDeployments.applies(controller, params):
            self.native.created(svc, params)
        self._refresh(svc)
        return {"service": svc}

    @operation("UpdateService")
    def update_service(self, params: Params, call: Call) -> Result:
        svc = self.get_service(str(params.get("cluster", "default")), str(params["service"]))
        controller = svc.deployment_controller.get("type", "ECS")
        if NativeDeployments.applies(controller, params, svc):
            return self.native.updated(svc, params)
        if controller == "ECS":
            return _PASS
        _refuse_deployment_alarms(controller, params)
        if controller == "CODE_DEPLOY":
            for key, what in _CODE_DEPLOY_REFUSED:
                if params.get(key) is not None:
                    raise ServiceError(
                        "InvalidParameterException",
                        f"Unable to update {what} on services with a CODE_DEPLOY deployment "
                        "controller. Use AWS CodeDeploy to trigger a new deployment.",
                    )
        for key, attribute in _UPDATABLE.items():
            if key in params:
                setattr(svc, attribute, params[key])
        if params.get("desiredCount") is not None:
            svc.desired_count = int(params["desiredCount"])
        self._refresh(svc)
        return {"service": svc}

    @operation("DeleteService")
    def delete_service(self, params: Params, call: Call) -> Result:
        svc = self.get_service(str(params.get("cluster", "default")), str(params["service"]))
        if svc.status != "ACTIVE":
            return {"service": svc}
        if svc.desired_count > 0 and not params.get("force"):
            raise ServiceError(
                "InvalidParameterException",
                "The service cannot be stopped while it is scaled above 0.",
            )
        svc.desired_count = 0
        svc.status = "DRAINING"
        for found in svc.task_sets:
            found.status = "DRAINING"
        self._refresh(svc)
        return {"service": svc}

    @operation("CreateTaskSet")
    def create_task_set_op(self, params: Params, call: Call) -> Result:
        svc = self._external(params)
        lb = (params.get("loadBalancers") or [{}])[0]
        found = self.create_task_set(
            svc.cluster_name,
            svc.name,
            str(params["taskDefinition"]),
            target_group_arn=lb.get("targetGroupArn"),
            container_name=lb.get("containerName"),
            container_port=lb.get("containerPort"),
            scale=float((params.get("scale") or {}).get("value", 100.0)),
            network_configuration=params.get("networkConfiguration"),
            platform_version=params.get("platformVersion"),
            launch_type=params.get("launchType"),
            external_id=params.get("externalId"),
        )
        return {"taskSet": found}

    @operation("UpdateTaskSet")
    def update_task_set_op(self, params: Params, call: Call) -> Result:
        svc = self._external(params)
        found = self.scale_task_set(
            svc.cluster_name,
            svc.name,
            str(params["taskSet"]),
            float(params["scale"].get("value", 100.0)),
        )
        return {"taskSet": found}

    @operation("DeleteTaskSet")
    def delete_task_set_op(self, params: Params, call: Call) -> Result:
        svc = self._external(params)
        return {"taskSet": self.delete_task_set(svc.cluster_name, svc.name, str(params["taskSet"]))}

    @operation("UpdateServicePrimaryTaskSet")
    def update_primary_op(self, params: Params, call: Call) -> Result:
        svc = self._external(params)
        found = self.make_primary(svc.cluster_name, svc.name, str(params["primaryTaskSet"]))
        return {"taskSet": found}

    # -- ECS built-in blue/green's deployment API (ecs_native.py) ---------------------------
    @operation("ListServiceDeployments")
    def list_service_deployments(self, params: Params, call: Call) -> Result:
        return self.native.list_deployments(params)

    @operation("DescribeServiceDeployments")
    def describe_service_deployments(self, params: Params, call: Call) -> Result:
        return self.native.describe(params)

    @operation("StopServiceDeployment")
    def stop_service_deployment(self, params: Params, call: Call) -> Result:
        return self.native.stop(params)

    @operation("ContinueServiceDeployment")
    def continue_service_deployment(self, params: Params, call: Call) -> Result:
        return self.native.continue_(params)

    @operation("DescribeServiceRevisions")
    def describe_service_revisions(self, params: Params, call: Call) -> Result:
        return self.native.describe_revisions(params)

    @operation("StopTask")
    def stop_task(self, params: Params, call: Call) -> Result:
        wanted = str(params["task"])
        for task in self._tasks.values():
            if wanted in (task.task_arn, task.task_id):
                task.stop("UserInitiated", str(params.get("reason") or "Task stopped by user"))
                self._refresh_for(task)
                return {"task": task}
        return _PASS

    @operation("ListTasks")
    def list_tasks(self, params: Params, call: Call) -> Result:
        """moto's ListTasks ignores serviceName and has no default status filter: ECS
        lists RUNNING tasks unless desiredStatus says otherwise (ListTasks API reference)."""
        backend = self._backend()
        with moto_errors():
            cluster = backend._get_cluster(str(params.get("cluster", "default")))
        status = str(params.get("desiredStatus") or "RUNNING")
        arns = []
        for tasks in backend.tasks.values():
            for task in tasks.values():
                if task.cluster_name != cluster.name or task.desired_status != status:
                    continue
                if params.get("serviceName") and getattr(task, "group", "") != (
                    f"service:{params['serviceName']}"
                ):
                    continue
                if params.get("startedBy") and task.started_by != params["startedBy"]:
                    continue
                if params.get("family") and not task.task_definition_arn.split("/")[-1].startswith(
                    f"{params['family']}:"
                ):
                    continue
                arns.append(task.task_arn)
        return {"taskArns": arns}

    # =========================================================================== internals
    def _backend(self) -> Any:
        return self.emulator.backend("ecs")

    def _naive_now(self) -> datetime:
        return self.emulator.now().replace(tzinfo=None)

    def now(self) -> datetime:
        return self.emulator.now()

    def _require_service_linked_role(self, call: Call) -> None:
        iam = self.emulator.backend("iam")
        if any(role.name == SERVICE_LINKED_ROLE for role in iam.roles.values()):
            return
        # The failed call creates the role as the caller (iam:CreateServiceLinkedRole is
        # what ECS calls on the caller's behalf), so the next attempt succeeds.
        internal.client(self.emulator, "iam", call.principal).create_service_linked_role(
            AWSServiceName="ecs.amazonaws.com"
        )
        raise ServiceError("InvalidParameterException", SLR_MESSAGE)

    def _slr_arn(self) -> str:
        return (
            f"arn:aws:iam::{self.account_id}:role/aws-service-role/ecs.amazonaws.com/"
            f"{SERVICE_LINKED_ROLE}"
        )

    def _external(self, params: Params) -> Any:
        svc = self.get_service(str(params.get("cluster", "default")), str(params["service"]))
        if svc.deployment_controller.get("type", "ECS") != "EXTERNAL":
            raise ServiceError("InvalidParameterException", TASK_SET_MESSAGE)
        return svc

    def _new_task_set(
        self,
        svc: Any,
        task_definition: str,
        *,
        load_balancers: list[dict[str, Any]],
        scale: float,
        network_configuration: dict[str, Any] | None,
        platform_version: str | None,
        launch_type: str | None,
        external_id: str | None,
        started_by: str | None,
    ) -> Any:
        backend = self._backend()
        with moto_errors():
            definition = backend.describe_task_definition(task_definition)
        self._task_sets_made += 1
        digest = hashlib.sha256(f"{svc.arn}/{self._task_sets_made}".encode()).hexdigest()
        found: Any = TaskSet(
            svc.name,
            svc.cluster_name,
            definition.arn,
            self.account_id,
            self.region,
            external_id=external_id,
            network_configuration=network_configuration,
            load_balancers=load_balancers,
            launch_type=launch_type,
            platform_version=platform_version,
            scale={"value": float(scale), "unit": "PERCENT"},
        )
        # ECS task set ids look like ecs-svc/9223370493425779968 (ECS tutorial output).
        found.id = f"ecs-svc/{9223370000000000000 + int(digest[:12], 16) % 10**12}"
        found.task_set_arn = (
            f"arn:aws:ecs:{self.region}:{self.account_id}:task-set/{svc.cluster_name}/"
            f"{svc.name}/{found.id}"
        )
        found.service_arn = svc.arn
        found.cluster_arn = svc.cluster_arn
        found.task_definition = definition.arn
        found.started_by = started_by
        found.external_id = external_id  # moto would show "" for none
        found.computed_desired_count = 0
        found.running_count = 0
        found.pending_count = 0
        found.stabilityStatus = "STABILIZING"
        found.platform_family = "LINUX" if (launch_type or "FARGATE") == "FARGATE" else None
        svc.task_sets.append(found)
        self._refresh(svc)
        return found

    # -- the scheduler ------------------------------------------------------------------------
    def _refresh(self, svc: Any) -> None:
        """Recompute desired counts, reconcile every task set, sync the counters."""
        for found in list(svc.task_sets):
            value = float((found.scale or {}).get("value", 100.0))
            desired = 0
            if svc.status == "ACTIVE" and found.status != "DRAINING":
                desired = math.ceil(int(svc.desired_count or 0) * value / 100.0)
            found.computed_desired_count = desired
            self._reconcile(svc, found)
        self._finish_draining(svc)
        self._sync(svc)

    def _reconcile(self, svc: Any, found: Any) -> None:
        desired = int(found.computed_desired_count)
        live = [
            t
            for t in self._tasks.values()
            if t.task_set_id == found.id and t.service == svc.name and t.desired_status == "RUNNING"
        ]
        if len(live) > desired:
            for task in sorted(live, key=lambda t: t.created_at, reverse=True)[
                : len(live) - desired
            ]:
                task.stop(
                    "ServiceSchedulerInitiated",
                    f"Scaling activity initiated by (deployment {found.id})",
                )
            return
        if len(live) < desired and found.task_set_arn not in self._retrying:
            for _ in range(desired - len(live)):
                self._start_task(svc, found)

    def _start_task(self, svc: Any, found: Any) -> EmulatedTask:
        backend = self._backend()
        cluster = backend._get_cluster(svc.cluster_name)
        definition = backend.describe_task_definition(found.task_definition)
        network = (found.network_configuration or {}).get("awsvpcConfiguration") or {}
        subnets = list(network.get("subnets") or [])
        if not subnets:
            raise ServiceError(
                "InvalidParameterException",
                "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
            )
        self._prune_stopped()
        self._tasks_started += 1
        index = sum(1 for t in self._tasks.values() if t.task_set_id == found.id)
        subnet_id = subnets[index % len(subnets)]
        ec2 = self.emulator.backend("ec2")
        subnet = ec2.get_subnet(subnet_id)
        ip = self._allocate_ip(ec2, subnet)
        eni = ec2.create_network_interface(
            subnet=subnet_id,
            private_ip_address=ip,
            group_ids=list(network.get("securityGroups") or []),
            description=f"arn:aws:ecs:{self.region}:{self.account_id}:attachment/"
            + hashlib.sha256(f"eni/{ip}/{self._tasks_started}".encode()).hexdigest()[:32],
        )
        eni.status = "in-use"
        identifier = task_id(self.account_id, self.region, cluster.name, str(self._tasks_started))
        task = EmulatedTask(
            backend=backend,
            cluster=cluster,
            task_definition=definition,
            task_id=identifier,
            ip=ip,
            subnet_id=subnet_id,
            availability_zone=str(subnet.availability_zone),
            eni_id=eni.id,
            security_groups=list(network.get("securityGroups") or []),
            started_by=found.started_by or found.id,
            group=f"service:{svc.name}",
            launch_type=found.launch_type or "FARGATE",
            platform_version=None if found.platform_version == "LATEST" else found.platform_version,
            created_at=self.emulator.now(),
            service=svc.name,
            task_set_id=found.id,
            assign_public_ip=str(network.get("assignPublicIp", "DISABLED")).upper() == "ENABLED",
        )
        backend.tasks.setdefault(cluster.name, {})[task.task_arn] = task
        self._tasks[task.task_arn] = task
        self._by_ip[ip] = task
        self._event(
            svc,
            f"(service {svc.name}, taskSet {found.id}) has started 1 tasks: (task {identifier}).",
        )
        self.emulator.clock.spawn(f"ecs task {identifier}", lifecycle(self, task))
        return task

    def _allocate_ip(self, ec2: Any, subnet: Any) -> str:
        network = ipaddress.ip_network(subnet.cidr_block)
        used = set(self._used_ips)
        for eni in getattr(ec2, "enis", {}).values():
            used.add(str(getattr(eni, "private_ip_address", "")))
        # AWS reserves the first four addresses and the last one of every subnet
        # (VPC user guide, "Subnet CIDR blocks"); start a little above them.
        for offset in range(10, network.num_addresses - 1):
            candidate = str(network.network_address + offset)
            if candidate not in used:
                self._used_ips.add(candidate)
                return candidate
        raise ServiceError(
            "InvalidParameterException", f"The subnet {subnet.id} has no free IP addresses."
        )

    def _prune_stopped(self) -> None:
        horizon = self.emulator.clock.seconds - timing.STOPPED_TASK_RETENTION
        start = self.emulator.clock.start
        backend = self._backend()
        for arn, task in list(self._tasks.items()):
            stopped_at = task.stopped_at
            if stopped_at is not None and (stopped_at - start).total_seconds() < horizon:
                del self._tasks[arn]
                backend.tasks.get(task.cluster_name, {}).pop(arn, None)

    # -- the task lifecycle's host (bluegreen.emulator.tasks.Host) --------------------------------
    def pull_error(self, task: EmulatedTask) -> str | None:
        """CannotPullContainerError for an ECR image of this account that is not there."""
        from botocore.exceptions import ClientError

        unreachable = hook(self.runner, "pull_error", task)  # no network path to the registry
        if unreachable:
            return str(unreachable)

        principal = str(getattr(task.task_definition, "execution_role_arn", "") or self._slr_arn())
        for container in task.containers:
            match = _ECR_IMAGE.match(container.image)
            if (
                match is None
                or match["account"] != self.account_id
                or match["region"] != self.region
            ):
                continue
            image_id: dict[str, str] = {}
            if match["digest"]:
                image_id["imageDigest"] = match["digest"]
            else:
                image_id["imageTag"] = match["tag"] or "latest"
            ecr = internal.client(self.emulator, "ecr", principal)
            try:
                found = ecr.batch_get_image(repositoryName=match["repository"], imageIds=[image_id])
                missing = not found.get("images")
            except ClientError:
                missing = True
            if missing:
                # ECS stopped-task errors, "CannotPullContainerError: pull image manifest
                # has been retried 5 time(s): failed to resolve ref" (the tag or repository
                # does not exist); the "<ref>: <ref>: not found" tail as reported for an
                # ECR tag that was never pushed.
                ref = container.image
                return (
                    "CannotPullContainerError: pull image manifest has been retried 5 time(s): "
                    f"failed to resolve ref {ref}: {ref}: not found"
                )
        return None

    def start_logging(self, task: EmulatedTask) -> str:
        """Set up the task's log routes and its app; the start error, or ''."""
        from bluegreen.emulator.services.logs import TaskLogging

        definition = task.task_definition
        logging = TaskLogging.for_task(self.emulator, task, definition)
        task.logging = logging
        router = next(
            (c for c in definition.container_definitions if c.get("firelensConfiguration")), None
        )
        unreachable = hook(self.runner, "logs_error", task)  # no path to CloudWatch Logs
        if unreachable:
            return str(unreachable)
        if router is not None:
            stamp = self.emulator.now()
            image = str(router.get("image", ""))
            error = logging.open_awslogs()
            if error:
                return error
            if "aws-for-fluent-bit" in image:
                version = image.rsplit(":", 1)[-1] if ":" in image.rsplit("/", 1)[-1] else "latest"
                logging.router_line(f"AWS for Fluent Bit Container Image Version {version}", stamp)
            options = dict(router["firelensConfiguration"].get("options") or {})
            problem = logging.load_router_config(self.emulator.images.get(image), options)
            fluent = stamp.strftime("%Y/%m/%d %H:%M:%S")
            if problem:
                logging.router_line(f"[{fluent}] [error] [config] {problem}", stamp)
                return "Essential container in task exited"
            # Typical Fluent Bit start-up lines (forward inputs FireLens generates).
            for text in (
                f"[{fluent}] [ info] [engine] started (pid=1)",
                f"[{fluent}] [ info] [input:forward:forward.0] listening on unix:///var/run/fluent.sock",
                f"[{fluent}] [ info] [input:forward:forward.1] listening on 127.0.0.1:24224",
                f"[{fluent}] [ info] [sp] stream processor started",
            ):
                logging.router_line(text, stamp)
            for ignored in logging.config.ignored:
                logging.router_line(
                    f"[{fluent}] [ warn] [emulator] filter {ignored} is not emulated: records "
                    "pass it unchanged",
                    stamp,
                )
        else:
            error = logging.open_awslogs()
            if error:
                return error
        container, port = self._app_container(task)
        if container is not None:
            spec = next(c for c in definition.container_definitions if c["name"] == container)
            task.app = AppProcess(task, container, port, app_kind(spec), logging.line)
        return ""

    def _app_container(self, task: EmulatedTask) -> tuple[str | None, int]:
        found = self._task_set_of(task)
        for lb in (found.load_balancers if found is not None else []) or []:
            if lb.get("containerName"):
                return str(lb["containerName"]), int(lb.get("containerPort") or 80)
        for spec in task.task_definition.container_definitions:
            if spec.get("firelensConfiguration"):
                continue
            ports = spec.get("portMappings") or []
            if ports:
                return str(spec["name"]), int(ports[0].get("containerPort") or 80)
        return None, 0

    def _task_set_of(self, task: EmulatedTask) -> Any:
        svc = self._backend().services.get(f"{task.cluster_name}:{task.service}")
        if svc is None:
            return None
        return next((ts for ts in svc.task_sets if ts.id == task.task_set_id), None)

    def register_targets(self, task: EmulatedTask) -> None:
        from botocore.exceptions import ClientError

        found = self._task_set_of(task)
        if found is None:
            return
        elbv2 = internal.client(self.emulator, "elbv2", self._slr_arn())
        elb: Elbv2 = self.emulator.service("elbv2")
        svc = self._backend().services[f"{task.cluster_name}:{task.service}"]
        prober = self.runner.prober(task)
        for lb in found.load_balancers or []:
            arn = lb.get("targetGroupArn")
            if not arn:
                continue
            port = int(lb.get("containerPort") or 80)
            if prober is not None:
                elb.set_prober(arn, task.ip, port, prober)
            try:
                elbv2.register_targets(TargetGroupArn=arn, Targets=[{"Id": task.ip, "Port": port}])
            except ClientError:
                continue  # the target group is gone: the task runs, unregistered
            task.registered.append((arn, port))
            self._event(
                svc,
                f"(service {svc.name}, taskSet {found.id}) registered 1 targets in "
                f"(target-group {arn})",
            )

    def deregister_targets(self, task: EmulatedTask) -> None:
        from botocore.exceptions import ClientError

        if not task.registered:
            return
        elbv2 = internal.client(self.emulator, "elbv2", self._slr_arn())
        svc = self._backend().services.get(f"{task.cluster_name}:{task.service}")
        for arn, port in task.registered:
            # The group may be gone, or the target may have left it already.
            with contextlib.suppress(ClientError):
                elbv2.deregister_targets(
                    TargetGroupArn=arn, Targets=[{"Id": task.ip, "Port": port}]
                )
        if svc is not None:
            self._event(
                svc,
                f"(service {svc.name}, taskSet {task.task_set_id}) has begun "
                "draining connections on 1 tasks.",
            )

    def targets_drained(self, task: EmulatedTask) -> bool:
        elb: Elbv2 = self.emulator.service("elbv2")
        return all(elb.target(arn, task.ip, port) is None for arn, port in task.registered)

    def release_address(self, task: EmulatedTask) -> None:
        ec2 = self.emulator.backend("ec2")
        with contextlib.suppress(Exception):  # already gone with its subnet
            ec2.delete_network_interface(task.eni_id)
        self._used_ips.discard(task.ip)
        if self._by_ip.get(task.ip) is task:
            del self._by_ip[task.ip]

    def task_changed(self, task: EmulatedTask) -> None:
        svc = self._backend().services.get(f"{task.cluster_name}:{task.service}")
        if svc is None:
            return
        found = self._task_set_of(task)
        if task.status == "RUNNING" and found is not None:
            self._failures.pop(found.task_set_arn, None)
        if task.status == "STOPPED":
            self._event(
                svc,
                f"(service {svc.name}, taskSet {task.task_set_id}) has stopped 1 "
                f"running tasks: (task {task.task_id}).",
            )
            if (
                found is not None
                and not task.reached_running
                and task.stop_code == "TaskFailedToStart"
            ):
                self._throttle(svc, found)
        self._refresh(svc)

    def _refresh_for(self, task: EmulatedTask) -> None:
        svc = self._backend().services.get(f"{task.cluster_name}:{task.service}")
        if svc is not None:
            self._refresh(svc)

    def _throttle(self, svc: Any, found: Any) -> None:
        """Tasks that fail to start are retried ever more slowly ("Service throttle logic")."""
        failures = self._failures.get(found.task_set_arn, 0) + 1
        self._failures[found.task_set_arn] = failures
        delay = min(timing.SCHEDULER_RETRY * 2 ** (failures - 1), timing.SCHEDULER_RETRY_MAX)
        if failures == 3:
            self._event(
                svc, f"(service {svc.name}) is unable to consistently start tasks successfully."
            )
        arn = found.task_set_arn
        self._retrying.add(arn)

        def retry() -> Body:
            yield Wait(delay)
            self._retrying.discard(arn)
            current = self._backend().services.get(f"{svc.cluster_name}:{svc.name}")
            if current is not None:
                self._refresh(current)

        self.emulator.clock.spawn(f"ecs scheduler retry {found.id}", retry())

    def _finish_draining(self, svc: Any) -> None:
        live = {
            t.task_set_id
            for t in self._tasks.values()
            if t.service == svc.name and t.cluster_name == svc.cluster_name and not t.stopped
        }
        remaining = [ts for ts in svc.task_sets if ts.status != "DRAINING" or ts.id in live]
        if len(remaining) != len(svc.task_sets):
            svc.task_sets[:] = remaining
        if svc.status == "DRAINING" and not live:
            # "After all tasks have transitioned to either STOPPING or STOPPED status, the
            # service status moves from DRAINING to INACTIVE" (DeleteService API reference).
            svc.status = "INACTIVE"
            svc.task_sets[:] = []

    def _sync(self, svc: Any) -> None:
        """Counters and stability of every task set and of the service."""
        elb: Elbv2 = self.emulator.service("elbv2")
        running_total = pending_total = 0
        steady_all = True
        for found in svc.task_sets:
            tasks = [
                t
                for t in self._tasks.values()
                if t.task_set_id == found.id and t.service == svc.name and not t.stopped
            ]
            running = sum(1 for t in tasks if t.status == "RUNNING")
            pending = sum(
                1 for t in tasks if t.status in PRE_RUNNING and t.desired_status == "RUNNING"
            )
            found.running_count = running
            found.pending_count = pending
            running_total += running
            pending_total += pending
            healthy = all(
                (state := elb.target(arn, t.ip, port)) is None
                or state.state in ("healthy", "unused")
                for t in tasks
                for arn, port in t.registered
            )
            steady = (
                found.status != "DRAINING"
                and running == int(found.computed_desired_count)
                and pending == 0
                and len(tasks) == running
                and healthy
            )
            status = "STEADY_STATE" if steady else "STABILIZING"
            if getattr(found, "stabilityStatus", None) != status:
                found.stabilityStatus = status
                found.stabilityStatusAt = self._naive_now()
                if steady:
                    self._event(
                        svc,
                        f"(service {svc.name}, taskSet {found.id}) updated state to STEADY_STATE.",
                    )
            steady_all = steady_all and steady
        svc.running_count = running_total
        svc.pending_count = pending_total
        was = self._steady.get(svc.arn, False)
        now_steady = steady_all and svc.status == "ACTIVE" and bool(svc.task_sets)
        if now_steady and not was:
            self._event(svc, f"(service {svc.name}) has reached a steady state.")
        self._steady[svc.arn] = now_steady
        cluster = self._backend().clusters.get(svc.cluster_name)
        if cluster is not None:
            mine = [t for t in self._tasks.values() if t.cluster_name == cluster.name]
            cluster.running_tasks_count = sum(1 for t in mine if t.status == "RUNNING")
            cluster.pending_tasks_count = sum(1 for t in mine if t.status in PRE_RUNNING)

    def _event(self, svc: Any, message: str) -> None:
        """A service event, newest first, at most 100 (Service.events, API reference)."""
        self._events += 1
        digest = hashlib.sha256(f"event/{svc.arn}/{self._events}".encode()).hexdigest()
        event = {
            "id": f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}",
            "createdAt": self.emulator.now(),
            "message": message,
        }
        events = list(getattr(svc, "events", []) or [])
        svc.events = [event, *events][:100]

    # -- what the load balancer tells ECS ---------------------------------------------------------
    def _on_check(self, event: CheckEvent) -> None:
        task = self._by_ip.get(event.target.id)
        if task is None or task.app is None or task.status != "RUNNING":
            return
        if task.app.port != event.target.port:
            return
        path = event.target.health_check.path
        task.app.request(
            event.at, event.client_ip, event.client_port, "GET", path, event.result.status
        )

    def _on_target_state(self, state: TargetState, old: str) -> None:
        task = self._by_ip.get(state.id)
        if task is None or (state.group_arn, state.port) not in task.registered:
            return
        svc = self._backend().services.get(f"{task.cluster_name}:{task.service}")
        if svc is None:
            return
        if state.state == "unhealthy" and task.status == "RUNNING":
            self._unhealthy(svc, task, state)
        elif state.state == "healthy":
            found = self._task_set_of(task)
            if found is not None:
                self.health_failures.pop(found.task_set_arn, None)
        self._sync(svc)

    def _unhealthy(self, svc: Any, task: EmulatedTask, state: TargetState) -> None:
        grace = float(getattr(svc, "health_check_grace_period_seconds", None) or 0)
        started = task.started_at or self.emulator.now()
        left = grace - (self.emulator.now() - started).total_seconds()
        if left > 0:
            # ECS ignores unhealthy load balancer checks during the grace period
            # (Service.healthCheckGracePeriodSeconds); it looks again when it ends.
            def later() -> Body:
                yield Wait(left)
                if state.state == "unhealthy" and task.status == "RUNNING" and not state.gone:
                    self._unhealthy(svc, task, state)

            self.emulator.clock.spawn(f"ecs grace {task.task_id}", later())
            return
        # "Amazon ECS deregisters it and stops the task" (Service throttle logic); the
        # stopped reason names the target group.
        found = self._task_set_of(task)
        if found is not None:
            self.health_failures[found.task_set_arn] = (
                self.health_failures.get(found.task_set_arn, 0) + 1
            )
        task.stop(
            "ServiceSchedulerInitiated",
            f"Task failed ELB health checks in (target-group {state.group_arn})",
        )
        self._refresh(svc)


def _refuse_deployment_alarms(controller: str, params: Params) -> None:
    """Deployment alarms are for the ECS deployment controller only: "You can only use the
    DeploymentAlarms method to detect failures when the DeploymentController is set to
    ECS" (DeploymentAlarms, ECS API reference; kayac/ecspresso#708 drops them from
    CODE_DEPLOY services for that reason). ECS publishes no message text: the wording is
    the emulator's."""
    alarms = (params.get("deploymentConfiguration") or {}).get("alarms") or {}
    if controller != "ECS" and alarms.get("enable"):
        raise ServiceError(
            "InvalidParameterException",
            "deploymentConfiguration.alarms can only be used with the ECS deployment "
            f"controller; this service uses {controller}.",
        )
