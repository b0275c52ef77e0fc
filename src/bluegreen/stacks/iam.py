"""IAM building blocks shared by the stacks: service roles and scoped statements.

Every role gets its permissions as inline policies on the role itself, so a resource
that uses the role (a build project, a pipeline, a deployment group) can never start
before its permissions exist (a separate AWS::IAM::Policy would need an explicit
DependsOn everywhere). Roles are left for CloudFormation to name: they are
account-global and nobody types them, so the stacks need only CAPABILITY_IAM.

``Resource: "*"`` appears only for actions that AWS does not scope to a resource;
:data:`WILDCARD_ACTIONS` lists them and the tests hold every template to that list.
"""

from __future__ import annotations

from collections.abc import Sequence

from awacs.aws import Action, Allow, Condition, PolicyDocument, Principal, Statement, StringEquals
from troposphere import AWSHelperFn, iam

POLICY_VERSION = "2012-10-17"

# Actions whose IAM authorization has no resource type, so they need Resource "*"
# (Service Authorization Reference): ECR's registry-wide token, ECS task-definition
# registration and description (task definitions are not resource-scoped for these).
WILDCARD_ACTIONS = frozenset(
    {
        "ecr:GetAuthorizationToken",
        "ecs:RegisterTaskDefinition",
        "ecs:DescribeTaskDefinition",
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


def service_role(
    title: str,
    service: str,
    description: str,
    statements: Sequence[Statement] = (),
    managed_policy_arns: Sequence[str | AWSHelperFn] = (),
) -> iam.Role:
    """A role that ``service`` (e.g. ``codebuild.amazonaws.com``) may assume.

    ``statements`` become one inline policy named after the role's logical id.
    """
    trust = PolicyDocument(
        Version=POLICY_VERSION,
        Statement=[
            Statement(
                Effect=Allow,
                Principal=Principal("Service", [service]),
                Action=actions("sts:AssumeRole"),
            )
        ],
    )
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
