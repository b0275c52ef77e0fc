"""The network going wrong, with real sockets on 127.0.0.1: an endpoint that accepts and
never answers (a dead VPN, a black-holing proxy), a closed port, a proxy answering an
HTML error page, a malformed endpoint URL, an unknown profile, and a real Ctrl-C.

Nothing here is stubbed: the clients are real botocore clients, pointed at the local
sockets with AWS_ENDPOINT_URL (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html).
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, ConnectTimeoutError
from network_support import answering, no_credentials

from bluegreen.aws import session
from bluegreen.aws.errors import AwsCallError, call, page_summary, translate
from bluegreen.aws.session import NETWORK_ATTEMPTS, Clients
from bluegreen.cli.app import main

REGION = "ap-northeast-1"


class BlackHole:
    """A listener on 127.0.0.1 that accepts every connection and never answers."""

    def __init__(self) -> None:
        self._server = socket.socket()
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(16)
        self._server.settimeout(0.1)
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"

    @property
    def accepted(self) -> int:
        return len(self._held)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            self._held.append(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for conn in self._held:
            conn.close()
        self._server.close()


@contextmanager
def black_hole() -> Iterator[BlackHole]:
    hole = BlackHole()
    try:
        yield hole
    finally:
        hole.close()


def closed_port() -> str:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now: connecting is refused at once
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No AWS configuration of the machine leaks in; fake keys, so calls get signed."""
    no_credentials(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return monkeypatch


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "bluegreen.toml"
    path.write_text('[project]\nname = "sample3"\n', encoding="utf-8")
    return path


def test_a_black_hole_fails_the_call_after_two_read_timeouts(
    aws_env: pytest.MonkeyPatch,
) -> None:
    with black_hole() as hole:
        aws_env.setenv("AWS_ENDPOINT_URL", hole.url)
        clients = Clients(REGION, connect_timeout=1.0, read_timeout=0.5)
        with pytest.raises(AwsCallError) as info:
            call(clients.cloudformation, "describe_stacks", StackName="x")
        attempts = hole.accepted
    # A timed-out connection is dropped, so every attempt is a new connection: the call
    # gives up after NETWORK_ATTEMPTS reads (how long that takes is bench/ business).
    assert attempts == NETWORK_ATTEMPTS == 2
    assert info.value.code == "ReadTimeout"
    assert info.value.message == (
        f"the AWS endpoint {hole.url}/ did not answer cloudformation:DescribeStacks in time "
        "(read timeout)"
    )
    assert info.value.hint is not None
    assert info.value.hint.startswith("127.0.0.1 accepts connections but does not answer: ")


def test_the_default_budget_fails_an_unresponsive_endpoint_within_a_minute() -> None:
    # NETWORK_ATTEMPTS reads of READ_TIMEOUT each plus standard mode's non-throttling
    # backoff (rand * 0.05 s * 2**i, botocore/retries/standard.py ExponentialBackoff).
    backoff = sum(0.05 * 2**i for i in range(NETWORK_ATTEMPTS - 1))
    assert NETWORK_ATTEMPTS * session.READ_TIMEOUT + backoff < 60
    assert NETWORK_ATTEMPTS * session.CONNECT_TIMEOUT + backoff < 60
    config = session.client_config()
    assert (config.connect_timeout, config.read_timeout) == (10.0, 25.0)
    assert config.retries == {"total_max_attempts": 9, "mode": "standard"}


def test_a_closed_port_fails_fast(aws_env: pytest.MonkeyPatch) -> None:
    url = closed_port()
    aws_env.setenv("AWS_ENDPOINT_URL", url)
    with pytest.raises(AwsCallError) as info:
        call(Clients(REGION).ecs, "list_clusters")
    assert info.value.code == "EndpointConnectionError"
    assert info.value.message == (
        f"cannot reach the AWS endpoint for ecs:ListClusters: Could not connect to the "
        f'endpoint URL: "{url}/"'
    )


def test_status_against_a_black_hole_is_one_line_with_a_hint(
    aws_env: pytest.MonkeyPatch, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    aws_env.setattr(session, "READ_TIMEOUT", 0.5)
    with black_hole() as hole:
        aws_env.setenv("AWS_ENDPOINT_URL", hole.url)
        code = main(["status", "--config", str(project)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.splitlines() == [
        f"error: the AWS endpoint {hole.url}/ did not answer cloudformation:DescribeStacks "
        "in time (read timeout)",
        "  hint: 127.0.0.1 accepts connections but does not answer: check the network "
        "connection, a VPN or proxy (HTTPS_PROXY, NO_PROXY), AWS_ENDPOINT_URL or the "
        "profile's endpoint_url, and that the region exists",
    ]


def test_a_real_ctrl_c_exits_130_and_says_what_was_left(project: Path, tmp_path: Path) -> None:
    """SIGINT to a real process, with the typer version installed: the message and 130."""
    env = {
        key: value for key, value in __import__("os").environ.items() if not key.startswith("AWS_")
    }
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    with black_hole() as hole:
        env["AWS_ENDPOINT_URL"] = hole.url
        process = subprocess.Popen(
            [sys.executable, "-m", "bluegreen", "status", "--watch", "--config", str(project)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 30
            while hole.accepted == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert hole.accepted == 1, "the command reached the endpoint"
            process.send_signal(signal.SIGINT)  # inside the first call, waiting to read
            out, err = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert process.returncode == 130
    assert out == ""
    assert err == "interrupted: nothing left running (status --watch only reads)\n"


HTML_502 = (
    b"<!doctype html>\n<html><head><title>502 Bad Gateway</title></head>\n"
    b"<body><h1>Bad Gateway</h1>\n<p>The proxy server received an invalid response.</p>"
    b"</body></html>\n"
)


def test_a_proxy_error_page_is_summarized_in_one_line(aws_env: pytest.MonkeyPatch) -> None:
    # What a corporate proxy (or moto for an unimplemented call, ops-live review E1/E6)
    # answers: an HTML page. botocore gives a JSON service's ClientError the HTTP status
    # as its code and the raw page as its message, and cannot parse it at all for an XML
    # (query protocol) service (ResponseParserError).
    aws_env.setattr(session, "MAX_ATTEMPTS", 3)  # 5xx are retried; keep the test short
    with answering(502, "text/html", HTML_502) as (url, got):
        aws_env.setenv("AWS_ENDPOINT_URL", url)
        clients = Clients(REGION)
        with pytest.raises(AwsCallError) as json_service:
            call(clients.codepipeline, "get_pipeline_state", name="p")
        tries = len(got)
        with pytest.raises(AwsCallError) as xml_service:
            call(clients.cloudformation, "describe_stacks", StackName="x")
    assert tries == 3  # a 5xx answer keeps the MAX_ATTEMPTS budget, not NETWORK_ATTEMPTS
    assert json_service.value.message == (
        f"codepipeline:GetPipelineState failed: HTTP 502 from {url}: 502 Bad Gateway "
        "(an HTML page, not an AWS answer)"
    )
    assert xml_service.value.code == "UnparsableResponse"
    assert xml_service.value.message == (
        f"cloudformation:DescribeStacks failed: the endpoint {url} answered with something "
        "that is not an AWS response (502 Bad Gateway)"
    )
    for error in (json_service.value, xml_service.value):
        assert error.hint is not None and error.hint.startswith("something other than AWS")
        assert "\n" not in error.message


def test_a_page_without_a_title_is_summarized_by_its_text() -> None:
    # A bare error page (some proxies answer with no <title>): its text, tags dropped
    # between words, entities decoded.
    page = "<html><body><h1>Forbidden</h1><p>Ports 80&amp;443 blocked</p></body>"
    assert page_summary(page) == "Forbidden Ports 80&443 blocked"
    assert page_summary("<p></p>") == "an empty page"


def test_an_xml_error_for_a_json_service_is_read() -> None:
    # A gateway (or moto with IAM enforcement, ops-live review E9) answering a JSON-protocol
    # service with AWS's XML error body: botocore leaves the XML as the message.
    body = (
        "<ErrorResponse><Error><Code>AccessDenied</Code><Message>User: "
        "arn:aws:iam::123456789012:user/limited is not authorized to perform: "
        "ecs:DescribeServices</Message></Error></ErrorResponse>"
    )
    exc = ClientError({"Error": {"Code": "403", "Message": body}}, "DescribeServices")
    error = translate(exc, "ecs:DescribeServices")
    assert error.code == "AccessDenied"
    assert error.message == (
        "access denied: arn:aws:iam::123456789012:user/limited may not call ecs:DescribeServices"
    )


def test_a_connect_timeout_names_the_endpoint() -> None:
    exc = ConnectTimeoutError(endpoint_url="https://ecs.ap-northeast-1.amazonaws.com/")
    error = translate(exc, "ecs:DescribeServices")
    assert error.code == "ConnectTimeout"
    assert error.message == (
        "cannot connect to the AWS endpoint https://ecs.ap-northeast-1.amazonaws.com/ for "
        "ecs:DescribeServices (connect timeout)"
    )
    assert error.hint is not None
    assert error.hint.startswith("nothing answers at ecs.ap-northeast-1.amazonaws.com: ")


def test_a_malformed_endpoint_url_is_bad_input(
    aws_env: pytest.MonkeyPatch,
    project: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    hint = (
        "  hint: give a full URL such as https://host:port or http://127.0.0.1:5000, or unset "
        "it to use AWS's own endpoints"
    )
    aws_env.setenv("AWS_ENDPOINT_URL", "notaurl")
    assert main(["status", "--config", str(project)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: the AWS endpoint URL 'notaurl' is not a URL (from AWS_ENDPOINT_URL)",
        hint,
    ]
    aws_env.delenv("AWS_ENDPOINT_URL")
    config = tmp_path / "aws-config"
    config.write_text("[profile bad]\nendpoint_url = http://not a host\n", encoding="utf-8")
    aws_env.setenv("AWS_CONFIG_FILE", str(config))
    assert main(["logs", "--config", str(project), "--profile", "bad"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: the AWS endpoint URL 'http://not a host' is not a URL (from endpoint_url of "
        "profile bad in the AWS config file)",
        hint,
    ]
    # The default profile (no --profile, no AWS_PROFILE) is named as such.
    config.write_text("[default]\nendpoint_url = http://not a host\n", encoding="utf-8")
    aws_env.delenv("AWS_PROFILE", raising=False)
    assert main(["logs", "--config", str(project)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: the AWS endpoint URL 'http://not a host' is not a URL (from endpoint_url of "
        "the default profile in the AWS config file)",
        hint,
    ]


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_an_unknown_profile_is_bad_input(
    aws_env: pytest.MonkeyPatch, project: Path, capsys: pytest.CaptureFixture[str], how: str
) -> None:
    args = ["release", "--config", str(project)]
    if how == "flag":
        args += ["--profile", "nosuch"]
    else:
        aws_env.setenv("AWS_PROFILE", "nosuch")
    assert main(args) == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: AWS profile not found: The config profile (nosuch) could not be found",
        "  hint: check the name given to --profile or AWS_PROFILE (aws configure list-profiles)",
    ]
