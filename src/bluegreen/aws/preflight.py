"""Account-level prerequisites ``deploy`` checks before it changes anything.

CodeCommit availability. From 2024-07-25 CodeCommit refused CreateRepository to accounts
(and AWS Organizations) without a repository: ``OperationNotAllowedException:
CreateRepository request is not allowed because there is no existing repository in this
AWS account or AWS Organization`` (AWS DevOps blog, "How to migrate your AWS CodeCommit
repository to another Git provider", 2024-07; the same CloudFormation failure in
aws-containers/ecs-workshop-blue-green-deployments#11 and
aws-solutions-library-samples/guidance-for-carbon-data-lake-on-aws#50). CodeCommit
returned to general availability in 2025-11 (https://aws.amazon.com/codecommit/;
future-architect/arch-guidelines#275 and dbt-labs/docs.getdbt.com#8531 record the
change; botocore's CodeCommit model no longer carries the "no longer available to new
customers" note on CreateRepository). An account with a repository was never refused, so
ListRepositories answering with one proves CreateRepository is allowed; an account with
none was refused only under the restriction, which no API reports, so deploy does not
block it: it says in one line that it would explain a refusal, and
:func:`codecommit_refusal` recognises that failure afterwards and says what the
restriction was and what to do.

The ECS service-linked role. In an account that never used ECS the role
``AWSServiceRoleForECS`` does not exist; ECS creates it on CreateCluster but then assumes
it at once, and IAM is eventually consistent, so the cluster (or service) fails with
"Unable to assume the service linked role. Please verify that the ECS service linked
role exists." (aws-cloudformation/cloudformation-coverage-roadmap#818,
1Password/scim-examples#356, aws-samples/baseline-environment-on-aws#238). The ECS
developer guide ("Using service-linked roles for Amazon ECS",
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using-service-linked-roles.html)
documents creating it with ``iam create-service-linked-role --aws-service-name
ecs.amazonaws.com``; deploy does that before the service stack when GetRole finds none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bluegreen.aws.errors import AwsCallError, call
from bluegreen.errors import StateError

ECS_SERVICE_LINKED_ROLE = "AWSServiceRoleForECS"
ECS_SERVICE_PRINCIPAL = "ecs.amazonaws.com"
ROLE_PROPAGATION_SECONDS = 10.0
"""How long to let a new role propagate before ECS assumes it (IAM is eventually
consistent: https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot.html)."""

RESTRICTION = (
    "from 2024-07-25 until CodeCommit returned to general availability in 2025-11, "
    "CreateRepository was refused (OperationNotAllowedException) to accounts and AWS "
    "Organizations without a CodeCommit repository"
)
WHAT_TO_DO = (
    "ask AWS Support to enable CodeCommit for this account, or deploy into an account "
    "(or AWS Organization) that already has a CodeCommit repository"
)


def codecommit_note(codecommit: Any, region: str) -> str:
    """Check that CodeCommit answers in ``region``; a note when the account has no
    repository yet (empty when it has one)."""
    try:
        listed = call(codecommit, "list_repositories")
    except AwsCallError as exc:
        if exc.code == "EndpointConnectionError":
            raise StateError(
                f"CodeCommit does not answer in {region}: {exc.message}",
                hint="CodeCommit is not offered in every region (`bluegreen verify` checks "
                "project.region); choose a region that has it, with --region or "
                "project.region. Nothing was changed",
            ) from exc
        raise
    if listed.get("repositories"):
        return ""
    # One line: the restriction ended in 2025-11, so the history and what to do are
    # said only if the source stack meets it (codecommit_refusal).
    return (
        f"this account has no CodeCommit repository in {region} yet; if CodeCommit refuses "
        "to create one (OperationNotAllowedException), deploy says what to do then"
    )


def codecommit_refusal(reasons: list[str]) -> str:
    """The hint for a source stack whose repository CodeCommit refused to create."""
    text = " ".join(reasons)
    if "OperationNotAllowedException" in text or "CreateRepository request is not allowed" in text:
        return f"CodeCommit refused to create the repository: {RESTRICTION}; {WHAT_TO_DO}"
    return ""


def ecs_role_exists(iam: Any) -> bool:
    """Whether the ECS service-linked role exists in the account."""
    try:
        call(iam, "get_role", RoleName=ECS_SERVICE_LINKED_ROLE)
    except AwsCallError as exc:
        if exc.code == "NoSuchEntity":
            return False
        raise
    return True


def create_ecs_role(iam: Any, sleep: Callable[[float], None]) -> bool:
    """Create the ECS service-linked role; False when another caller made it first."""
    try:
        call(iam, "create_service_linked_role", AWSServiceName=ECS_SERVICE_PRINCIPAL)
    except AwsCallError as exc:
        # Two creators racing: IAM answers InvalidInput "Service role name
        # AWSServiceRoleForECS has been taken in this account" (botocore IAM model:
        # CreateServiceLinkedRole raises InvalidInputException, code InvalidInput).
        if exc.code == "InvalidInput" and "has been taken" in exc.message:
            return False
        raise
    sleep(ROLE_PROPAGATION_SECONDS)
    return True
