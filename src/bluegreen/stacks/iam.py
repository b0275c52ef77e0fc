"""IAM building blocks shared by the stacks: service roles and scoped statements.

Every role gets its permissions as inline policies on the role itself, so a resource
that uses the role (a build project, a pipeline, a deployment group) can never start
before its permissions exist (a separate AWS::IAM::Policy would need an explicit
DependsOn everywhere). Roles are left for CloudFormation to name: they are
account-global and nobody types them, so the stacks need only CAPABILITY_IAM.

``Resource: "*"`` appears only for actions that AWS does not scope to a resource;
:data:`WILDCARD_ACTIONS` lists them and the tests hold every template to that list.

Trust policies carry the cross-service confused-deputy conditions (``aws:SourceAccount``,
``aws:SourceArn``) where, and only where, the service documents that it sends them when
it assumes the role (IAM User Guide, "The confused deputy problem",
https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html): a condition a
service does not send would make the role unassumable. Each caller of
:func:`service_role` cites the service's page for the condition it passes (or for
leaving it out).
"""

from __future__ import annotations

from collections.abc import Sequence

from awacs.aws import (
    Action,
    Allow,
    ArnLike,
    Condition,
    ConditionElement,
    PolicyDocument,
    Principal,
    Statement,
    StringEquals,
)
from troposphere import AWSHelperFn, Ref, iam

POLICY_VERSION = "2012-10-17"

# Actions whose IAM authorization has no resource type, so they need Resource "*"
# (Service Authorization Reference): ECR's registry-wide token, ECS task-definition
# registration and description (task definitions are not resource-scoped for these),
# and the Elastic Load Balancing Describe* reads ECS makes with its infrastructure role
# for load balancers (the AWS managed policy AmazonECSInfrastructureRolePolicyForLoad-
# Balancers grants exactly these four on "*", statement ELBReadOperations).
WILDCARD_ACTIONS = frozenset(
    {
        "ecr:GetAuthorizationToken",
        "ecs:RegisterTaskDefinition",
        "ecs:DescribeTaskDefinition",
        "elasticloadbalancing:DescribeListeners",
        "elasticloadbalancing:DescribeRules",
        "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:DescribeTargetHealth",
        # A Lambda function attached to a VPC (the verify prober) manages its network
        # interfaces with these, granted on "*" by the AWS managed policy
        # AWSLambdaVPCAccessExecutionRole (Lambda developer guide, "Giving Lambda functions
        # access to resources in an Amazon VPC").
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
    }
)

ResourceList = Sequence[str | AWSHelperFn]


def actions(*names: str) -> list[Action]:
    """awacs actions from ``"service:Action"`` strings (reads like the IAM JSON)."""
    result = []
    for name in names:
        prefix, action = name.split(":", 1)
        result.append(Action(prefix, action))
    return result


def allow(
    action_names: Sequence[str],
    resources: ResourceList,
    condition: Condition | None = None,
) -> Statement:
    """An Allow statement; refuses ``"*"`` for actions AWS can scope to a resource."""
    if "*" in resources:
        unscoped = sorted(set(action_names) - WILDCARD_ACTIONS)
        if unscoped:
            raise ValueError(f"Resource '*' for actions AWS can scope: {unscoped}")
    statement = Statement(Effect=Allow, Action=actions(*action_names), Resource=list(resources))
    if condition is not None:
        statement.Condition = condition
    return statement


def passed_to(service: str) -> Condition:
    """iam:PassRole only to ``service`` (for example ecs-tasks.amazonaws.com)."""
    return Condition(StringEquals("iam:PassedToService", service))


SOURCE_ACCOUNT = "aws:SourceAccount"
SOURCE_ARN = "aws:SourceArn"


def assumed_for(
    source_arn: str | AWSHelperFn | None = None,
    operator: type[ConditionElement] = ArnLike,
) -> Condition:
    """Trust condition: the service assumes the role only for this account and, given
    ``source_arn``, only on behalf of that resource (compared with ``operator``, the one
    the service's own page uses). The account is the ``AWS::AccountId`` pseudo
    parameter, never a literal."""
    account: dict[str, object] = {SOURCE_ACCOUNT: Ref("AWS::AccountId")}
    if source_arn is None:
        return Condition(StringEquals(account))
    if operator is StringEquals:
        return Condition(StringEquals({**account, SOURCE_ARN: source_arn}))
    return Condition([StringEquals(account), operator(SOURCE_ARN, source_arn)])


def service_role(
    title: str,
    service: str,
    description: str,
    statements: Sequence[Statement] = (),
    managed_policy_arns: Sequence[str | AWSHelperFn] = (),
    trust_condition: Condition | None = None,
) -> iam.Role:
    """A role that ``service`` (e.g. ``codebuild.amazonaws.com``) may assume.

    ``statements`` become one inline policy named after the role's logical id;
    ``trust_condition`` (see :func:`assumed_for`) restricts the assumption.
    """
    assume = Statement(
        Effect=Allow,
        Principal=Principal("Service", [service]),
        Action=actions("sts:AssumeRole"),
    )
    if trust_condition is not None:
        assume.Condition = trust_condition
    trust = PolicyDocument(Version=POLICY_VERSION, Statement=[assume])
    role = iam.Role(title, AssumeRolePolicyDocument=trust, Description=description)
    if statements:
        role.Policies = [
            iam.Policy(
                PolicyName=title,
                PolicyDocument=PolicyDocument(Version=POLICY_VERSION, Statement=list(statements)),
            )
        ]
    if managed_policy_arns:
        role.ManagedPolicyArns = list(managed_policy_arns)
    return role
