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

from bluegreen.rehearse import fleet
from bluegreen.rehearse.resources.registry import (
    Context,
    Provisioned,
    Resource,
    camel,
    pick,
    provisioner,
    tag_arg,
    tags,
)


@provisioner(
    "AWS::ECS::Cluster",
    "ClusterName ClusterSettings CapacityProviders DefaultCapacityProviderStrategy Tags",
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
    if controller == "CODE_DEPLOY":
        # AWS gives a CODE_DEPLOY service its first task set itself; moto does not.
        cluster_name = args.get("cluster", "default")
        task_set = ecs.create_task_set(
            cluster=cluster_name,
            service=name,
            taskDefinition=args["taskDefinition"],
            scale={"value": 100.0, "unit": "PERCENT"},
            **pick(args, "launchType", "platformVersion", "loadBalancers", "networkConfiguration"),
        )["taskSet"]
        ecs.update_service_primary_task_set(
            cluster=cluster_name, service=name, primaryTaskSet=task_set["taskSetArn"]
        )
        fleet.register_targets(ctx.clients, cluster_name, task_set)
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


@provisioner("AWS::Logs::LogGroup", "LogGroupName RetentionInDays KmsKeyId Tags")
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
