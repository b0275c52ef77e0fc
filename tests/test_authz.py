"""The evaluation of calls made as a role (bluegreen.emulator.authz), through the real API.

A client acting as a role (``emulator.client(service, principal=<role ARN>,
internal=True)``, what every emulated service uses on the system's behalf) is authorized
against the role's policies with IAM's logic (IAM User Guide, "Policy evaluation logic"):
inline and attached managed policies, the permissions boundary, the resource's own policy;
an explicit Deny wins. A refusal is the service's AccessDenied with AWS's text ("Troubleshoot
access denied error messages"); the operator's calls are not evaluated.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bluegreen.emulator import Emulator, actions, authz

REGION = "ap-northeast-1"
ACCOUNT = "123456789012"
T0 = datetime(2021, 9, 19, 1, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def aws() -> Iterator[Emulator]:
    with Emulator(REGION, start=T0) as emulator:
        clients = emulator.clients()
        clients.logs.create_log_group(logGroupName="/app")
        clients.s3.create_bucket(
            Bucket="artifacts", CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        yield emulator


def _trust(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
            ],
        }
    )


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _role(aws: Emulator, name: str, *statements: dict[str, Any], **extra: Any) -> str:
    iam = aws.clients().iam
    arn = str(
        iam.create_role(
            RoleName=name, AssumeRolePolicyDocument=_trust("ecs-tasks.amazonaws.com"), **extra
        )["Role"]["Arn"]
    )
    if statements:
        iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=_policy(*statements))
    return arn


def _error(call: Any, **params: Any) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    response = caught.value.response
    return (
        int(response["ResponseMetadata"]["HTTPStatusCode"]),
        str(response["Error"]["Code"]),
        str(response["Error"]["Message"]),
    )


def _stream(aws: Emulator, role: str, stream: str) -> Any:
    logs = aws.client("logs", principal=role, internal=True)
    return logs.create_log_stream(logGroupName="/app", logStreamName=stream)


LOG_GROUP_ARN = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/app:*"


def test_an_allowed_call_is_served_and_a_refused_one_gets_awss_text(aws: Emulator) -> None:
    role = _role(
        aws,
        "writer",
        {"Effect": "Allow", "Action": "logs:CreateLogStream", "Resource": LOG_GROUP_ARN},
    )
    _stream(aws, role, "a")  # allowed: "log-group:/app:*" covers the stream's ARN
    logs = aws.client("logs", principal=role, internal=True)
    status, code, message = _error(
        logs.put_log_events,
        logGroupName="/app",
        logStreamName="a",
        logEvents=[{"timestamp": 0, "message": "x"}],
    )
    session = authz.authorizer(aws).session_arn(role)
    assert (status, code) == (400, "AccessDeniedException")
    assert message == (
        f"User: {session} is not authorized to perform: logs:PutLogEvents on resource: "
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/app:log-stream:a because no "
        "identity-based policy allows the logs:PutLogEvents action"
    )
    assert session.startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/writer/")
    last = aws.refusals[-1]
    assert (last.service, last.operation, last.code, last.message) == (
        "logs",
        "PutLogEvents",
        "AccessDeniedException",
        message,
    )


def test_query_apis_answer_accessdenied_with_403_and_no_resource_for_star(aws: Emulator) -> None:
    # ELB (a query API): "AccessDenied ... status code: 403" (kubernetes/kops#15990); an
    # action without resource-level permissions is refused without "on resource" (AWS's
    # answer quoted in aws-samples/multi-tenant-chatbot-using-rag-with-amazon-bedrock#17).
    role = _role(aws, "nothing-elb")
    elbv2 = aws.client("elbv2", principal=role, internal=True)
    status, code, message = _error(elbv2.describe_load_balancers)
    assert (status, code) == (403, "AccessDenied")
    assert message.endswith(
        "is not authorized to perform: elasticloadbalancing:DescribeLoadBalancers because no "
        "identity-based policy allows the elasticloadbalancing:DescribeLoadBalancers action"
    )


def test_s3_quotes_the_resource_and_answers_403(aws: Emulator) -> None:
    # S3 User Guide, "Troubleshoot access denied (403 Forbidden) errors".
    role = _role(aws, "nothing-s3")
    s3 = aws.client("s3", principal=role, internal=True)
    status, code, message = _error(s3.put_object, Bucket="artifacts", Key="k/v", Body=b"x")
    assert (status, code) == (403, "AccessDenied")
    assert 'on resource: "arn:aws:s3:::artifacts/k/v" because no identity-based policy' in message


def test_an_explicit_deny_wins_and_says_so(aws: Emulator) -> None:
    role = _role(
        aws,
        "denied",
        {"Effect": "Allow", "Action": "logs:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "logs:CreateLogStream", "Resource": "*"},
    )
    logs = aws.client("logs", principal=role, internal=True)
    _, _, message = _error(logs.create_log_stream, logGroupName="/app", logStreamName="d")
    assert message.endswith(" with an explicit deny in an identity-based policy")


def test_notaction_and_notresource(aws: Emulator) -> None:
    # "IAM JSON policy elements: NotAction" / "NotResource".
    role = _role(
        aws,
        "not-elements",
        {"Effect": "Allow", "NotAction": "logs:PutLogEvents", "Resource": "*"},
        {
            "Effect": "Deny",
            "Action": "logs:CreateLogStream",
            "NotResource": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/app:log-stream:ok-*",
        },
    )
    _stream(aws, role, "ok-1")
    logs = aws.client("logs", principal=role, internal=True)
    assert _error(logs.create_log_stream, logGroupName="/app", logStreamName="other")[2].endswith(
        "with an explicit deny in an identity-based policy"
    )
    assert (
        "because no identity-based policy allows the logs:PutLogEvents"
        in _error(
            logs.put_log_events,
            logGroupName="/app",
            logStreamName="ok-1",
            logEvents=[{"timestamp": 0, "message": "x"}],
        )[2]
    )


def test_attached_managed_policies_count_at_their_default_version(aws: Emulator) -> None:
    iam = aws.clients().iam
    role = _role(aws, "managed")
    created = iam.create_policy(
        PolicyName="streams",
        PolicyDocument=_policy(
            {"Effect": "Allow", "Action": "logs:CreateLogStream", "Resource": "*"}
        ),
    )["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="managed", PolicyArn=created)
    _stream(aws, role, "m1")
    # A new default version without the permission: refused from then on.
    iam.create_policy_version(
        PolicyArn=created,
        PolicyDocument=_policy({"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}),
        SetAsDefault=True,
    )
    logs = aws.client("logs", principal=role, internal=True)
    assert _error(logs.create_log_stream, logGroupName="/app", logStreamName="m2")[1] == (
        "AccessDeniedException"
    )
    # An AWS managed policy, loaded from moto's copy of AWS's catalogue when attached.
    iam.attach_role_policy(
        RoleName="managed",
        PolicyArn="arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
    )
    _stream(aws, role, "m3")


def test_a_permissions_boundary_limits_what_the_policies_allow(aws: Emulator) -> None:
    iam = aws.clients().iam
    boundary = iam.create_policy(
        PolicyName="only-put",
        PolicyDocument=_policy({"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}),
    )["Policy"]["Arn"]
    role = _role(
        aws,
        "bounded",
        {"Effect": "Allow", "Action": "logs:*", "Resource": "*"},
        PermissionsBoundary=boundary,
    )
    logs = aws.client("logs", principal=role, internal=True)
    assert _error(logs.create_log_stream, logGroupName="/app", logStreamName="b")[2].endswith(
        "because no permissions boundary allows the logs:CreateLogStream action"
    )


def test_a_resource_policy_deny_refuses_and_its_allow_grants(aws: Emulator) -> None:
    s3 = aws.clients().s3
    allowed = _role(aws, "bucket-reader")
    stranger = _role(aws, "bucket-stranger")
    s3.put_object(Bucket="artifacts", Key="in", Body=b"data")
    s3.put_bucket_policy(
        Bucket="artifacts",
        Policy=_policy(
            {
                "Effect": "Allow",
                "Principal": {"AWS": allowed},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::artifacts/*",
            },
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": "arn:aws:s3:::artifacts/*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ),
    )
    reader = aws.client("s3", principal=allowed, internal=True)
    assert reader.get_object(Bucket="artifacts", Key="in")["Body"].read() == b"data"
    other = aws.client("s3", principal=stranger, internal=True)
    assert _error(other.get_object, Bucket="artifacts", Key="in")[1] == "AccessDenied"
    s3.delete_bucket_policy(Bucket="artifacts")


def test_policy_changes_are_seen_at_once(aws: Emulator) -> None:
    iam = aws.clients().iam
    role = _role(
        aws, "changing", {"Effect": "Allow", "Action": "logs:CreateLogStream", "Resource": "*"}
    )
    _stream(aws, role, "c1")
    iam.put_role_policy(
        RoleName="changing",
        PolicyName="inline",
        PolicyDocument=_policy({"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}),
    )
    logs = aws.client("logs", principal=role, internal=True)
    assert _error(logs.create_log_stream, logGroupName="/app", logStreamName="c2")[1] == (
        "AccessDeniedException"
    )


def test_the_operator_and_service_linked_roles_are_not_evaluated(aws: Emulator) -> None:
    # The operator is the emulated account's administrator.
    aws.clients().logs.create_log_stream(logGroupName="/app", logStreamName="operator")
    # A service-linked role's permissions are the linked service's and cannot be edited
    # (IAM User Guide, "Using service-linked roles").
    iam = aws.clients().iam
    iam.create_service_linked_role(AWSServiceName="ecs.amazonaws.com")
    slr = f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS"
    assert not authz.evaluated(slr)
    assert authz.evaluated(f"arn:aws:iam::{ACCOUNT}:role/service-role/codebuild-x")
    aws.client("logs", principal=slr, internal=True).create_log_stream(
        logGroupName="/app", logStreamName="slr"
    )


def test_passrole_is_a_second_authorization_with_the_service_passed_to(aws: Emulator) -> None:
    execution = _role(aws, "pass-me")
    base = {"Effect": "Allow", "Action": "ecs:RegisterTaskDefinition", "Resource": "*"}
    definition = {
        "family": "f",
        "executionRoleArn": execution,
        "containerDefinitions": [{"name": "c", "image": "nginx", "memory": 128}],
    }
    to_lambda = _role(
        aws,
        "passes-to-lambda",
        base,
        {
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": execution,
            "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
        },
    )
    ecs = aws.client("ecs", principal=to_lambda, internal=True)
    assert (
        f"iam:PassRole on resource: {execution} because"
        in _error(ecs.register_task_definition, **definition)[2]
    )
    to_ecs = _role(
        aws,
        "passes-to-ecs",
        base,
        {
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": execution,
            "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
        },
    )
    aws.client("ecs", principal=to_ecs, internal=True).register_task_definition(**definition)


def test_trust_policies_with_the_confused_deputy_keys(aws: Emulator) -> None:
    # The scaffold's build role: StringEquals aws:SourceArn on its project.
    iam = aws.clients().iam
    project = f"arn:aws:codebuild:{REGION}:{ACCOUNT}:project/app-build"
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["codebuild.amazonaws.com"]},
                "Action": ["sts:AssumeRole"],
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": project}
                },
            }
        ],
    }
    arn = iam.create_role(RoleName="build", AssumeRolePolicyDocument=json.dumps(trust))["Role"][
        "Arn"
    ]
    auth = authz.authorizer(aws)
    assert auth.assume(arn, "codebuild.amazonaws.com", project)
    before = len(aws.refusals)
    assert not auth.assume(arn, "codebuild.amazonaws.com", project + "-other")
    assert not auth.assume(arn, "codepipeline.amazonaws.com", project)
    assert [(r.service, r.operation) for r in aws.refusals[before:]] == [("sts", "AssumeRole")] * 2


def test_the_actions_table_and_its_fallback(aws: Emulator) -> None:
    emulator = aws
    requests = actions.requests(
        emulator, "codebuild", "BatchGetBuilds", {"ids": ["p:1", "p:2", "q:3"]}, ""
    )
    assert [r.resource for r in requests] == [
        f"arn:aws:codebuild:{REGION}:{ACCOUNT}:project/p",
        f"arn:aws:codebuild:{REGION}:{ACCOUNT}:project/q",
    ]
    # S3 operations map to their permission ("Amazon S3 API operations and permissions"),
    # virtual-hosted URLs give the bucket and key.
    (head,) = actions.requests(
        emulator, "s3", "HeadObject", {}, "https://b.s3.ap-northeast-1.amazonaws.com/a/k"
    )
    assert (head.action, head.resource) == ("s3:GetObject", "arn:aws:s3:::b/a/k")
    # An operation not in the table: <prefix>:<Operation> on "*".
    (other,) = actions.requests(emulator, "elbv2", "DescribeSSLPolicies", {}, "")
    assert (other.action, other.resource) == ("elasticloadbalancing:DescribeSSLPolicies", "*")
    assert actions.requests(emulator, "sts", "GetCallerIdentity", {}, "") == []
