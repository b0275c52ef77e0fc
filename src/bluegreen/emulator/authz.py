"""Roles enforced: every call AWS makes as a role, evaluated against that role's policies.

When AWS acts on the system's behalf it acts as a role (the pipeline role calling CodeBuild,
CodeDeploy's service role modifying a listener, the task execution role pulling an image).
The emulator makes those calls through clients acting as the role
(:meth:`bluegreen.emulator.core.Emulator.client` with the role's ARN), and
:meth:`Authorizer.check_call`, run by the dispatcher on every request whose principal is a
role, maps the operation to the IAM action(s) and resource ARN(s) it needs
(:mod:`bluegreen.emulator.actions`, after the Service Authorization Reference) and
evaluates the role's policies with IAM's logic (:func:`bluegreen.emulator.policy.decide`,
IAM User Guide "Policy evaluation logic"):

- identity-based policies: the role's inline policies and its attached managed policies
  (customer managed, and AWS managed ones as moto ships them:
  ``moto/iam/aws_managed_policies.py``, loaded when attached), each at its default
  version;
- the role's permissions boundary, if it has one;
- the resource-based policy of the resource, where the service has one the emulator
  keeps (S3 bucket policies, ECR repository policies, Lambda function policies).

A refused call gets the service's AccessDenied error with AWS's message: "User:
arn:aws:sts::<account>:assumed-role/<role>/<session> is not authorized to perform:
<action> on resource: <arn> because no identity-based policy allows the <action> action"
(IAM User Guide, "Troubleshoot access denied error messages"; the same text in AWS's
answers quoted in kubernetes/kops#15990 (ELB), awslabs/cdk-eks-blueprints#483 (CodeBuild),
everything2/everything2#2562 (ECR), juspay/hyperswitch-cdk#37 (CloudWatch Logs)). The
error code is the service's: ``AccessDeniedException`` (HTTP 400) for the JSON APIs
(CodeBuild, CodeDeploy, CodePipeline, ECS, ECR, CloudWatch Logs: the threads above quote
"Status Code: 400; Error Code: AccessDeniedException"), ``AccessDenied`` (HTTP 403) for the
query APIs (ELB, IAM: kops#15990 "AccessDenied ... status code: 403") and S3, and
``AccessDeniedException`` (403) for Lambda.

What AWS does as a role without an API call the emulator makes (an image pull, CodeDeploy
creating a task set, invoking a hook) is checked explicitly with :meth:`Authorizer.require`
at that step. A service may act as a role only if the role's trust policy lets that
service's principal call sts:AssumeRole (IAM User Guide, "Roles terms and concepts": trust
policy; "The confused deputy problem": aws:SourceArn, aws:SourceAccount):
:meth:`Authorizer.assume`.

Not evaluated: the operator's own calls (the emulated account's user is its administrator;
the CloudFormation service acting with the caller's permissions is the operator too), and
service-linked roles, whose permissions the linked service defines and nobody can edit (IAM
User Guide, "Using service-linked roles").

Every refusal is kept in ``emulator.refusals`` with the full message, so a rehearsal can
name the role and the action even where AWS shows a shorter text (a task stopped with
``CannotPullContainerError``).
"""

from __future__ import annotations

import hashlib
import re
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bluegreen.emulator import actions, policy
from bluegreen.emulator.service import ServiceError

if TYPE_CHECKING:
    from bluegreen.emulator.core import Emulator

_ROLE = re.compile(r"^arn:aws:iam::(\d{12}):role/(?:(.*)/)?([^/]+)$")

# Service principals whose sessions AWS names a documented way (the session name is the
# last part of the assumed-role ARN in AccessDenied messages).
_CODEBUILD = "codebuild.amazonaws.com"
_CODEPIPELINE = "codepipeline.amazonaws.com"


def evaluated(principal: str) -> bool:
    """Whether calls made as ``principal`` are evaluated: an IAM role that is not a
    service-linked role."""
    match = _ROLE.match(principal)
    return match is not None and not (match.group(2) or "").startswith("aws-service-role")


@dataclass
class _Bundle:
    """A role's compiled policies at one version of them, with its decisions."""

    identity: tuple[policy.Statement, ...]
    boundary: tuple[policy.Statement, ...] | None
    trust: Any
    decisions: dict[tuple[str, str, tuple[tuple[str, str], ...], str], policy.Outcome] = field(
        default_factory=dict
    )


class Authorizer:
    """The IAM evaluation of one emulator's role calls."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self._bundles: dict[tuple[Any, ...], _Bundle] = {}

    # -- the dispatcher's hook -------------------------------------------------------------
    def check_call(
        self,
        principal: str,
        service: str,
        operation: str,
        params: Mapping[str, Any],
        location: str,
    ) -> ServiceError | None:
        """The AccessDenied error for a call ``principal`` may not make, or None."""
        requests = actions.requests(self.emulator, service, operation, params, location)
        for request in requests:
            message = self._refusal(principal, request)
            if message is not None:
                return access_denied(service, message)
        return None

    # -- explicit checks -------------------------------------------------------------------
    def require(
        self,
        principal: str,
        action: str,
        resource: str,
        context: Mapping[str, str] | None = None,
        *,
        service: str = "",
        operation: str = "",
        session: str | None = None,
    ) -> str | None:
        """Check one step AWS takes as ``principal`` without an API call the emulator
        makes; AWS's AccessDenied message (kept in ``emulator.refusals``) or None."""
        if not evaluated(principal):
            return None
        request = actions.Request(action, resource, tuple(sorted((context or {}).items())))
        message = self._refusal(principal, request, session)
        if message is not None:
            prefix, _, name = action.partition(":")
            self.record(service or prefix, operation or name, access_denied(prefix, message))
        return message

    def assume(
        self,
        role_arn: str,
        service_principal: str,
        source_arn: str | None = None,
        *,
        record: str = "",
    ) -> bool:
        """Whether ``service_principal`` may assume ``role_arn`` (its trust policy allows
        sts:AssumeRole with the confused-deputy keys the service sends). A refusal is kept
        in ``emulator.refusals`` as sts:AssumeRole, with ``record`` as its message."""
        role = self._role(role_arn)
        allowed = False
        if role is not None:
            context = {"aws:SourceAccount": self.emulator.account_id}
            if source_arn:
                context["aws:SourceArn"] = source_arn
            allowed = policy.trusts(
                role.assume_role_policy_document, service_principal, context, role_arn=role_arn
            )
        if not allowed:
            text = record or (
                f"{service_principal} is not authorized to perform: sts:AssumeRole on "
                f"resource: {role_arn}"
            )
            self.record("sts", "AssumeRole", ServiceError("AccessDenied", text))
        return allowed

    def record(self, service: str, operation: str, error: ServiceError) -> None:
        from bluegreen.emulator.core import Refusal

        self.emulator.refusals.append(
            Refusal(self.emulator.clock.seconds, service, operation, error.code, error.message)
        )

    # -- sessions ----------------------------------------------------------------------------
    def session_arn(self, role_arn: str, session: str | None = None) -> str:
        """The assumed-role ARN AWS names in its messages:
        arn:aws:sts::<account>:assumed-role/<role name>/<session name>."""
        match = _ROLE.match(role_arn)
        if match is None:
            return role_arn
        account, name = match.group(1), match.group(3)
        return f"arn:aws:sts::{account}:assumed-role/{name}/{session or self._session(role_arn)}"

    def _session(self, role_arn: str) -> str:
        """The session name a service gives its role session. Documented shapes:
        CodeBuild ``AWSCodeBuild-<build uuid>`` (juspay/hyperswitch-cdk#37, aws-cdk#12179),
        CodePipeline a millisecond timestamp (awslabs/cdk-eks-blueprints#483); ECS names
        the task execution role's session after the task id (passed by the caller).
        Otherwise a stable stand-in."""
        role = self._role(role_arn)
        services = _trusted_services(role.assume_role_policy_document) if role else []
        if _CODEBUILD in services:
            codebuild = self.emulator.services.get("codebuild")
            builds = list(getattr(codebuild, "builds", {}).values())
            mine = [b for b in builds if str(b.data.get("serviceRole")) == role_arn]
            if mine:
                running = [b for b in mine if not b.complete] or mine
                return "AWSCodeBuild-" + str(running[-1].id).rsplit(":", 1)[-1]
        if _CODEPIPELINE in services:
            return str(int(self.emulator.now().timestamp() * 1000))
        return hashlib.sha256(role_arn.encode()).hexdigest()[:32]

    # -- evaluation ----------------------------------------------------------------------------
    def _refusal(
        self, principal: str, request: actions.Request, session: str | None = None
    ) -> str | None:
        bundle = self._bundle(principal)
        resource_policy = actions.resource_policy(self.emulator, request)
        key = (request.action, request.resource, request.context, resource_policy or "")
        outcome = None if bundle is None else bundle.decisions.get(key)
        if outcome is None:
            if bundle is None:
                outcome = policy.Outcome(False, "identity-implicit")
            else:
                outcome = policy.decide(
                    bundle.identity,
                    request.action,
                    request.resource,
                    {**self._context(principal), **dict(request.context)},
                    boundary=bundle.boundary,
                    resource_policy=(
                        policy.compile_policy(resource_policy) if resource_policy else None
                    ),
                    caller=self.session_arn(principal, "session"),
                )
                bundle.decisions[key] = outcome
        if outcome.allowed:
            return None
        return message(
            self.session_arn(principal, session), request.action, request.resource, outcome
        )

    def _context(self, principal: str) -> dict[str, str]:
        # Global condition keys every request carries ("AWS global condition context
        # keys"); requests reach AWS over TLS (bluegreen.emulator.motofix).
        return {
            "aws:SecureTransport": "true",
            "aws:PrincipalArn": principal,
            "aws:PrincipalAccount": self.emulator.account_id,
            "aws:PrincipalType": "AssumedRole",
            "aws:RequestedRegion": self.emulator.region,
        }

    def _role(self, role_arn: str) -> Any:
        match = _ROLE.match(role_arn)
        if match is None:
            return None
        iam = self.emulator.backend("iam")
        role = iam.roles.get(_role_id(iam, match.group(3)))
        if role is None or role.arn != role_arn:
            return None
        return role

    def _bundle(self, role_arn: str) -> _Bundle | None:
        """The role's policies, compiled once per version of them: the cache key is the
        text of every document that applies (inline, attached managed at their default
        version, boundary, trust), so any change through the IAM API is seen at once."""
        role = self._role(role_arn)
        if role is None:
            return None
        iam = self.emulator.backend("iam")
        managed = tuple(
            (arn, _default_document(p)) for arn, p in sorted(role.managed_policies.items())
        )
        boundary_arn = role.permissions_boundary_arn
        boundary_text = ""
        if boundary_arn:
            found = iam.managed_policies.get(boundary_arn)
            boundary_text = _default_document(found) if found is not None else "{}"
        key = (
            role_arn,
            tuple(sorted(role.policies.items())),
            managed,
            boundary_arn or "",
            boundary_text,
            str(role.assume_role_policy_document),
        )
        bundle = self._bundles.get(key)
        if bundle is None:
            identity: list[policy.Statement] = []
            for text in [*dict(role.policies).values(), *(doc for _, doc in managed)]:
                identity.extend(policy.compile_policy(text))
            bundle = _Bundle(
                tuple(identity),
                policy.compile_policy(boundary_text) if boundary_arn else None,
                role.assume_role_policy_document,
            )
            self._bundles = {k: v for k, v in self._bundles.items() if k[0] != role_arn}
            self._bundles[key] = bundle
        return bundle


def _role_id(iam: Any, name: str) -> str:
    for role_id, role in iam.roles.items():
        if role.name == name:
            return str(role_id)
    return ""


def _default_document(managed: Any) -> str:
    for version in managed.versions:
        if version.is_default:
            return str(version.document)
    return "{}"


def _trusted_services(document: Any) -> list[str]:
    found: list[str] = []
    try:
        for statement in policy.statements(document):
            principal = statement.get("Principal") or {}
            if isinstance(principal, dict):
                services = principal.get("Service") or []
                found += [services] if isinstance(services, str) else list(services)
    except (ValueError, TypeError, AttributeError):
        return []
    return found


# ----------------------------------------------------------------------------- errors


def message(session_arn: str, action: str, resource: str, outcome: policy.Outcome) -> str:
    """AWS's AccessDenied text ("Troubleshoot access denied error messages"). An action
    without resource-level permissions is refused without "on resource" (the form of
    AWS's answer quoted in aws-samples/multi-tenant-chatbot-using-rag-with-amazon-bedrock#17);
    S3 quotes the resource (S3 User Guide, "Troubleshoot access denied (403 Forbidden)
    errors": 'on "resource-arn"')."""
    where = ""
    if resource != "*":
        shown = f'"{resource}"' if action.startswith("s3:") else resource
        where = f" on resource: {shown}"
    reason = outcome.phrase(action)
    return f"User: {session_arn} is not authorized to perform: {action}{where} {reason}"


_QUERY = {"elbv2", "iam", "sts", "ec2", "s3", "elasticloadbalancing"}


def access_denied(service: str, text: str) -> ServiceError:
    """The service's AccessDenied error for ``text`` (its code and HTTP status)."""
    if service in _QUERY:
        error = ServiceError("AccessDenied", text)
        error.http_status = 403  # type: ignore[attr-defined]
        return error
    error = ServiceError("AccessDeniedException", text)
    error.http_status = 403 if service == "lambda" else 400  # type: ignore[attr-defined]
    return error


_AUTHORIZERS: weakref.WeakKeyDictionary[Emulator, Authorizer] = weakref.WeakKeyDictionary()


def authorizer(emulator: Emulator) -> Authorizer:
    """The emulator's :class:`Authorizer` (one per emulator)."""
    found = _AUTHORIZERS.get(emulator)
    if found is None:
        found = _AUTHORIZERS[emulator] = Authorizer(emulator)
    return found


# ------------------------------------------------------------------------- image pulls

_ECR_IMAGE = re.compile(
    r"^(?P<host>(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com)/"
    r"(?P<repository>[^:@]+)(?::(?P<tag>[^@]+))?(?:@(?P<digest>.+))?$"
)


def image_pull_refusal(task: Any) -> str | None:
    """Why a task's execution role may not pull its images from ECR: the task's stopped
    reason, or None. The pull needs ecr:GetAuthorizationToken, then ecr:BatchGetImage
    and ecr:GetDownloadUrlForLayer on each image's repository, as the task execution role
    on Fargate (ECR User Guide, "Using Amazon ECR images with Amazon ECS": "the Amazon
    ECS, or Fargate, container agent must have permissions to make the ecr:BatchGetImage,
    ecr:GetDownloadUrlForLayer, and ecr:GetAuthorizationToken APIs"). The full
    AccessDenied text, naming the role and the action, is kept in ``emulator.refusals``;
    the reason is what ECS shows:

    - no registry auth: "ResourceInitializationError: unable to pull secrets or registry
      auth: execution resource retrieval failed: unable to retrieve ecr registry auth:
      service call has been retried 3 time(s): AccessDeniedException: User: ..." (the
      Fargate agent's wording, aws/aws-app-mesh-examples#413 and aws/copilot-cli#3104);
    - no manifest: "CannotPullContainerError: pull image manifest has been retried 5
      time(s): failed to resolve ref <image>: pulling from host <registry> failed with
      status code [manifests <tag>]: 403 Forbidden" (aws/aws-cdk#29876, an ECR pull
      refused with 403);
    - no layers: "CannotPullContainerError: ref pull has been retried 1 time(s): failed to
      copy: httpReaderSeeker: failed open: unexpected status code ..." (ECS developer
      guide, "CannotPullContainer task errors": "Fail to copy image").
    """
    from bluegreen.emulator.core import _ACTIVE

    if not _ACTIVE:
        return None
    emulator = _ACTIVE[0]
    definition = getattr(task, "task_definition", None)
    role = str(getattr(definition, "execution_role_arn", "") or "")
    if not role or not evaluated(role):
        return None
    pulls = []
    for container in getattr(task, "containers", []):
        match = _ECR_IMAGE.match(str(getattr(container, "image", "")))
        if match and match["account"] == emulator.account_id and match["region"] == emulator.region:
            pulls.append((str(container.image), match))
    if not pulls:
        return None
    auth = authorizer(emulator)
    session = str(getattr(task, "task_id", "") or "") or None
    denied = auth.require(
        role, "ecr:GetAuthorizationToken", "*", operation="GetAuthorizationToken", session=session
    )
    if denied is not None:
        return (
            "ResourceInitializationError: unable to pull secrets or registry auth: execution "
            "resource retrieval failed: unable to retrieve ecr registry auth: service call "
            f"has been retried 3 time(s): AccessDeniedException: {denied}"
        )
    for image, match in pulls:
        repository = (
            f"arn:aws:ecr:{emulator.region}:{emulator.account_id}:repository/{match['repository']}"
        )
        if auth.require(
            role, "ecr:BatchGetImage", repository, operation="BatchGetImage", session=session
        ):
            reference = match["tag"] or match["digest"] or "latest"
            return (
                "CannotPullContainerError: pull image manifest has been retried 5 time(s): "
                f"failed to resolve ref {image}: pulling from host {match['host']} failed "
                f"with status code [manifests {reference}]: 403 Forbidden"
            )
        if auth.require(
            role,
            "ecr:GetDownloadUrlForLayer",
            repository,
            operation="GetDownloadUrlForLayer",
            session=session,
        ):
            return (
                "CannotPullContainerError: ref pull has been retried 1 time(s): failed to "
                "copy: httpReaderSeeker: failed open: unexpected status code "
                f"https://{match['host']}/v2/{match['repository']}/blobs/: 403 Forbidden"
            )
    return None
