"""aws/errors.py: what a user reads for each kind of failed AWS call.

Every AWS error code below is one a service documents: the common errors of the AWS APIs
(e.g. https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html and
each service's "Common Errors" page: AccessDeniedException, ThrottlingException,
ExpiredTokenException, IncompleteSignature, InvalidClientTokenId, RequestExpired,
ValidationError...), S3's SlowDown, DynamoDB's ProvisionedThroughputExceededException. The
botocore exceptions are built the way botocore raises them (botocore/exceptions.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PaginationError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
    SSOTokenLoadError,
    TokenRetrievalError,
    UnauthorizedSSOTokenError,
)
from botocore.parsers import ResponseParserError
from botocore.retries.standard import ThrottledRetryableChecker
from network_support import answering, no_credentials
from test_aws_support import REGION, Stubs

from bluegreen.aws import errors
from bluegreen.aws.errors import AwsCallError, call, one_line, page_summary, pages, translate
from bluegreen.aws.session import Clients

ACTION = "ecs:DescribeServices"
URL = "https://ecs.ap-northeast-1.amazonaws.com"
NETWORK = (
    "check the network connection, a VPN or proxy (HTTPS_PROXY, NO_PROXY), "
    "AWS_ENDPOINT_URL or the profile's endpoint_url, and that the region exists"
)
NOT_AWS = (
    "something other than AWS answered (a proxy, a gateway or a wrong endpoint): "
    "check HTTPS_PROXY/NO_PROXY and AWS_ENDPOINT_URL or the profile's endpoint_url"
)


def refused(code: str, message: str = "it said no") -> AwsCallError:
    return translate(ClientError({"Error": {"Code": code, "Message": message}}, "X"), ACTION)


COMMON_ERRORS = "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/CommonErrors.html"
EC2_ERRORS = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html"
S3_ERRORS = "https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html"

# Each code with where it is defined: a service whose botocore model has it as an error
# shape (checked below), else the page that documents it (the common errors of the
# signed AWS APIs are in no model).
ACCESS_DENIED = {
    "AccessDenied": "s3",
    "AccessDeniedException": "ecs",
    "UnauthorizedOperation": EC2_ERRORS,
    "AuthorizationError": "sns",
    "UnauthorizedException": "amplify",
}
EXPIRED = {
    "ExpiredToken": S3_ERRORS,
    "ExpiredTokenException": "sts",
    "RequestExpired": COMMON_ERRORS,
    "InvalidClientTokenId": COMMON_ERRORS,
    "UnrecognizedClientException": "logs",
    "SignatureDoesNotMatch": S3_ERRORS,
    # A JSON service's (Lambda's) answer to a bad signature, as recorded in
    # https://gist.github.com/alexmchale/b98a4fd4b78ce5f245a62b40038e9947 (no AWS page).
    "InvalidSignatureException": "https://gist.github.com/alexmchale/b98a4fd4b78ce5f245a62b40038e9947",
}
VALIDATION = {
    "ValidationError": "cloudwatch",
    "ValidationException": "codepipeline",
    "InvalidParameterException": "ecs",
    "InvalidParameterValue": "cloudwatch",
    "InvalidParameterValueException": "lambda",
    "InvalidParameterCombination": "cloudwatch",
    "InvalidInputException": "codedeploy",
    "InvalidRequestException": "secretsmanager",
}
# What botocore's standard retry mode retries as throttling (the mode bluegreen's clients
# use: aws/session.py), so what reaches bluegreen once the retries are spent, less:
NOT_THROTTLING = {
    # A quota in every service bluegreen calls, e.g. CloudFormation's "The quota for the
    # resource has already been reached" (its model's LimitExceededException; botocore
    # reference, CloudFormation.Client.exceptions.LimitExceededException), CodePipeline's
    # "The number of pipelines ... has exceeded the limit", ECS's "The limit for the
    # resource was exceeded": waiting does not lift it (the Go SDK stopped retrying it as
    # throttling for that reason, aws/aws-sdk-go#1276).
    "LimitExceededException",
}
THROTTLED = sorted(set(ThrottledRetryableChecker._THROTTLED_ERROR_CODES) - NOT_THROTTLING)


def _error_codes(service: str) -> set[str]:
    model = botocore.session.get_session().get_service_model(service)
    return {shape.error_code or shape.name for shape in model.error_shapes}


@pytest.mark.parametrize(
    ("code", "where"),
    [
        (code, where)
        for table in (ACCESS_DENIED, EXPIRED, VALIDATION)
        for code, where in table.items()
        if not where.startswith("https://")
    ],
)
def test_each_code_is_an_error_of_the_service_named_as_its_source(code: str, where: str) -> None:
    assert code in _error_codes(where)


def test_limit_exceeded_is_a_quota_in_the_services_bluegreen_calls() -> None:
    for service in ("cloudformation", "codepipeline", "ecs", "ecr", "logs", "events"):
        assert "LimitExceededException" in _error_codes(service), service
    error = refused("LimitExceededException", "The quota for the resource has been reached.")
    assert error.message == (
        f"{ACTION} failed: LimitExceededException: The quota for the resource has been reached."
    )
    assert (error.hint, error.code) == (None, "LimitExceededException")


@pytest.mark.parametrize("code", ACCESS_DENIED)
def test_every_access_denied_code_says_who_may_not_call_what(code: str) -> None:
    error = refused(code, "User: arn:aws:iam::123456789012:user/dev is not authorized")
    assert error.message == (
        f"access denied: arn:aws:iam::123456789012:user/dev may not call {ACTION}"
    )
    assert error.hint == (
        f"grant {ACTION} to arn:aws:iam::123456789012:user/dev (an IAM policy), or use other "
        "credentials with --profile; AWS said: User: arn:aws:iam::123456789012:user/dev "
        "is not authorized"
    )
    assert (error.code, error.action) == (code, ACTION)


def test_access_denied_without_a_principal_names_your_credentials() -> None:
    # Some services say only "Access Denied" (S3) or name the principal as "Principal".
    plain = refused("AccessDenied", "Access Denied")
    assert plain.message == f"access denied: your credentials may not call {ACTION}"
    assert plain.hint is not None and plain.hint.startswith(f"grant {ACTION} to your credentials")
    named = refused("AccessDenied", "Principal arn:aws:sts::1:assumed-role/r/s is denied")
    assert named.message == f"access denied: arn:aws:sts::1:assumed-role/r/s may not call {ACTION}"


@pytest.mark.parametrize("code", THROTTLED)
def test_every_throttling_code_says_to_wait(code: str) -> None:
    error = refused(code)
    assert error.message == f"AWS throttled {ACTION} even after retries ({code})"
    assert error.hint == (
        "wait a minute and run the command again; other tools may be calling the same API"
    )
    assert error.code == code


@pytest.mark.parametrize("code", EXPIRED)
def test_every_rejected_credentials_code_says_to_refresh_them(code: str) -> None:
    error = refused(code, "The security token included in the request is expired")
    assert error.message == (
        f"the AWS credentials were rejected for {ACTION}: "
        "The security token included in the request is expired"
    )
    assert error.hint == (
        "the session token has expired or the keys are wrong: refresh them "
        "(aws sso login / new temporary credentials) and retry"
    )
    assert error.code == code


@pytest.mark.parametrize("code", VALIDATION)
def test_every_validation_code_is_a_rejection_without_a_hint(code: str) -> None:
    error = refused(code, "  1 validation error\n detected  ")
    assert error.message == f"{ACTION} was rejected: 1 validation error detected"
    assert error.hint is None
    assert error.code == code


def test_another_code_is_passed_on_with_aws_message_or_the_code_alone() -> None:
    error = refused("ServiceNotFoundException", "Service not found.")
    assert error.message == f"{ACTION} failed: ServiceNotFoundException: Service not found."
    assert (error.hint, error.code) == (None, "ServiceNotFoundException")
    bare = translate(ClientError({"Error": {"Code": "Boom"}}, "X"), ACTION)
    assert bare.message == f"{ACTION} failed: Boom: Boom"
    unknown = translate(ClientError({}, "X"), ACTION)
    assert unknown.code == "Unknown"
    assert unknown.message == f"{ACTION} failed: Unknown: Unknown"


def test_an_html_page_with_a_numeric_code_is_not_an_aws_answer() -> None:
    page = "<html><head><title>403 Forbidden</title></head><body>no</body></html>"
    error = translate(
        ClientError({"Error": {"Code": "403", "Message": f"  {page}"}}, "X"), ACTION, URL
    )
    assert error.message == (
        f"{ACTION} failed: HTTP 403 from {URL}: 403 Forbidden (an HTML page, not an AWS answer)"
    )
    assert (error.hint, error.code) == (NOT_AWS, "403")
    nowhere = translate(ClientError({"Error": {"Code": "403", "Message": page}}, "X"), ACTION)
    assert nowhere.message == (
        f"{ACTION} failed: HTTP 403: 403 Forbidden (an HTML page, not an AWS answer)"
    )


def test_a_numeric_code_with_text_that_is_not_markup_is_passed_on() -> None:
    error = refused("500", "Internal failure")
    assert error.message == f"{ACTION} failed: 500: Internal failure"
    named = refused("Oops", "<b>not a page</b>")  # a code that is not an HTTP status
    assert named.message == f"{ACTION} failed: Oops: <b>not a page</b>"


def test_an_xml_error_body_gives_its_code_and_decoded_message() -> None:
    body = (
        "<ErrorResponse><Error><Code> Throttling </Code><Message>\n Rate &amp; burst "
        "exceeded </Message></Error></ErrorResponse>"
    )
    error = translate(ClientError({"Error": {"Code": "400", "Message": body}}, "X"), ACTION)
    assert error.code == "Throttling"
    assert error.message == f"AWS throttled {ACTION} even after retries (Throttling)"
    validation = "<Error><Code>ValidationError</Code><Message>a &lt;b&gt;\nline</Message></Error>"
    said = translate(ClientError({"Error": {"Code": "400", "Message": validation}}, "X"), ACTION)
    assert said.message == f"{ACTION} was rejected: a <b> line"
    silent = translate(
        ClientError({"Error": {"Code": "400", "Message": "<Code>Teapot</Code>"}}, "X"), ACTION
    )
    assert silent.message == f"{ACTION} failed: Teapot: Teapot"


def test_credentials_profile_sso_and_region_errors() -> None:
    # botocore raises these before a request is sent (botocore/exceptions.py).
    for exc in (NoCredentialsError(), PartialCredentialsError(provider="env", cred_var="k")):
        error = translate(exc, ACTION)
        assert error.message == f"no AWS credentials found for {ACTION}"
        assert error.hint == "configure credentials: aws configure / AWS_PROFILE / --profile"
        assert error.code == "NoCredentials"
    profile = translate(ProfileNotFound(profile="dev"), ACTION)
    assert profile.message == "AWS profile not found: The config profile (dev) could not be found"
    assert profile.hint == (
        "check the name given to --profile or AWS_PROFILE (aws configure list-profiles)"
    )
    assert profile.code == "ProfileNotFound"
    for sso in (
        TokenRetrievalError(provider="sso", error_msg="expired"),
        UnauthorizedSSOTokenError(),
        SSOTokenLoadError(error_msg="no cache"),
    ):
        error = translate(sso, ACTION)
        assert error.message == f"no valid AWS SSO session for {ACTION} (expired or not logged in)"
        assert error.hint == "log in again: aws sso login (with --profile if you use one)"
        assert error.code == "ExpiredToken"
    region = translate(NoRegionError(), ACTION)
    assert (region.message, region.hint, region.code) == (
        "no AWS region configured",
        "pass --region or set project.region",
        "NoRegion",
    )


def test_timeouts_name_the_endpoint_and_its_host() -> None:
    read = translate(ReadTimeoutError(endpoint_url=URL + "/"), ACTION)
    assert read.message == (
        f"the AWS endpoint {URL}/ did not answer {ACTION} in time (read timeout)"
    )
    assert read.hint == (
        f"ecs.ap-northeast-1.amazonaws.com accepts connections but does not answer: {NETWORK}"
    )
    assert read.code == "ReadTimeout"
    # Without the URL in the exception, the client's endpoint is named.
    fallback = translate(ReadTimeoutError(endpoint_url=""), ACTION, "http://127.0.0.1:5000")
    assert fallback.message.startswith("the AWS endpoint http://127.0.0.1:5000 did not answer")
    assert fallback.hint is not None and fallback.hint.startswith("127.0.0.1 accepts")
    connect = translate(ConnectTimeoutError(endpoint_url="weird"), ACTION)
    assert connect.hint == f"nothing answers at weird: {NETWORK}"  # not a URL: said as is


def test_refused_and_closed_connections() -> None:
    refused_ = translate(EndpointConnectionError(endpoint_url=URL), ACTION)
    assert refused_.message == (
        f"cannot reach the AWS endpoint for {ACTION}: "
        f'Could not connect to the endpoint URL: "{URL}"'
    )
    assert (refused_.hint, refused_.code) == (NETWORK, "EndpointConnectionError")
    closed = translate(ConnectionClosedError(endpoint_url=URL), ACTION)
    assert closed.message == f"the AWS endpoint {URL} closed the connection during {ACTION}"
    assert (closed.hint, closed.code) == (NETWORK, "ConnectionClosed")


def test_an_unparsable_body_is_summarized() -> None:
    exc = ResponseParserError(
        "Unable to parse response (syntax error), invalid XML received. Further retries "
        "may succeed:\\nb'<html>\\n\\t<title>Bad\\tGateway</title></html>'"
    )
    error = translate(exc, ACTION, URL)
    assert error.message == (
        f"{ACTION} failed: the endpoint {URL} answered with something that is not an AWS "
        "response (Bad Gateway)"
    )
    assert (error.hint, error.code) == (NOT_AWS, "UnparsableResponse")
    anonymous = translate(exc, ACTION)
    assert anonymous.message.startswith(f"{ACTION} failed: the endpoint answered with")


def test_other_botocore_and_python_errors_keep_their_class_name() -> None:
    error = translate(PaginationError(message="bad\n  token"), ACTION)
    assert (error.message, error.hint, error.code) == (
        f"{ACTION} failed: Error during pagination: bad token",
        None,
        "PaginationError",
    )
    other = translate(RuntimeError("x" * 400), ACTION)
    assert other.message == f"{ACTION} failed: " + "x" * 297 + "..."
    assert other.code == "RuntimeError"


def test_one_line_keeps_exactly_the_limit() -> None:
    assert one_line("a  b\n c") == "a b c"
    assert one_line("x" * 300) == "x" * 300
    assert one_line("x" * 301) == "x" * 297 + "..."
    assert one_line("abc def", 6) == "abc..."
    assert one_line("abcd  efgh", 8) == "abcd..."  # the cut's trailing space is dropped


def test_page_summary_cuts_a_long_title_to_100_characters() -> None:
    title = "t" * 150
    assert page_summary(f"<TITLE lang='en'>{title}</TITLE>") == "t" * 97 + "..."
    assert page_summary("<title>\n  Bad\n Gateway </title>") == "Bad Gateway"


def test_the_action_is_the_iam_action_of_the_method() -> None:
    s = Stubs()
    assert errors.action_name(s.client("ecs"), "describe_services") == "ecs:DescribeServices"
    # signing name, not endpoint prefix: elbv2's IAM prefix is elasticloadbalancing
    assert (
        errors.action_name(s.client("elbv2"), "describe_target_health")
        == "elasticloadbalancing:DescribeTargetHealth"
    )
    assert errors.action_name(object(), "anything") == "anything"


def test_call_and_pages_translate_with_the_action_and_endpoint() -> None:
    s = Stubs()
    s.error("codedeploy", "list_deployments", "ThrottlingException", "slow", status=400)
    with pytest.raises(AwsCallError) as paged:
        list(pages(s.client("codedeploy"), "list_deployments", applicationName="a"))
    assert paged.value.action == "codedeploy:ListDeployments"
    assert paged.value.__cause__ is not None
    s.error("ecs", "describe_services", "ServerException", "boom", status=400)
    with pytest.raises(AwsCallError) as called:
        call(s.client("ecs"), "describe_services", services=["x"])
    assert called.value.message == "ecs:DescribeServices failed: ServerException: boom"
    s.add("ecs", "describe_services", {"services": []}, {"services": ["y"]})
    answer: dict[str, Any] = call(s.client("ecs"), "describe_services", services=["y"])
    assert answer["services"] == []
    s.done()


def test_the_client_endpoint_is_named_only_when_it_is_a_string() -> None:
    class Meta:
        endpoint_url = "http://127.0.0.1:1"

    class Client:
        meta = Meta()

    assert errors._endpoint(Client()) == "http://127.0.0.1:1"
    Meta.endpoint_url = None  # type: ignore[assignment]
    assert errors._endpoint(Client()) is None
    assert errors._endpoint(object()) is None


def test_a_paginated_call_answered_by_a_proxy_names_the_endpoint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A proxy's 403 page for a JSON service: botocore gives the HTTP status as the code
    # and the page as the message; a 4xx is not retried (botocore/retries/standard.py).
    no_credentials(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    page = b"<html><head><title>403 Forbidden</title></head></html>"
    with answering(403, "text/html", page) as (url, got):
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        client = Clients(REGION).codedeploy
        with pytest.raises(AwsCallError) as info:
            list(pages(client, "list_deployments", applicationName="a"))
    assert len(got) == 1
    assert info.value.message == (
        f"codedeploy:ListDeployments failed: HTTP 403 from {url}: 403 Forbidden "
        "(an HTML page, not an AWS answer)"
    )


@pytest.mark.parametrize(
    "exc",
    [
        NoCredentialsError(),
        ProfileNotFound(profile="dev"),
        UnauthorizedSSOTokenError(),
        NoRegionError(),
        ReadTimeoutError(endpoint_url=URL),
        ConnectTimeoutError(endpoint_url=URL),
        EndpointConnectionError(endpoint_url=URL),
        ConnectionClosedError(endpoint_url=URL),
        ResponseParserError("Unable to parse response:\nb'<html></html>'"),
        ClientError({"Error": {"Code": "502", "Message": "<html></html>"}}, "X"),
        ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "X"),
        ClientError({"Error": {"Code": "Throttling", "Message": "slow"}}, "X"),
        ClientError({"Error": {"Code": "ExpiredToken", "Message": "old"}}, "X"),
        ClientError({"Error": {"Code": "ValidationError", "Message": "bad"}}, "X"),
        ClientError({"Error": {"Code": "Other", "Message": "x"}}, "X"),
        PaginationError(message="bad token"),
        RuntimeError("boom"),
    ],
    ids=lambda exc: type(exc).__name__,
)
def test_every_error_keeps_the_action_it_failed(exc: Exception) -> None:
    # Callers branch on .code and name .action (e.g. the IAM action to grant).
    assert translate(exc, ACTION, URL).action == ACTION
