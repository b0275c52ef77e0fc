"""Provisioners for the service: ECS cluster, task definition and service, IAM roles and
log groups.

The ECS service is where moto's CloudFormation fails a blue/green system (it drops the
deployment controller, Fargate settings and load balancers), so here it is created with
``ecs.create_service`` and then given what AWS creates implicitly for a service under
the CODE_DEPLOY controller: its first task set, PRIMARY, on the service's target group.
"""

from __future__ import annotations

import json
from typing import Any

from bluegreen.emulator.cloudformation.resources.registry import (
    Context,
    Existing,
    Provisioned,
    Resource,
    camel,
    deleter,
    deletion,
    pick,
    provisioner,
    readiness,
    tag_arg,
    tags,
    updater,
)


@provisioner(
    "AWS::ECS::Cluster",
    "ClusterName ClusterSettings CapacityProviders DefaultCapacityProviderStrategy Tags",
    name="ClusterName",
)
def cluster(ctx: Context, res: Resource) -> Provisioned:
    p = camel(res.properties)
    created = ctx.clients.ecs.create_cluster(
        clusterName=p.get("clusterName") or ctx.physical_name(res, 255),
        **pick(p, "capacityProviders", "defaultCapacityProviderStrategy"),
        **{"settings": p["clusterSettings"]} if "clusterSettings" in p else {},
        **tag_arg(res.properties, "tags", lower=True),
    )["cluster"]
    return Provisioned(created["clusterName"], {"Arn": created["clusterArn"]})


@provisioner(
    "AWS::ECS::TaskDefinition",
    "Family ContainerDefinitions Cpu Memory NetworkMode RequiresCompatibilities "
    "ExecutionRoleArn TaskRoleArn RuntimePlatform Volumes EphemeralStorage Tags",
)
def task_definition(ctx: Context, res: Resource) -> Provisioned:
    p = camel(res.properties)
    args = pick(
        p,
        "containerDefinitions",
        "networkMode",
        "requiresCompatibilities",
        "executionRoleArn",
        "taskRoleArn",
        "runtimePlatform",
        "volumes",
        "ephemeralStorage",
    )
    for key in ("cpu", "memory"):
        if key in p:
            args[key] = str(p[key])
    if "Tags" in res.properties:
        args["tags"] = tags(res.properties, lower=True)
    created = ctx.clients.ecs.register_task_definition(
        family=p.get("family") or ctx.physical_name(res, 255), **args
    )["taskDefinition"]
    arn = created["taskDefinitionArn"]
    return Provisioned(arn, {"TaskDefinitionArn": arn})


@provisioner(
    "AWS::ECS::Service",
    "Cluster ServiceName TaskDefinition DesiredCount LaunchType PlatformVersion "
    "DeploymentController LoadBalancers NetworkConfiguration HealthCheckGracePeriodSeconds "
    "PropagateTags EnableECSManagedTags SchedulingStrategy DeploymentConfiguration "
    "EnableExecuteCommand Tags",
    name="ServiceName",
)
def service(ctx: Context, res: Resource) -> Provisioned:
    ecs = ctx.clients.ecs
    p = camel(res.properties)
    args = pick(
        p,
        "cluster",
        "taskDefinition",
        "desiredCount",
        "launchType",
        "platformVersion",
        "deploymentController",
        "loadBalancers",
        "networkConfiguration",
        "healthCheckGracePeriodSeconds",
        "propagateTags",
        "enableECSManagedTags",
        "schedulingStrategy",
        "deploymentConfiguration",
        "enableExecuteCommand",
    )
    if "Tags" in res.properties:
        args["tags"] = tags(res.properties, lower=True)
    name = p.get("serviceName") or ctx.physical_name(res, 255)
    created = ecs.create_service(serviceName=name, **args)["service"]
    controller = created.get("deploymentController", {}).get("type", "ECS")
    wanted = p.get("deploymentController", {}).get("type", "ECS")
    if controller != wanted:
        raise res.fail(f"the emulator kept deployment controller {controller}, not {wanted}")
    # A CODE_DEPLOY service gets its first task set from ECS itself (the emulated ECS).
    return Provisioned(
        created["serviceArn"], {"Name": created["serviceName"], "ServiceArn": created["serviceArn"]}
    )


# --------------------------------------------------------------------------- IAM


def _document(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@provisioner(
    "AWS::IAM::Role",
    "RoleName AssumeRolePolicyDocument Description Path MaxSessionDuration "
    "PermissionsBoundary Policies ManagedPolicyArns Tags",
    name="RoleName",
)
def role(ctx: Context, res: Resource) -> Provisioned:
    iam = ctx.clients.iam
    p = res.properties
    name = p.get("RoleName") or ctx.physical_name(res, 64)
    created = iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=_document(p["AssumeRolePolicyDocument"]),
        **tag_arg(p),
        **pick(p, "Description", "Path", "MaxSessionDuration", "PermissionsBoundary"),
    )["Role"]
    for policy in p.get("Policies", []):
        iam.put_role_policy(
            RoleName=name,
            PolicyName=policy["PolicyName"],
            PolicyDocument=_document(policy["PolicyDocument"]),
        )
    for arn in p.get("ManagedPolicyArns", []):
        iam.attach_role_policy(RoleName=name, PolicyArn=arn)
    return Provisioned(name, {"Arn": created["Arn"], "RoleId": created["RoleId"]})


@provisioner("AWS::IAM::Policy", "PolicyName PolicyDocument Roles Users Groups")
def policy(ctx: Context, res: Resource) -> Provisioned:
    iam = ctx.clients.iam
    p = res.properties
    document = _document(p["PolicyDocument"])
    for name in p.get("Roles", []):
        iam.put_role_policy(RoleName=name, PolicyName=p["PolicyName"], PolicyDocument=document)
    for name in p.get("Users", []):
        iam.put_user_policy(UserName=name, PolicyName=p["PolicyName"], PolicyDocument=document)
    for name in p.get("Groups", []):
        iam.put_group_policy(GroupName=name, PolicyName=p["PolicyName"], PolicyDocument=document)
    return Provisioned(ctx.physical_name(res))


# --------------------------------------------------------------------------- Logs


@provisioner(
    "AWS::Logs::LogGroup", "LogGroupName RetentionInDays KmsKeyId Tags", name="LogGroupName"
)
def log_group(ctx: Context, res: Resource) -> Provisioned:
    logs = ctx.clients.logs
    p = res.properties
    name = p.get("LogGroupName") or ctx.physical_name(res, 512)
    logs.create_log_group(
        logGroupName=name,
        **{"kmsKeyId": p["KmsKeyId"]} if "KmsKeyId" in p else {},
        **{"tags": {t["Key"]: t["Value"] for t in tags(p)}} if "Tags" in p else {},
    )
    if "RetentionInDays" in p:
        logs.put_retention_policy(logGroupName=name, retentionInDays=int(p["RetentionInDays"]))
    return Provisioned(name, {"Arn": ctx.arn("logs", f"log-group:{name}:*")})


# --------------------------------------------------------------------------- updates and
# deletes (CloudFormation's handlers: what each property change calls, what delete calls)


@updater("AWS::ECS::Cluster")
def cluster_update(ctx: Context, res: Resource, old: Existing) -> Provisioned:
    p = camel(res.properties)
    if p.get("clusterSettings") != camel(old.properties).get("clusterSettings"):
        ctx.clients.ecs.update_cluster(cluster=old.ref, settings=p.get("clusterSettings", []))
    return Provisioned(old.ref, old.attrs)


@deleter("AWS::ECS::Cluster")
def cluster_delete(ctx: Context, old: Existing) -> None:
    ctx.clients.ecs.delete_cluster(cluster=old.ref)


@deleter("AWS::ECS::TaskDefinition")
def task_definition_delete(ctx: Context, old: Existing) -> None:
    # Every property is create-only: a change registers a new revision and the old one is
    # deregistered at cleanup (AWS::ECS::TaskDefinition, "Update requires: Replacement").
    ctx.clients.ecs.deregister_task_definition(taskDefinition=old.ref)


# What CloudFormation's AWS::ECS::Service handler sends to UpdateService. It "always fills
# in all parameters in the ECS UpdateService API call" (an AWS engineer in
# aws/aws-cdk#23564), which ECS refuses for a CODE_DEPLOY service when the task
# definition, load balancers, network configuration or platform version are among them.
_SERVICE_UPDATE = (
    "taskDefinition",
    "desiredCount",
    "deploymentConfiguration",
    "networkConfiguration",
    "platformVersion",
    "healthCheckGracePeriodSeconds",
    "enableExecuteCommand",
    "enableECSManagedTags",
    "propagateTags",
    "loadBalancers",
)


@updater("AWS::ECS::Service")
def service_update(ctx: Context, res: Resource, old: Existing) -> Provisioned:
    p = camel(res.properties)
    before = camel(old.properties)
    args = pick(p, *_SERVICE_UPDATE)
    if p.get("deploymentController") != before.get("deploymentController"):
        args["deploymentController"] = p.get("deploymentController", {"type": "ECS"})
    ctx.clients.ecs.update_service(
        cluster=p.get("cluster", "default"), service=old.attrs["Name"], **args
    )
    return Provisioned(old.ref, old.attrs)


@deleter("AWS::ECS::Service")
def service_delete(ctx: Context, old: Existing) -> None:
    cluster_name = old.properties.get("Cluster", "default")
    ctx.clients.ecs.delete_service(cluster=cluster_name, service=old.attrs["Name"], force=True)


@deletion("AWS::ECS::Service")
def service_gone(ctx: Context, old: Existing) -> bool:
    """CloudFormation's delete of a service completes once ECS reports it INACTIVE (its
    tasks drained and stopped); until then the cluster still holds an active service
    (DeleteCluster: ClusterContainsServicesException)."""
    cluster_name = old.properties.get("Cluster", "default")
    found = ctx.clients.ecs.describe_services(cluster=cluster_name, services=[old.attrs["Name"]])
    return all(s.get("status") == "INACTIVE" for s in found["services"])


@readiness("AWS::ECS::Service")
def service_stable(ctx: Context, old: Existing) -> bool:
    """CloudFormation waits for the service to be stable: every task it wants running
    (for a CODE_DEPLOY service: its PRIMARY task set's)."""
    cluster_name = old.properties.get("Cluster", "default")
    found = ctx.clients.ecs.describe_services(cluster=cluster_name, services=[old.attrs["Name"]])
    if not found["services"]:
        return False
    service = found["services"][0]
    strategy = (service.get("deploymentConfiguration") or {}).get("strategy", "")
    if (service.get("deploymentController") or {}).get("type", "ECS") == "ECS" and strategy in (
        "BLUE_GREEN",
        "LINEAR",
        "CANARY",
    ):
        return _first_deployment_succeeded(ctx, cluster_name, str(old.attrs["Name"]))
    for task_set in service.get("taskSets", []):
        if task_set.get("status") == "PRIMARY":
            wanted = int(task_set.get("computedDesiredCount", 0))
            return task_set.get("stabilityStatus") == "STEADY_STATE" and (
                int(task_set.get("runningCount", wanted)) >= wanted
            )
    return int(service.get("runningCount", 0)) >= int(service.get("desiredCount", 0))


def _first_deployment_succeeded(ctx: Context, cluster: str, service: str) -> bool:
    """A built-in blue/green service is stable once its first service deployment (its
    creation) is SUCCESSFUL: CloudFormation's operation waits for the deployment and its
    lifecycle hooks ("Additional backend processes (such as task scaling and running
    lifecycle hooks) can extend deployment time" toward CloudFormation's 36-hour
    operation limit: AWS::ECS::Service CanaryConfiguration, CloudFormation template
    reference; Terraform's provider likewise "Ensures lifecycle hooks complete during
    creation", hashicorp/terraform-provider-aws#43434). So a PAUSE hook holds the
    stack's create until someone continues it (``bluegreen deploy`` does: DeploymentEngine
    .continue_creation), and a creation that rolls back never stabilizes. Whether AWS
    waits for a PAUSE hook on creation is not documented in so many words: the emulator
    takes the stricter reading, and deploy is safe under both."""
    ecs = ctx.clients.ecs
    listed = ecs.list_service_deployments(cluster=cluster, service=service)["serviceDeployments"]
    if not listed:
        return False
    first = min(listed, key=lambda d: d["createdAt"])
    return bool(first.get("status") == "SUCCESSFUL")


def _policies(props: dict[str, Any]) -> dict[str, str]:
    return {p["PolicyName"]: _document(p["PolicyDocument"]) for p in props.get("Policies", [])}


@updater("AWS::IAM::Role")
def role_update(ctx: Context, res: Resource, old: Existing) -> Provisioned:
    iam = ctx.clients.iam
    p, before = res.properties, old.properties
    name = old.ref
    if p["AssumeRolePolicyDocument"] != before.get("AssumeRolePolicyDocument"):
        iam.update_assume_role_policy(
            RoleName=name, PolicyDocument=_document(p["AssumeRolePolicyDocument"])
        )
    if p.get("Description") != before.get("Description") or p.get(
        "MaxSessionDuration"
    ) != before.get("MaxSessionDuration"):
        iam.update_role(RoleName=name, **pick(p, "Description", "MaxSessionDuration"))
    new_policies, old_policies = _policies(p), _policies(before)
    for policy_name, document in new_policies.items():
        if old_policies.get(policy_name) != document:
            iam.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=document)
    for policy_name in old_policies.keys() - new_policies.keys():
        iam.delete_role_policy(RoleName=name, PolicyName=policy_name)
    new_managed = set(p.get("ManagedPolicyArns", []))
    old_managed = set(before.get("ManagedPolicyArns", []))
    for arn in sorted(new_managed - old_managed):
        iam.attach_role_policy(RoleName=name, PolicyArn=arn)
    for arn in sorted(old_managed - new_managed):
        iam.detach_role_policy(RoleName=name, PolicyArn=arn)
    return Provisioned(old.ref, old.attrs)


@deleter("AWS::IAM::Role")
def role_delete(ctx: Context, old: Existing) -> None:
    iam = ctx.clients.iam
    for policy_name in _policies(old.properties):
        iam.delete_role_policy(RoleName=old.ref, PolicyName=policy_name)
    for arn in old.properties.get("ManagedPolicyArns", []):
        iam.detach_role_policy(RoleName=old.ref, PolicyArn=arn)
    iam.delete_role(RoleName=old.ref)


@updater("AWS::IAM::Policy")
def policy_update(ctx: Context, res: Resource, old: Existing) -> Provisioned:
    policy_delete(ctx, old)
    return policy(ctx, res)


@deleter("AWS::IAM::Policy")
def policy_delete(ctx: Context, old: Existing) -> None:
    iam = ctx.clients.iam
    p = old.properties
    for name in p.get("Roles", []):
        iam.delete_role_policy(RoleName=name, PolicyName=p["PolicyName"])
    for name in p.get("Users", []):
        iam.delete_user_policy(UserName=name, PolicyName=p["PolicyName"])
    for name in p.get("Groups", []):
        iam.delete_group_policy(GroupName=name, PolicyName=p["PolicyName"])


@updater("AWS::Logs::LogGroup")
def log_group_update(ctx: Context, res: Resource, old: Existing) -> Provisioned:
    logs = ctx.clients.logs
    days = res.properties.get("RetentionInDays")
    if days != old.properties.get("RetentionInDays"):
        if days is None:
            logs.delete_retention_policy(logGroupName=old.ref)
        else:
            logs.put_retention_policy(logGroupName=old.ref, retentionInDays=int(days))
    return Provisioned(old.ref, old.attrs)


@deleter("AWS::Logs::LogGroup")
def log_group_delete(ctx: Context, old: Existing) -> None:
    ctx.clients.logs.delete_log_group(logGroupName=old.ref)
