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

import html
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
    SSOError,
    TokenRetrievalError,
)
from botocore.parsers import ResponseParserError

from bluegreen.errors import AwsError

CREDENTIALS_HINT = "configure credentials: aws configure / AWS_PROFILE / --profile"

_ACCESS_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
    "UnauthorizedException",
}
# The codes botocore's standard mode retries as throttling (botocore/retries/standard.py,
# ThrottledRetryableChecker), so they reach us only once its attempts are spent, except
# LimitExceededException: in every service bluegreen calls (CloudFormation, CodePipeline,
# ECS, ECR, CloudWatch Logs, EventBridge, CodeConnections; IAM says "LimitExceeded") it is
# a quota ("The quota for the resource has already been reached": CloudFormation API
# reference), which waiting does not lift (the Go SDK stopped treating it as throttling:
# aws/aws-sdk-go#1276). It reads as a failure with AWS's message.
# PriorRequestNotComplete is ELBv2's and Route 53's "a prior request has not been
# completed", EC2ThrottledException Lambda's (EC2 throttled it),
# TransactionInProgressException DynamoDB's: all pass by waiting, as throttling does.
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
    "BandwidthLimitExceeded",
    "EC2ThrottledException",
    "PriorRequestNotComplete",
    "TransactionInProgressException",
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
_NETWORK_HINT = (
    "check the network connection, a VPN or proxy (HTTPS_PROXY, NO_PROXY), "
    "AWS_ENDPOINT_URL or the profile's endpoint_url, and that the region exists"
)
_NOT_AWS_HINT = (
    "something other than AWS answered (a proxy, a gateway or a wrong endpoint): "
    "check HTTPS_PROXY/NO_PROXY and AWS_ENDPOINT_URL or the profile's endpoint_url"
)
# An AWS XML error body (query protocol), also what some gateways send a JSON service.
_XML_CODE = re.compile(r"<Code>\s*([^<]+?)\s*</Code>")
_XML_MESSAGE = re.compile(r"<Message>\s*([^<]*?)\s*</Message>", re.DOTALL)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


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


def one_line(text: str, limit: int = 300) -> str:
    """``text`` on one line (whitespace collapsed), at most ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3].rstrip() + "..."


def page_summary(body: str) -> str:
    """What an HTML (or other markup) page says, in a few words: its title, else its text."""
    match = _TITLE.search(body)
    text = match.group(1) if match else _TAG.sub(" ", body)
    return one_line(html.unescape(text), 100) or "an empty page"


def _body_of(exc: Exception) -> str:
    """The body quoted by a ResponseParserError: "Unable to parse response (...), invalid
    XML received. Further retries may succeed:\\n<the body's bytes, repr'd>"."""
    quoted = str(exc).split("\n", 1)[-1]
    return quoted.replace("\\n", " ").replace("\\t", " ")


def _endpoint_of(exc: Exception, endpoint: str | None) -> str:
    url = getattr(exc, "kwargs", {}).get("endpoint_url") or endpoint or ""
    return str(url)


def translate(exc: Exception, action: str, endpoint: str | None = None) -> AwsCallError:
    """The tool's error for a botocore exception raised by ``action`` (``endpoint``: the
    client's endpoint URL, named in network and non-AWS-answer errors)."""
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
    if isinstance(exc, ReadTimeoutError):
        url = _endpoint_of(exc, endpoint)
        host = urlsplit(url).hostname or url
        return AwsCallError(
            f"the AWS endpoint {url} did not answer {action} in time (read timeout)",
            f"{host} accepts connections but does not answer: {_NETWORK_HINT}",
            "ReadTimeout",
            action,
        )
    if isinstance(exc, ConnectTimeoutError):
        url = _endpoint_of(exc, endpoint)
        host = urlsplit(url).hostname or url
        return AwsCallError(
            f"cannot connect to the AWS endpoint {url} for {action} (connect timeout)",
            f"nothing answers at {host}: {_NETWORK_HINT}",
            "ConnectTimeout",
            action,
        )
    if isinstance(exc, EndpointConnectionError):
        return AwsCallError(
            f"cannot reach the AWS endpoint for {action}: {exc}",
            _NETWORK_HINT,
            "EndpointConnectionError",
            action,
        )
    if isinstance(exc, ConnectionClosedError):
        return AwsCallError(
            f"the AWS endpoint {_endpoint_of(exc, endpoint)} closed the connection during {action}",
            _NETWORK_HINT,
            "ConnectionClosed",
            action,
        )
    if isinstance(exc, ResponseParserError):
        # botocore could not parse the body as AWS's XML or JSON (botocore/parsers.py);
        # the message ends with the body's first bytes.
        where = f" {endpoint}" if endpoint else ""
        return AwsCallError(
            f"{action} failed: the endpoint{where} answered with something that is not an "
            f"AWS response ({page_summary(_body_of(exc))})",
            _NOT_AWS_HINT,
            "UnparsableResponse",
            action,
        )
    if isinstance(exc, ClientError):
        return _client_error(exc, action, endpoint)
    if isinstance(exc, BotoCoreError):
        return AwsCallError(
            f"{action} failed: {one_line(str(exc))}", None, type(exc).__name__, action
        )
    return AwsCallError(f"{action} failed: {one_line(str(exc))}", None, type(exc).__name__, action)


def _client_error(exc: ClientError, action: str, endpoint: str | None = None) -> AwsCallError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    raw = str(error.get("Message", "")).strip()
    if code.isdigit() and raw.startswith("<"):
        # botocore could not read an AWS error from the body and fell back to the HTTP
        # status as the code and the raw body as the message (botocore/parsers.py).
        found = _XML_CODE.search(raw)
        if found:  # an AWS XML error where JSON was expected: read it
            code = found.group(1)
            said = _XML_MESSAGE.search(raw)
            raw = html.unescape(said.group(1)) if said else code
        else:  # an HTML page: a proxy's or a gateway's, not AWS's
            where = f" from {endpoint}" if endpoint else ""
            return AwsCallError(
                f"{action} failed: HTTP {code}{where}: {page_summary(raw)} "
                "(an HTML page, not an AWS answer)",
                _NOT_AWS_HINT,
                code,
                action,
            )
    message = one_line(raw) or code
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
    except (BotoCoreError, ClientError, ResponseParserError) as exc:
        raise translate(exc, action_name(client, method), _endpoint(client)) from exc
    return result


def pages(client: Any, method: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every page of a paginated call, with the same error translation as :func:`call`."""
    action = action_name(client, method)
    try:
        paginator = client.get_paginator(method)
        yield from paginator.paginate(**kwargs)
    except (BotoCoreError, ClientError, ResponseParserError) as exc:
        raise translate(exc, action, _endpoint(client)) from exc


def _endpoint(client: Any) -> str | None:
    url = getattr(getattr(client, "meta", None), "endpoint_url", None)
    return url if isinstance(url, str) else None
