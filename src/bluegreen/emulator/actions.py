"""Which IAM actions, on which resources, an API call needs.

From the Service Authorization Reference ("Actions, resources, and condition keys for
<service>", docs.aws.amazon.com/service-authorization/latest/reference/): for each
operation a role of the system calls, the action(s) it is authorized as and the ARN of
the resource type the reference lists for it (``*`` where the action has no resource-level
permissions). Most actions are named after their operation (``<prefix>:<Operation>``);
the exceptions are written out (S3's HeadObject is ``s3:GetObject``, ListObjectsV2 is
``s3:ListBucket``; "Amazon S3 API operations and permissions").

An operation not in the table is evaluated as ``<prefix>:<Operation>`` on ``*``: the
conservative fallback (a policy that grants it only on named resources does not allow it).

Some operations need a second authorization: a request that passes a role (ECS
RegisterTaskDefinition's taskRoleArn and executionRoleArn) is also authorized as
``iam:PassRole`` on each role passed, with ``iam:PassedToService`` naming the service the
role is passed to (IAM User Guide, "Granting a user permissions to pass a role to an AWS
service"; the Service Authorization Reference lists iam:PassRole as a dependent action of
ecs:RegisterTaskDefinition).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from bluegreen.emulator.core import Emulator


@dataclass(frozen=True)
class Request:
    """One authorization: an action on a resource, with request-specific condition keys."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()


# IAM service prefixes that differ from botocore's service names.
PREFIX = {"elbv2": "elasticloadbalancing"}

# Operations that need no permission: STS GetCallerIdentity ("No permissions are required
# to perform this operation", STS API Reference).
FREE = frozenset({("sts", "GetCallerIdentity")})


@dataclass(frozen=True)
class _Where:
    """What the builders need: the account, the region, the request's location (its URL
    path, for REST APIs), and the emulator for lookups."""

    emulator: Emulator
    location: str

    @property
    def region(self) -> str:
        return self.emulator.region

    @property
    def account(self) -> str:
        return self.emulator.account_id

    def arn(self, service: str, resource: str, *, region: bool = True) -> str:
        return f"arn:aws:{service}:{self.region if region else ''}:{self.account}:{resource}"


Builder = Callable[[_Where, Mapping[str, Any]], list[str]]


def _name(value: Any) -> str:
    """The name at the end of an ARN (or the value itself)."""
    text = str(value or "")
    return text.rsplit("/", 1)[-1] if text.startswith("arn:") else text


# --------------------------------------------------------------------------- builders
def _pipeline(w: _Where, p: Mapping[str, Any]) -> list[str]:
    return [w.arn("codepipeline", _name(p.get("name") or p.get("pipelineName")))]


def _project(w: _Where, p: Mapping[str, Any]) -> list[str]:
    return [w.arn("codebuild", f"project/{_name(p.get('projectName'))}")]


def _build_projects(w: _Where, p: Mapping[str, Any]) -> list[str]:
    ids = list(p.get("ids") or ([p["id"]] if p.get("id") else []))
    # A build id is <project>:<uuid> (or the build's ARN ...:build/<project>:<uuid>).
    projects = dict.fromkeys(_name(i).rsplit(":", 1)[0] for i in ids)
    return [w.arn("codebuild", f"project/{name}") for name in projects] or ["*"]


def _projects(w: _Where, p: Mapping[str, Any]) -> list[str]:
    return [w.arn("codebuild", f"project/{_name(n)}") for n in p.get("names") or []] or ["*"]


def _application(w: _Where, p: Mapping[str, Any]) -> list[str]:
    return [w.arn("codedeploy", f"application:{p.get('applicationName')}")]


def _group(w: _Where, p: Mapping[str, Any]) -> list[str]:
    name = p.get("deploymentGroupName") or p.get("currentDeploymentGroupName")
    return [w.arn("codedeploy", f"deploymentgroup:{p.get('applicationName')}/{name}")]


def _deployment_group(w: _Where, p: Mapping[str, Any]) -> list[str]:
    """The deployment group of the deployment named in the request (GetDeployment and
    the other per-deployment operations are authorized on the deployment group)."""
    ids = list(p.get("deploymentIds") or [p.get("deploymentId")])
    codedeploy = w.emulator.services.get("codedeploy")
    found: dict[str, None] = {}
    for deployment_id in ids:
        deployment = getattr(codedeploy, "_deployments", {}).get(deployment_id)
        if deployment is not None:
            found[f"deploymentgroup:{deployment.application}/{deployment.group}"] = None
    return [w.arn("codedeploy", name) for name in found] or [
        w.arn("codedeploy", "deploymentgroup:*")
    ]


def _config(w: _Where, p: Mapping[str, Any]) -> list[str]:
    return [w.arn("codedeploy", f"deploymentconfig:{p.get('deploymentConfigName')}")]


def _ecs_services(w: _Where, p: Mapping[str, Any]) -> list[str]:
    cluster = _name(p.get("cluster") or "default")
    names = list(p.get("services") or ([p["service"]] if p.get("service") else []))
    return [w.arn("ecs", f"service/{cluster}/{_name(n)}") for n in names] or ["*"]


def _repository(w: _Where, p: Mapping[str, Any]) -> list[str]:
    return [w.arn("ecr", f"repository/{p.get('repositoryName')}")]


def _repositories(w: _Where, p: Mapping[str, Any]) -> list[str]:
    names = list(p.get("repositoryNames") or [])
    return [w.arn("ecr", f"repository/{n}") for n in names] or [w.arn("ecr", "repository/*")]


def _log_stream(w: _Where, p: Mapping[str, Any]) -> list[str]:
    # juspay/hyperswitch-cdk#37 quotes AWS: "logs:CreateLogStream on resource:
    # arn:aws:logs:<region>:<account>:log-group:<group>:log-stream:<stream>".
    group, stream = p.get("logGroupName"), p.get("logStreamName") or ""
    return [w.arn("logs", f"log-group:{group}:log-stream:{stream}")]


def _log_group(w: _Where, p: Mapping[str, Any]) -> list[str]:
    # terraform-aws-modules/terraform-aws-ecs#313 quotes AWS: "logs:CreateLogGroup on
    # resource: arn:aws:logs:<region>:<account>:log-group:<group>:log-stream:".
    group = p.get("logGroupName") or p.get("logGroupIdentifier") or ""
    return [w.arn("logs", f"log-group:{_name(group)}:log-stream:")]


def _elb(key: str) -> Builder:
    def build(w: _Where, p: Mapping[str, Any]) -> list[str]:
        value = p.get(key)
        return [str(value)] if value else ["*"]

    return build


def _function(w: _Where, p: Mapping[str, Any]) -> list[str]:
    name = p.get("FunctionName") or _path_after(w.location, "functions")
    return [function_arn(w.emulator, str(name))]


def _parameters(w: _Where, p: Mapping[str, Any]) -> list[str]:
    names = list(p.get("Names") or ([p["Name"]] if p.get("Name") else []))
    return [w.arn("ssm", "parameter/" + str(n).lstrip("/")) for n in names] or ["*"]


def _secret(w: _Where, p: Mapping[str, Any]) -> list[str]:
    secret = str(p.get("SecretId") or "")
    if secret.startswith("arn:"):
        return [secret]
    try:
        backend = w.emulator.backend("secretsmanager")
        return [str(backend.describe_secret(secret).arn)]
    except Exception:  # noqa: BLE001 - moto's ResourceNotFoundException
        return [w.arn("secretsmanager", f"secret:{secret}")]


def _slr(w: _Where, p: Mapping[str, Any]) -> list[str]:
    from bluegreen.emulator.services.iam import service_linked_role_name

    service = str(p.get("AWSServiceName") or "")
    name = service_linked_role_name(service, p.get("CustomSuffix"))
    return [f"arn:aws:iam::{w.account}:role/aws-service-role/{service}/{name}"]


# (service, operation) -> (action, resources). The Service Authorization Reference pages:
# list_awscodepipeline, list_awscodebuild, list_awscodedeploy, list_amazonelasticcontainer
# service, list_amazonelasticcontainerregistry, list_amazoncloudwatchlogs,
# list_elasticloadbalancingv2, list_awslambda, list_awssystemsmanager,
# list_awssecretsmanager, list_awsidentityandaccessmanagementiam.
TABLE: dict[tuple[str, str], tuple[str, Builder]] = {
    ("codepipeline", "StartPipelineExecution"): ("codepipeline:StartPipelineExecution", _pipeline),
    ("codepipeline", "GetPipeline"): ("codepipeline:GetPipeline", _pipeline),
    ("codepipeline", "GetPipelineState"): ("codepipeline:GetPipelineState", _pipeline),
    ("codepipeline", "GetPipelineExecution"): ("codepipeline:GetPipelineExecution", _pipeline),
    ("codepipeline", "ListPipelineExecutions"): (
        "codepipeline:ListPipelineExecutions",
        _pipeline,
    ),
    ("codepipeline", "StopPipelineExecution"): ("codepipeline:StopPipelineExecution", _pipeline),
    ("codebuild", "StartBuild"): ("codebuild:StartBuild", _project),
    ("codebuild", "BatchGetBuilds"): ("codebuild:BatchGetBuilds", _build_projects),
    ("codebuild", "StopBuild"): ("codebuild:StopBuild", _build_projects),
    ("codebuild", "BatchGetProjects"): ("codebuild:BatchGetProjects", _projects),
    ("codedeploy", "CreateDeployment"): ("codedeploy:CreateDeployment", _group),
    ("codedeploy", "GetDeploymentGroup"): ("codedeploy:GetDeploymentGroup", _group),
    ("codedeploy", "GetDeployment"): ("codedeploy:GetDeployment", _deployment_group),
    ("codedeploy", "BatchGetDeployments"): ("codedeploy:BatchGetDeployments", _deployment_group),
    ("codedeploy", "StopDeployment"): ("codedeploy:StopDeployment", _deployment_group),
    ("codedeploy", "ContinueDeployment"): ("codedeploy:ContinueDeployment", _deployment_group),
    ("codedeploy", "GetDeploymentTarget"): ("codedeploy:GetDeploymentTarget", _deployment_group),
    ("codedeploy", "ListDeploymentTargets"): (
        "codedeploy:ListDeploymentTargets",
        _deployment_group,
    ),
    ("codedeploy", "PutLifecycleEventHookExecutionStatus"): (
        "codedeploy:PutLifecycleEventHookExecutionStatus",
        _deployment_group,
    ),
    ("codedeploy", "GetApplication"): ("codedeploy:GetApplication", _application),
    ("codedeploy", "RegisterApplicationRevision"): (
        "codedeploy:RegisterApplicationRevision",
        _application,
    ),
    ("codedeploy", "GetApplicationRevision"): ("codedeploy:GetApplicationRevision", _application),
    ("codedeploy", "GetDeploymentConfig"): ("codedeploy:GetDeploymentConfig", _config),
    ("ecs", "DescribeServices"): ("ecs:DescribeServices", _ecs_services),
    # ECS built-in blue/green (the ECS engine's deploy step): UpdateService and
    # ListServiceDeployments on the service; DescribeServiceDeployments on each
    # service-deployment ARN (Service Authorization Reference, Amazon ECS: resource types
    # "service" and "service-deployment").
    ("ecs", "UpdateService"): ("ecs:UpdateService", _ecs_services),
    ("ecs", "ListServiceDeployments"): ("ecs:ListServiceDeployments", _ecs_services),
    ("ecs", "DescribeServiceDeployments"): (
        "ecs:DescribeServiceDeployments",
        lambda w, p: [str(a) for a in p.get("serviceDeploymentArns") or []] or ["*"],
    ),
    ("ecr", "GetAuthorizationToken"): ("ecr:GetAuthorizationToken", lambda w, p: ["*"]),
    ("ecr", "DescribeRepositories"): ("ecr:DescribeRepositories", _repositories),
    ("logs", "CreateLogStream"): ("logs:CreateLogStream", _log_stream),
    ("logs", "PutLogEvents"): ("logs:PutLogEvents", _log_stream),
    ("logs", "GetLogEvents"): ("logs:GetLogEvents", _log_stream),
    ("elbv2", "ModifyListener"): ("elasticloadbalancing:ModifyListener", _elb("ListenerArn")),
    ("elbv2", "ModifyRule"): ("elasticloadbalancing:ModifyRule", _elb("RuleArn")),
    ("elbv2", "RegisterTargets"): ("elasticloadbalancing:RegisterTargets", _elb("TargetGroupArn")),
    ("elbv2", "DeregisterTargets"): (
        "elasticloadbalancing:DeregisterTargets",
        _elb("TargetGroupArn"),
    ),
    ("lambda", "GetFunction"): ("lambda:GetFunction", _function),
    ("lambda", "Invoke"): ("lambda:InvokeFunction", _function),
    ("ssm", "GetParameter"): ("ssm:GetParameter", _parameters),
    ("ssm", "GetParameters"): ("ssm:GetParameters", _parameters),
    ("secretsmanager", "GetSecretValue"): ("secretsmanager:GetSecretValue", _secret),
    ("iam", "CreateServiceLinkedRole"): ("iam:CreateServiceLinkedRole", _slr),
}

# ECR operations on one repository (repositoryName), the CloudWatch Logs operations on one
# log group (logGroupName).
for _operation in (
    "BatchGetImage",
    "GetDownloadUrlForLayer",
    "BatchCheckLayerAvailability",
    "PutImage",
    "InitiateLayerUpload",
    "UploadLayerPart",
    "CompleteLayerUpload",
    "DescribeImages",
    "ListImages",
    "BatchDeleteImage",
    "GetRepositoryPolicy",
    "DescribeImageScanFindings",
):
    TABLE[("ecr", _operation)] = (f"ecr:{_operation}", _repository)
for _operation in (
    "CreateLogGroup",
    "DeleteLogGroup",
    "DescribeLogStreams",
    "FilterLogEvents",
    "PutRetentionPolicy",
):
    TABLE[("logs", _operation)] = (f"logs:{_operation}", _log_group)

# S3: operation -> action (object-level on arn:aws:s3:::bucket/key, bucket-level on
# arn:aws:s3:::bucket), "Amazon S3 API operations and permissions" (S3 User Guide).
S3_OBJECT = {
    "GetObject": "s3:GetObject",
    "HeadObject": "s3:GetObject",
    "PutObject": "s3:PutObject",
    "CopyObject": "s3:PutObject",
    "DeleteObject": "s3:DeleteObject",
    "GetObjectTagging": "s3:GetObjectTagging",
    "PutObjectTagging": "s3:PutObjectTagging",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
}
S3_BUCKET = {
    "ListObjects": "s3:ListBucket",
    "ListObjectsV2": "s3:ListBucket",
    "HeadBucket": "s3:ListBucket",
    "ListObjectVersions": "s3:ListBucketVersions",
    "GetBucketLocation": "s3:GetBucketLocation",
    "GetBucketAcl": "s3:GetBucketAcl",
    "GetBucketVersioning": "s3:GetBucketVersioning",
    "GetBucketPolicy": "s3:GetBucketPolicy",
}


def requests(
    emulator: Emulator,
    service: str,
    operation: str,
    params: Mapping[str, Any],
    location: str,
) -> list[Request]:
    """The authorizations the call needs (empty: none)."""
    if (service, operation) in FREE:
        return []
    where = _Where(emulator, location)
    if service == "s3":
        return _s3(where, operation, params)
    entry = TABLE.get((service, operation))
    if entry is None:
        prefix = PREFIX.get(service, service)
        out = [Request(f"{prefix}:{operation}", "*")]
    else:
        action, build = entry
        out = [Request(action, resource) for resource in build(where, params)]
    if (service, operation) == ("ecs", "RegisterTaskDefinition"):
        for key in ("taskRoleArn", "executionRoleArn"):
            role = params.get(key)
            if role:
                out.append(pass_role(str(role), "ecs-tasks.amazonaws.com"))
    return out


def pass_role(role_arn: str, to_service: str) -> Request:
    """iam:PassRole on ``role_arn`` to ``to_service``."""
    return Request("iam:PassRole", role_arn, (("iam:PassedToService", to_service),))


def _s3(where: _Where, operation: str, params: Mapping[str, Any]) -> list[Request]:
    bucket = str(params.get("Bucket") or "")
    key = str(params.get("Key") or "")
    if not bucket:
        bucket, key = _s3_location(where.location)
    if operation in S3_OBJECT:
        action = S3_OBJECT[operation]
        if operation == "GetObject" and params.get("VersionId"):
            action = "s3:GetObjectVersion"
        return [Request(action, f"arn:aws:s3:::{bucket}/{key}")]
    action = S3_BUCKET.get(operation, f"s3:{operation}")
    return [Request(action, f"arn:aws:s3:::{bucket}" if bucket else "*")]


def _s3_location(location: str) -> tuple[str, str]:
    """(bucket, key) of an S3 request URL: virtual-hosted (bucket.s3.<region>...) or
    path style (s3.<region>.../bucket/key, the loopback server's form)."""
    parts = urlsplit(location)
    path = unquote(parts.path).lstrip("/")
    host = parts.hostname or ""
    if host and ".s3" in host and not host.startswith("s3"):
        return host.split(".s3", 1)[0], path
    bucket, _, key = path.partition("/")
    return bucket, key


def _path_after(location: str, segment: str) -> str:
    parts = [unquote(p) for p in urlsplit(location).path.split("/") if p]
    if segment in parts and parts.index(segment) + 1 < len(parts):
        return parts[parts.index(segment) + 1]
    return ""


def function_arn(emulator: Emulator, name: str) -> str:
    """A Lambda function's ARN from its name, ARN or partial ARN (qualifier dropped)."""
    if name.startswith("arn:"):
        parts = name.split(":")
        return ":".join(parts[:7])
    return f"arn:aws:lambda:{emulator.region}:{emulator.account_id}:function:{name.split(':')[0]}"


def resource_policy(emulator: Emulator, request: Request) -> str | None:
    """The resource-based policy of the request's resource, where the emulator keeps one
    (S3 bucket policies, ECR repository policies, Lambda function policies)."""
    resource = request.resource
    try:
        if resource.startswith("arn:aws:s3:::"):
            bucket = resource[len("arn:aws:s3:::") :].split("/", 1)[0]
            found = emulator.backend("s3").buckets.get(bucket)
            text = getattr(found, "policy", None)
            return text.decode() if isinstance(text, bytes) else text
        if resource.startswith("arn:aws:ecr:") and ":repository/" in resource:
            name = resource.split(":repository/", 1)[1]
            repository = emulator.backend("ecr").repositories.get(name)
            text = getattr(repository, "policy", None)
            return str(text) if text else None
        if resource.startswith("arn:aws:lambda:") and ":function:" in resource:
            name = resource.split(":function:", 1)[1].split(":")[0]
            function = emulator.backend("lambda").get_function(name)
            text = function.policy.wire_format() if getattr(function, "policy", None) else None
            return json.dumps(json.loads(text)) if text else None
    except Exception:  # noqa: BLE001 - a resource that is gone has no policy
        return None
    return None
