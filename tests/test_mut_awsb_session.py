"""aws/session.py: the clients' configuration, the network retry budget, where a bad
endpoint URL came from, and the seam's caching.

botocore's Config options (connect_timeout, read_timeout, retries.total_max_attempts,
retries.mode, user_agent_extra): https://docs.aws.amazon.com/botocore/latest/reference/
config.html. The needs-retry event and its handlers: botocore/endpoint.py
(Endpoint._needs_retry) and https://docs.aws.amazon.com/botocore/latest/topics/events.html.
Service-specific endpoint variables (AWS_ENDPOINT_URL_<SERVICE>): AWS SDKs and Tools
reference guide, "Service-specific endpoints".
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError
from network_support import no_credentials

from bluegreen.aws import session
from bluegreen.aws.errors import AwsCallError
from bluegreen.aws.session import Clients
from bluegreen.errors import UsageError


def test_every_client_gets_bounded_waits_standard_retries_and_the_tool_s_name() -> None:
    config = session.client_config()
    assert (config.connect_timeout, config.read_timeout) == (10.0, 25.0)
    assert config.retries == {"total_max_attempts": 9, "mode": "standard"}
    assert config.user_agent_extra == "bluegreen"
    shorter = session.client_config(connect_timeout=1.5, read_timeout=0.5)
    assert (shorter.connect_timeout, shorter.read_timeout) == (1.5, 0.5)
    zero = session.client_config(connect_timeout=0.0, read_timeout=0.0)
    assert (zero.connect_timeout, zero.read_timeout) == (0.0, 0.0)


def test_the_network_budget_ends_a_call_at_its_second_network_failure() -> None:
    request: dict[str, Any] = {}
    failure = ReadTimeoutError(endpoint_url="https://x")
    assert session._network_budget(request, failure) is None  # the first: retried
    assert request["context"]["bluegreen_network_failures"] == 1
    with pytest.raises(ReadTimeoutError):
        session._network_budget(request, failure)
    assert request["context"]["bluegreen_network_failures"] == 2
    # A refused connection counts as well (a ConnectionError).
    refused: dict[str, Any] = {"context": {"other": "kept"}}
    session._network_budget(refused, EndpointConnectionError(endpoint_url="https://x"))
    assert refused["context"] == {"other": "kept", "bluegreen_network_failures": 1}


def test_other_outcomes_are_left_to_botocore() -> None:
    request: dict[str, Any] = {}
    assert session._network_budget(request, None) is None
    assert session._network_budget(request, ValueError("not a network error")) is None
    assert request == {}


def test_where_an_endpoint_url_came_from(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ENDPOINT_URL_ECS", " notaurl ")
    monkeypatch.setenv("XAWS_ENDPOINT_URL", "notaurl")
    assert session._endpoint_source("notaurl", "dev") == "AWS_ENDPOINT_URL_ECS"
    assert session._endpoint_source("other", "dev") == (
        "endpoint_url of profile dev in the AWS config file"
    )
    assert session._endpoint_source("other", None) == (
        "endpoint_url of the default profile in the AWS config file"
    )


def test_a_service_specific_bad_endpoint_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    no_credentials(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL_ECS", "notaurl")
    clients = Clients("ap-northeast-1")
    with pytest.raises(UsageError) as info:
        clients.ecs  # noqa: B018 (creating the client is what fails)
    assert info.value.message == (
        "the AWS endpoint URL 'notaurl' is not a URL (from AWS_ENDPOINT_URL_ECS)"
    )
    assert clients.logs is not None  # another service is not affected


def test_the_factory_seam_and_private_names() -> None:
    made: list[str] = []

    def factory(service: str) -> object:
        made.append(service)
        return object()

    clients = Clients.from_factory(factory, "eu-west-1")
    assert clients.region == "eu-west-1" and clients.profile is None
    clients.open()  # nothing to read with a factory
    first = clients.ecs
    assert clients("ecs") is first and made == ["ecs"]
    with pytest.raises(AttributeError):
        clients._private  # noqa: B018
    assert made == ["ecs"]
    assert clients.memo == {}


def test_open_reads_the_profile_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    no_credentials(monkeypatch, tmp_path)
    config = tmp_path / "config"
    config.write_text("[profile dev]\nregion = eu-west-1\n", encoding="utf-8")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    clients = Clients("ap-northeast-1", profile="dev")
    clients.open()
    opened = clients._session
    assert opened is not None and opened.profile_name == "dev"
    assert opened.region_name == "ap-northeast-1"  # the configured region wins
    clients.open()
    assert clients._session is opened
    with pytest.raises(UsageError) as info:
        Clients("ap-northeast-1", profile="nosuch").open()
    assert info.value.message == (
        "AWS profile not found: The config profile (nosuch) could not be found"
    )


def test_a_broken_config_file_is_said_before_any_call(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # botocore reads the shared config file when a profile is named, and refuses one it
    # cannot parse (ConfigParseError, botocore/configloader.py).
    no_credentials(monkeypatch, tmp_path)
    config = tmp_path / "config"
    config.write_text("[profile dev\nregion = eu-west-1\n", encoding="utf-8")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    with pytest.raises(AwsCallError) as info:
        Clients("ap-northeast-1", profile="dev").open()
    assert info.value.message == (
        f"reading the AWS configuration failed: Unable to parse config file: {config}"
    )
    assert info.value.code == "ConfigParseError"


def test_a_private_name_is_no_client_and_says_which_name() -> None:
    clients = Clients.from_factory(lambda service: object(), "eu-west-1")
    with pytest.raises(AttributeError, match="^_cache_of$"):
        clients._cache_of  # noqa: B018
