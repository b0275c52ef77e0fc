"""Provisioners for the delivery side: repositories (CodeCommit, ECR), the artifact
bucket (S3), builds (CodeBuild), deployments (CodeDeploy), the pipeline (CodePipeline)
and its trigger (EventBridge).

moto only *records* CodeCommit, CodeBuild, CodeDeploy and CodePipeline resources; they are
still created through their APIs so that botocore validates them and the rehearsal reads
their settings back (build environment, deployment group, pipeline stages) instead of
trusting the template a second time. Where AWS cross-checks a resource at creation and
moto does not (a deployment group's service, target groups and listeners), the check is
made here, so a broken reference fails the rehearsal as it would fail the stack.
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
    pick,
    provisioner,
    tag_arg,
    tags,
    updater,
)


@provisioner(
    "AWS::ECR::Repository",
    "RepositoryName ImageTagMutability ImageScanningConfiguration EncryptionConfiguration "
    "LifecyclePolicy RepositoryPolicyText EmptyOnDelete Tags",
    name="RepositoryName",
)
def ecr_repository(ctx: Context, res: Resource) -> Provisioned:
    ecr = ctx.clients.ecr
    p = res.properties
    c = camel(p)
    name = p.get("RepositoryName") or ctx.physical_name(res, 256, lower=True)
    created = ecr.create_repository(
        repositoryName=name,
        **tag_arg(p, "tags"),
        **pick(c, "imageTagMutability", "imageScanningConfiguration", "encryptionConfiguration"),
    )["repository"]
    lifecycle = p.get("LifecyclePolicy", {})
    if "LifecyclePolicyText" in lifecycle:
        ecr.put_lifecycle_policy(
            repositoryName=name, lifecyclePolicyText=lifecycle["LifecyclePolicyText"]
        )
    if "RepositoryPolicyText" in p:
        text = p["RepositoryPolicyText"]
        ecr.set_repository_policy(
            repositoryName=name, policyText=text if isinstance(text, str) else json.dumps(text)
        )
    return Provisioned(
        name, {"Arn": created["repositoryArn"], "RepositoryUri": created["repositoryUri"]}
    )


@provisioner(
    "AWS::CodeCommit::Repository",
    "RepositoryName RepositoryDescription Tags",
    name="RepositoryName",
)
def codecommit_repository(ctx: Context, res: Resource) -> Provisioned:
    p = res.properties
    created = ctx.clients.codecommit.create_repository(
        repositoryName=p["RepositoryName"],
        **{"repositoryDescription": p["RepositoryDescription"]}
        if "RepositoryDescription" in p
        else {},
        **{"tags": {t["Key"]: t["Value"] for t in tags(p)}} if "Tags" in p else {},
    )["repositoryMetadata"]
    return Provisioned(
        created["repositoryId"],
        {
            "Arn": created["Arn"],
            "Name": created["repositoryName"],
            "CloneUrlHttp": created["cloneUrlHttp"],
            "CloneUrlSsh": created["cloneUrlSsh"],
        },
    )


# --------------------------------------------------------------------------- S3


@provisioner(
    "AWS::S3::Bucket",
    "BucketName BucketEncryption VersioningConfiguration PublicAccessBlockConfiguration "
    "OwnershipControls LifecycleConfiguration Tags",
    name="BucketName",
)
def bucket(ctx: Context, res: Resource) -> Provisioned:
    s3 = ctx.clients.s3
    p = res.properties
    name = p.get("BucketName") or ctx.physical_name(res, 63, lower=True)
    location = {}
    if ctx.region != "us-east-1":
        location = {"CreateBucketConfiguration": {"LocationConstraint": ctx.region}}
    s3.create_bucket(Bucket=name, **location)
    _bucket_settings(s3, name, p, {})
    return Provisioned(
        name,
        {
            "Arn": f"arn:aws:s3:::{name}",
            "DomainName": f"{name}.s3.amazonaws.com",
            "RegionalDomainName": f"{name}.s3.{ctx.region}.amazonaws.com",
        },
    )


def _bucket_settings(s3: Any, name: str, p: dict[str, Any], old: dict[str, Any]) -> None:
    """Apply the bucket's settings that differ from ``old`` (all of them on create)."""

    def changed(key: str) -> bool:
        return key in p and p.get(key) != old.get(key)

    if changed("BucketEncryption"):
        rules = [
            {
                "ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
                **pick(rule, "BucketKeyEnabled"),
            }
            for rule in p["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        ]
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
    if changed("VersioningConfiguration"):
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration=p["VersioningConfiguration"])
    if changed("PublicAccessBlockConfiguration"):
        s3.put_public_access_block(
            Bucket=name, PublicAccessBlockConfiguration=p["PublicAccessBlockConfiguration"]
        )
    if changed("OwnershipControls"):
        s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=p["OwnershipControls"])
    if changed("LifecycleConfiguration"):
        s3.put_bucket_lifecycle_configuration(
            Bucket=name,
            LifecycleConfiguration={
                "Rules": [_lifecycle_rule(r) for r in p["LifecycleConfiguration"]["Rules"]]
            },
        )
    if changed("Tags"):
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tags(p)})


_LIFECYCLE_PLAYED = frozenset(
    {
        "Id",
        "Status",
        "Prefix",
        "ExpirationInDays",
        "ExpiredObjectDeleteMarker",
        "NoncurrentVersionExpiration",
        "AbortIncompleteMultipartUpload",
    }
)


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation lifecycle Rule as the PutBucketLifecycleConfiguration API takes it
    (the API nests Days/ExpiredObjectDeleteMarker under Expiration and wants a Filter)."""
    unknown = sorted(set(rule) - _LIFECYCLE_PLAYED)
    if unknown:
        raise ValueError(f"lifecycle rule properties the rehearsal does not play: {unknown}")
    api: dict[str, Any] = {"Status": rule["Status"], "Filter": {"Prefix": rule.get("Prefix", "")}}
    if "Id" in rule:
        api["ID"] = rule["Id"]
    expiration: dict[str, Any] = {}
    if "ExpirationInDays" in rule:
        expiration["Days"] = int(rule["ExpirationInDays"])
    if "ExpiredObjectDeleteMarker" in rule:
        expiration["ExpiredObjectDeleteMarker"] = bool(rule["ExpiredObjectDeleteMarker"])
    if expiration:
        api["Expiration"] = expiration
    if "NoncurrentVersionExpiration" in rule:
        api["NoncurrentVersionExpiration"] = {
            key: int(value) for key, value in rule["NoncurrentVersionExpiration"].items()
        }
    if "AbortIncompleteMultipartUpload" in rule:
        days = rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]
        api["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": int(days)}
    return api


@provisioner("AWS::S3::BucketPolicy", "Bucket PolicyDocument")
def bucket_policy(ctx: Context, res: Resource) -> Provisioned:
    p = res.properties
    ctx.clients.s3.put_bucket_policy(Bucket=p["Bucket"], Policy=json.dumps(p["PolicyDocument"]))
    return Provisioned(p["Bucket"])


# --------------------------------------------------------------------------- CodeBuild


@provisioner(
    "AWS::CodeBuild::Project",
    "Name Description Source Artifacts Environment ServiceRole TimeoutInMinutes "
    "QueuedTimeoutInMinutes LogsConfig Cache EncryptionKey ConcurrentBuildLimit Tags",
    name="Name",
)
def build_project(ctx: Context, res: Resource) -> Provisioned:
    p = camel(res.properties)
    source = dict(p["source"])
    if "buildSpec" in source:  # CloudFormation's BuildSpec is the API's "buildspec"
        source["buildspec"] = source.pop("buildSpec")
    artifacts = dict(p.get("artifacts", {}))
    # moto insists on a location even for CODEPIPELINE sources and artifacts, which AWS
    # ignores for that type (the pipeline supplies them): give it one.
    for part in (source, artifacts):
        if part.get("type") == "CODEPIPELINE":
            part.setdefault("location", "CODEPIPELINE")
    name = p.get("name") or ctx.physical_name(res, 150)
    created = ctx.clients.codebuild.create_project(
        name=name,
        source=source,
        artifacts=artifacts,
        **tag_arg(res.properties, "tags", lower=True),
        **pick(
            p,
            "description",
            "environment",
            "serviceRole",
            "timeoutInMinutes",
            "queuedTimeoutInMinutes",
            "logsConfig",
            "cache",
            "encryptionKey",
            "concurrentBuildLimit",
        ),
    )["project"]
    return Provisioned(name, {"Arn": created["arn"]})


# --------------------------------------------------------------------------- CodeDeploy


@provisioner(
    "AWS::CodeDeploy::Application", "ApplicationName ComputePlatform Tags", name="ApplicationName"
)
def codedeploy_application(ctx: Context, res: Resource) -> Provisioned:
    p = res.properties
    name = p.get("ApplicationName") or ctx.physical_name(res, 100)
    ctx.clients.codedeploy.create_application(
        applicationName=name, **tag_arg(p, "tags"), **pick(camel(p), "computePlatform")
    )
    return Provisioned(name)


@provisioner(
    "AWS::CodeDeploy::DeploymentConfig",
    "DeploymentConfigName ComputePlatform TrafficRoutingConfig",
)
def deployment_config(ctx: Context, res: Resource) -> Provisioned:
    p = camel(res.properties)
    name = p.get("deploymentConfigName") or ctx.physical_name(res, 100)
    ctx.clients.codedeploy.create_deployment_config(
        deploymentConfigName=name, **pick(p, "computePlatform", "trafficRoutingConfig")
    )
    return Provisioned(name)


@provisioner(
    "AWS::CodeDeploy::DeploymentGroup",
    "ApplicationName DeploymentGroupName ServiceRoleArn DeploymentConfigName DeploymentStyle "
    "BlueGreenDeploymentConfiguration LoadBalancerInfo ECSServices AutoRollbackConfiguration "
    "AlarmConfiguration Tags",
    name="DeploymentGroupName",
)
def deployment_group(ctx: Context, res: Resource) -> Provisioned:
    p = camel(res.properties)
    _check_ecs_references(ctx, res, p)
    name = p.get("deploymentGroupName") or ctx.physical_name(res, 100)
    ctx.clients.codedeploy.create_deployment_group(
        applicationName=p["applicationName"],
        deploymentGroupName=name,
        serviceRoleArn=p["serviceRoleArn"],
        **tag_arg(res.properties, "tags"),
        **pick(
            p,
            "deploymentConfigName",
            "deploymentStyle",
            "blueGreenDeploymentConfiguration",
            "loadBalancerInfo",
            "ecsServices",
            "autoRollbackConfiguration",
            "alarmConfiguration",
        ),
    )
    return Provisioned(name)


def _check_ecs_references(ctx: Context, res: Resource, p: dict[str, Any]) -> None:
    """What CodeDeploy verifies when an ECS deployment group is created (moto doesn't)."""
    for entry in p.get("ecsServices", []):
        found = ctx.clients.ecs.describe_services(
            cluster=entry["clusterName"], services=[entry["serviceName"]]
        )["services"]
        if not found:
            raise res.fail(
                f"ECS service {entry['serviceName']} in cluster {entry['clusterName']} "
                "does not exist"
            )
        controller = found[0].get("deploymentController", {}).get("type", "ECS")
        if controller != "CODE_DEPLOY":
            raise res.fail(
                f"ECS service {entry['serviceName']} has deployment controller {controller}; "
                "CodeDeploy blue/green needs CODE_DEPLOY"
            )
    for pair in p.get("loadBalancerInfo", {}).get("targetGroupPairInfoList", []):
        groups = [group["name"] for group in pair.get("targetGroups", [])]
        if len(groups) != 2:
            raise res.fail(f"an ECS blue/green target group pair needs 2 groups, not {groups}")
        ctx.clients.elbv2.describe_target_groups(Names=groups)
        for route in ("prodTrafficRoute", "testTrafficRoute"):
            arns = pair.get(route, {}).get("listenerArns", [])
            if arns:
                ctx.clients.elbv2.describe_listeners(ListenerArns=arns)


# --------------------------------------------------------------------------- CodePipeline


@provisioner(
    "AWS::CodePipeline::Pipeline",
    "Name RoleArn ArtifactStore ArtifactStores Stages PipelineType ExecutionMode Variables "
    "Triggers Tags DisableInboundStageTransitions",
    {"RestartExecutionOnUpdate": "a CloudFormation-only switch, no pipeline setting"},
    name="Name",
)
def pipeline(ctx: Context, res: Resource) -> Provisioned:
    name = str(res.properties.get("Name") or ctx.physical_name(res, 100))
    body = _pipeline_body(ctx, res, name)
    created = ctx.clients.codepipeline.create_pipeline(
        pipeline=body, **tag_arg(res.properties, "tags", lower=True)
    )["pipeline"]
    _disable_transitions(ctx, res, name)
    return Provisioned(name, {"Version": str(created.get("version", 1))})


def _disable_transitions(ctx: Context, res: Resource, name: str) -> None:
    """DisableInboundStageTransitions: "Represents the input of a DisableStageTransition
    action" (AWS::CodePipeline::Pipeline, CloudFormation template reference): each listed
    stage's inbound transition is disabled, with its reason, right after the pipeline is
    created or updated (before its first execution leaves its source stage)."""
    for transition in res.properties.get("DisableInboundStageTransitions") or []:
        ctx.clients.codepipeline.disable_stage_transition(
            pipelineName=name,
            stageName=str(transition["StageName"]),
            transitionType="Inbound",
            reason=str(transition["Reason"]),
        )


def _pipeline_body(ctx: Context, res: Resource, name: str) -> dict[str, Any]:
    p = camel(res.properties)
    body = {
        "name": name,
        **pick(
            p,
            "roleArn",
            "artifactStore",
            "artifactStores",
            "stages",
            "pipelineType",
            "executionMode",
            "variables",
            "triggers",
        ),
    }
    for stage in body.get("stages", []):
        for action in stage.get("actions", []):
            # The API takes every configuration value as a string.
            action["configuration"] = {
                key: value if isinstance(value, str) else json.dumps(value)
                for key, value in action.get("configuration", {}).items()
            }
    if "roleArn" in body:
        _trust_for_moto(ctx, res, body["roleArn"], "codepipeline.amazonaws.com")
    return body


def _trust_for_moto(ctx: Context, res: Resource, role_arn: str, service: str) -> None:
    """Check that the role trusts ``service`` and write its trust policy in the form moto
    understands.

    moto's create_pipeline only sees a service principal written as a string, while AWS
    (and the templates) may write it as a list. The role's trust is checked here, and a
    one-element list is rewritten as the equivalent string in the emulator.
    """
    from urllib.parse import unquote

    iam = ctx.clients.iam
    name = role_arn.rsplit("/", 1)[-1]
    document = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]
    if isinstance(document, str):
        document = json.loads(unquote(document))
    trusted = False
    for statement in document.get("Statement", []):
        principal = statement.get("Principal", {})
        services = principal.get("Service", []) if isinstance(principal, dict) else []
        services = [services] if isinstance(services, str) else services
        if statement.get("Effect") == "Allow" and service in services:
            trusted = True
            if len(services) == 1:
                principal["Service"] = services[0]
    if not trusted:
        raise res.fail(f"role {name} does not trust {service} (AssumeRolePolicyDocument)")
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(document))


# --------------------------------------------------------------------------- EventBridge


@provisioner(
    "AWS::Events::Rule",
    "Name Description EventPattern ScheduleExpression State RoleArn EventBusName Targets",
    name="Name",
)
def rule(ctx: Context, res: Resource) -> Provisioned:
    events = ctx.clients.events
    p = res.properties
    name = p.get("Name") or ctx.physical_name(res, 64)
    args = pick(p, "Description", "ScheduleExpression", "State", "RoleArn", "EventBusName")
    if "EventPattern" in p:
        pattern = p["EventPattern"]
        args["EventPattern"] = pattern if isinstance(pattern, str) else json.dumps(pattern)
    created = events.put_rule(Name=name, **args)
    if p.get("Targets"):
        events.put_targets(Rule=name, Targets=p["Targets"], **pick(p, "EventBusName"))
    return Provisioned(name, {"Arn": created["RuleArn"]})


# --------------------------------------------------------------------------- updates and
# deletes (CloudFormation's handlers: what each property change calls, what delete calls)


@updater("AWS::ECR::Repository")
def ecr_repository_update(ctx: Context, res: Resource, old: Existing) -> Provisioned:
    ecr = ctx.clients.ecr
    p, before = res.properties, old.properties
    if p.get("ImageTagMutability") != before.get("ImageTagMutability"):
        ecr.put_image_tag_mutability(
            repositoryName=old.ref, imageTagMutability=p.get("ImageTagMutability", "MUTABLE")
        )
    if p.get("ImageScanningConfiguration") != before.get("ImageScanningConfiguration"):
        ecr.put_image_scanning_configuration(
            repositoryName=old.ref,
            imageScanningConfiguration=camel(p.get("ImageScanningConfiguration", {})),
        )
    lifecycle = p.get("LifecyclePolicy", {})
    if lifecycle != before.get("LifecyclePolicy", {}) and "LifecyclePolicyText" in lifecycle:
        ecr.put_lifecycle_policy(
            repositoryName=old.ref, lifecyclePolicyText=lifecycle["LifecyclePolicyText"]
        )
    return Provisioned(old.ref, old.attrs)


@deleter("AWS::ECR::Repository")
def ecr_repository_delete(ctx: Context, old: Existing) -> None:
    # EmptyOnDelete: CloudFormation deletes the images first; without it a repository that
    # holds images cannot be deleted (RepositoryNotEmptyException).
    ctx.clients.ecr.delete_repository(
        repositoryName=old.ref, force=bool(old.properties.get("EmptyOnDelete", False))
    )


@updater("AWS::CodeCommit::Repository")
def codecommit_repository_update(ctx: Context, res: Resource, old: Existing) -> Provisioned:
    description = res.properties.get("RepositoryDescription", "")
    if description != old.properties.get("RepositoryDescription", ""):
        ctx.clients.codecommit.update_repository_description(
            repositoryName=old.attrs["Name"], repositoryDescription=description
        )
    return Provisioned(old.ref, old.attrs)


@deleter("AWS::CodeCommit::Repository")
def codecommit_repository_delete(ctx: Context, old: Existing) -> None:
    ctx.clients.codecommit.delete_repository(repositoryName=old.attrs["Name"])


@updater("AWS::S3::Bucket")
def bucket_update(ctx: Context, res: Resource, old: Existing) -> Provisioned:
    _bucket_settings(ctx.clients.s3, old.ref, res.properties, old.properties)
    return Provisioned(old.ref, old.attrs)


@deleter("AWS::S3::Bucket")
def bucket_delete(ctx: Context, old: Existing) -> None:
    # A bucket that holds objects cannot be deleted (BucketNotEmpty): CloudFormation fails
    # the delete, as `bluegreen destroy` warns.
    ctx.clients.s3.delete_bucket(Bucket=old.ref)


@updater("AWS::S3::BucketPolicy")
def bucket_policy_update(ctx: Context, res: Resource, old: Existing) -> Provisioned:
    return bucket_policy(ctx, res)


@deleter("AWS::S3::BucketPolicy")
def bucket_policy_delete(ctx: Context, old: Existing) -> None:
    ctx.clients.s3.delete_bucket_policy(Bucket=old.properties["Bucket"])


@updater("AWS::CodeBuild::Project")
def build_project_update(ctx: Context, res: Resource, old: Existing) -> Provisioned:
    p = camel(res.properties)
    source = dict(p["source"])
    if "buildSpec" in source:
        source["buildspec"] = source.pop("buildSpec")
    artifacts = dict(p.get("artifacts", {}))
    for part in (source, artifacts):
        if part.get("type") == "CODEPIPELINE":
            part.setdefault("location", "CODEPIPELINE")
    ctx.clients.codebuild.update_project(
        name=old.ref,
        source=source,
        artifacts=artifacts,
        **pick(
            p,
            "description",
            "environment",
            "serviceRole",
            "timeoutInMinutes",
            "queuedTimeoutInMinutes",
            "logsConfig",
            "cache",
            "encryptionKey",
            "concurrentBuildLimit",
        ),
    )
    return Provisioned(old.ref, old.attrs)


@deleter("AWS::CodeBuild::Project")
def build_project_delete(ctx: Context, old: Existing) -> None:
    ctx.clients.codebuild.delete_project(name=old.ref)


@deleter("AWS::CodeDeploy::Application")
def codedeploy_application_delete(ctx: Context, old: Existing) -> None:
    ctx.clients.codedeploy.delete_application(applicationName=old.ref)


@deleter("AWS::CodeDeploy::DeploymentConfig")
def deployment_config_delete(ctx: Context, old: Existing) -> None:
    ctx.clients.codedeploy.delete_deployment_config(deploymentConfigName=old.ref)


@updater("AWS::CodeDeploy::DeploymentGroup")
def deployment_group_update(ctx: Context, res: Resource, old: Existing) -> Provisioned:
    p = camel(res.properties)
    _check_ecs_references(ctx, res, p)
    ctx.clients.codedeploy.update_deployment_group(
        applicationName=p["applicationName"],
        currentDeploymentGroupName=old.ref,
        serviceRoleArn=p["serviceRoleArn"],
        **pick(
            p,
            "deploymentConfigName",
            "deploymentStyle",
            "blueGreenDeploymentConfiguration",
            "loadBalancerInfo",
            "ecsServices",
            "autoRollbackConfiguration",
            "alarmConfiguration",
        ),
    )
    return Provisioned(old.ref, old.attrs)


@deleter("AWS::CodeDeploy::DeploymentGroup")
def deployment_group_delete(ctx: Context, old: Existing) -> None:
    ctx.clients.codedeploy.delete_deployment_group(
        applicationName=old.properties["ApplicationName"], deploymentGroupName=old.ref
    )


@updater("AWS::CodePipeline::Pipeline")
def pipeline_update(ctx: Context, res: Resource, old: Existing) -> Provisioned:
    body = _pipeline_body(ctx, res, old.ref)
    updated = ctx.clients.codepipeline.update_pipeline(pipeline=body)["pipeline"]
    _disable_transitions(ctx, res, old.ref)
    return Provisioned(old.ref, {"Version": str(updated.get("version", 1))})


@deleter("AWS::CodePipeline::Pipeline")
def pipeline_delete(ctx: Context, old: Existing) -> None:
    ctx.clients.codepipeline.delete_pipeline(name=old.ref)


@updater("AWS::Events::Rule")
def rule_update(ctx: Context, res: Resource, old: Existing) -> Provisioned:
    events = ctx.clients.events
    before = {t["Id"] for t in old.properties.get("Targets", [])}
    after = {t["Id"] for t in res.properties.get("Targets", [])}
    gone = sorted(before - after)
    if gone:
        events.remove_targets(Rule=old.ref, Ids=gone, **pick(old.properties, "EventBusName"))
    return rule(ctx, res)


@deleter("AWS::Events::Rule")
def rule_delete(ctx: Context, old: Existing) -> None:
    events = ctx.clients.events
    ids = [t["Id"] for t in old.properties.get("Targets", [])]
    if ids:
        events.remove_targets(Rule=old.ref, Ids=ids, **pick(old.properties, "EventBusName"))
    events.delete_rule(Name=old.ref, **pick(old.properties, "EventBusName"))
