"""botocore errors become :class:`bluegreen.errors.AwsError` with a hint a user can act on.

Every AWS call in :mod:`bluegreen.aws` goes through :func:`call` or :func:`pages`, so a
missing credential, an AccessDenied, throttling that outlived the standard retries, an
expired token or a validation error reads the same everywhere: what failed (the IAM
action, e.g. ``ecs:DescribeServices``), why (AWS's own message) and how to fix it.

:class:`AwsCallError` keeps the AWS error code so callers can branch on the few codes
that are states rather than failures (a stack that "does not exist", an empty branch)
without importing botocore.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    SSOError,
    TokenRetrievalError,
)

from bluegreen.errors import AwsError

CREDENTIALS_HINT = "configure credentials: aws configure / AWS_PROFILE / --profile"

_ACCESS_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
    "UnauthorizedException",
}
_THROTTLED = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
    "ProvisionedThroughputExceededException",
}
_EXPIRED = {
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
}
_VALIDATION = {
    "ValidationError",
    "ValidationException",
    "InvalidParameterException",
    "InvalidParameterValue",
    "InvalidParameterValueException",
    "InvalidParameterCombination",
    "InvalidInputException",
    "InvalidRequestException",
}
_PRINCIPAL = re.compile(r"(?:User|Principal):?\s+(arn:[^\s]+)")


class AwsCallError(AwsError):
    """An AWS call failed; ``code`` is AWS's error code, ``action`` the IAM action."""

    def __init__(self, message: str, hint: str | None, code: str, action: str) -> None:
        super().__init__(message, hint)
        self.code = code
        self.action = action


def action_name(client: Any, method: str) -> str:
    """The IAM action of ``client.method``, e.g. ``elasticloadbalancing:DescribeListeners``."""
    meta = getattr(client, "meta", None)
    if meta is None:
        return method
    operation = meta.method_to_api_mapping.get(method, method)
    prefix = meta.service_model.signing_name or meta.service_model.endpoint_prefix
    return f"{prefix}:{operation}"


def translate(exc: Exception, action: str) -> AwsCallError:
    """The tool's error for a botocore exception raised by ``action``."""
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return AwsCallError(
            f"no AWS credentials found for {action}", CREDENTIALS_HINT, "NoCredentials", action
        )
    if isinstance(exc, ProfileNotFound):
        return AwsCallError(
            f"AWS profile not found: {exc}",
            "check the name given to --profile or AWS_PROFILE (aws configure list-profiles)",
            "ProfileNotFound",
            action,
        )
    if isinstance(exc, TokenRetrievalError | SSOError):
        # SSOError covers UnauthorizedSSOTokenError (expired) and SSOTokenLoadError (no
        # cached token: never logged in, or the cache was cleared).
        return AwsCallError(
            f"no valid AWS SSO session for {action} (expired or not logged in)",
            "log in again: aws sso login (with --profile if you use one)",
            "ExpiredToken",
            action,
        )
    if isinstance(exc, NoRegionError):
        return AwsCallError(
            "no AWS region configured", "pass --region or set project.region", "NoRegion", action
        )
    if isinstance(exc, EndpointConnectionError):
        return AwsCallError(
            f"cannot reach the AWS endpoint for {action}: {exc}",
            "check the network connection, a proxy, and that the region exists",
            "EndpointConnectionError",
            action,
        )
    if isinstance(exc, ClientError):
        return _client_error(exc, action)
    if isinstance(exc, BotoCoreError):
        return AwsCallError(f"{action} failed: {exc}", None, type(exc).__name__, action)
    return AwsCallError(f"{action} failed: {exc}", None, type(exc).__name__, action)


def _client_error(exc: ClientError, action: str) -> AwsCallError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    message = str(error.get("Message", "")).strip() or code
    if code in _ACCESS_DENIED:
        match = _PRINCIPAL.search(message)
        who = match.group(1) if match else "your credentials"
        return AwsCallError(
            f"access denied: {who} may not call {action}",
            f"grant {action} to {who} (an IAM policy), or use other credentials "
            f"with --profile; AWS said: {message}",
            code,
            action,
        )
    if code in _THROTTLED:
        return AwsCallError(
            f"AWS throttled {action} even after retries ({code})",
            "wait a minute and run the command again; other tools may be calling the same API",
            code,
            action,
        )
    if code in _EXPIRED:
        return AwsCallError(
            f"the AWS credentials were rejected for {action}: {message}",
            "the session token has expired or the keys are wrong: refresh them "
            "(aws sso login / new temporary credentials) and retry",
            code,
            action,
        )
    if code in _VALIDATION:
        return AwsCallError(f"{action} was rejected: {message}", None, code, action)
    return AwsCallError(f"{action} failed: {code}: {message}", None, code, action)


def call(client: Any, method: str, **kwargs: Any) -> dict[str, Any]:
    """``client.method(**kwargs)`` with botocore errors turned into :class:`AwsCallError`."""
    try:
        result: dict[str, Any] = getattr(client, method)(**kwargs)
    except (BotoCoreError, ClientError) as exc:
        raise translate(exc, action_name(client, method)) from exc
    return result


def pages(client: Any, method: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every page of a paginated call, with the same error translation as :func:`call`."""
    action = action_name(client, method)
    try:
        paginator = client.get_paginator(method)
        yield from paginator.paginate(**kwargs)
    except (BotoCoreError, ClientError) as exc:
        raise translate(exc, action) from exc
