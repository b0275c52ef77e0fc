"""Where AWS clients come from: the one injection seam for all AWS I/O.

``Clients`` hands out botocore clients for one (profile, region), made lazily and cached,
with botocore's *standard* retry mode and bounded network waits. Tests inject a
``Clients`` whose factory returns stubbed clients (botocore Stubber) or clients pointed
at the embedded emulator; commands never create clients themselves.

Bounded waits. botocore waits 60 s to connect and 60 s for each read by default
(https://docs.aws.amazon.com/botocore/latest/reference/config.html), and standard mode
retries connection errors and read timeouts like throttling, up to its attempt budget
(https://docs.aws.amazon.com/boto3/latest/guide/retries.html): with 9 attempts of 60 s an
endpoint that accepts and never answers (a dead VPN, a black-holing proxy) blocked one
call for about 9 minutes. Here a connection gets ``CONNECT_TIMEOUT`` s, a read
``READ_TIMEOUT`` s, and a call that fails on the network (refused, reset, timed out) is
tried ``NETWORK_ATTEMPTS`` times in all: an unresponsive endpoint fails a call within a
minute (2 x 25 s plus a jittered backoff under a second), while throttling and 5xx
answers keep the ``MAX_ATTEMPTS`` budget.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import (
    BotoCoreError,
    ConnectionError,
    HTTPClientError,
    ProfileNotFound,
)

from bluegreen.errors import UsageError

CONNECT_TIMEOUT = 10.0
"""Seconds to open a connection (botocore's default is 60)."""
READ_TIMEOUT = 25.0
"""Seconds to wait for each read of an answer (botocore's default is 60)."""
MAX_ATTEMPTS = 9
"""Attempts per call in all, the first included: 8 retries of throttling and 5xx answers
(standard mode's default is 3 attempts)."""
NETWORK_ATTEMPTS = 2
"""Attempts per call when the network fails (refused, reset, connect or read timeout)."""

# What botocore's standard mode treats as a transient network failure and retries
# (botocore/retries/standard.py, TransientRetryableChecker: ConnectionError and
# HTTPClientError; ReadTimeoutError and ConnectionClosedError are HTTPClientErrors,
# EndpointConnectionError and ConnectTimeoutError ConnectionErrors).
_NETWORK_ERRORS = (ConnectionError, HTTPClientError)

ClientFactory = Callable[[str], Any]


def client_config(
    connect_timeout: float | None = None, read_timeout: float | None = None
) -> BotoConfig:
    """The botocore configuration every client gets: standard retries (exponential
    backoff with jitter, throttling retried), bounded waits, a user agent naming the tool."""
    return BotoConfig(
        connect_timeout=CONNECT_TIMEOUT if connect_timeout is None else connect_timeout,
        read_timeout=READ_TIMEOUT if read_timeout is None else read_timeout,
        # total_max_attempts counts the first attempt; max_attempts would count retries.
        retries={"total_max_attempts": MAX_ATTEMPTS, "mode": "standard"},
        user_agent_extra="bluegreen",
    )


def _network_budget(
    request_dict: dict[str, Any], caught_exception: Exception | None = None, **_: Any
) -> None:
    """``needs-retry`` handler, registered before botocore's own: stop retrying a call
    once it failed ``NETWORK_ATTEMPTS`` times on the network.

    botocore emits ``needs-retry.<service>.<operation>`` after every attempt with the
    attempt's exception (botocore/endpoint.py, Endpoint._needs_retry; events:
    https://docs.aws.amazon.com/botocore/latest/topics/events.html). Returning None
    leaves the decision to the standard handler; raising the attempt's exception ends the
    call with it, exactly as when botocore's own budget runs out. ``request_dict
    ["context"]`` is the same dict for every attempt of one call.
    """
    if not isinstance(caught_exception, _NETWORK_ERRORS):
        return None
    context = request_dict.setdefault("context", {})
    failures = int(context.get("bluegreen_network_failures", 0)) + 1
    context["bluegreen_network_failures"] = failures
    if failures >= NETWORK_ATTEMPTS:
        raise caught_exception
    return None


def _endpoint_source(value: str, profile: str | None) -> str:
    """Where an endpoint URL came from: a variable of the environment or the AWS config
    (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html)."""
    for name, setting in sorted(os.environ.items()):
        if name.startswith("AWS_ENDPOINT_URL") and setting.strip() == value.strip():
            return name
    where = f"profile {profile}" if profile else "the default profile"
    return f"endpoint_url of {where} in the AWS config file"


class Clients:
    """Lazily created, cached AWS clients for one account and region.

    ``Clients(region="ap-northeast-1", profile="dev")`` uses the standard credential chain
    (environment, shared config, SSO, instance role). ``Clients.from_factory(f, region)``
    wraps any ``service name -> client`` callable, for tests and the emulator.
    ``connect_timeout``/``read_timeout`` default to the module's constants (tests shorten
    them).
    """

    def __init__(
        self,
        region: str,
        profile: str | None = None,
        factory: ClientFactory | None = None,
        *,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
    ) -> None:
        self.region = region
        self.profile = profile
        self._factory = factory
        self._config = client_config(connect_timeout, read_timeout)
        self._session: Any = None
        self._cache: dict[str, Any] = {}
        self.memo: dict[str, Any] = {}
        """Answers AWS never changes, kept for the life of these clients (a task
        definition revision's containers: :func:`bluegreen.aws.ecs.task_definitions`), so
        ``status --watch`` and the rehearsal's status reads ask for them once."""

    @classmethod
    def from_factory(cls, factory: ClientFactory, region: str) -> Clients:
        return cls(region=region, factory=factory)

    def open(self) -> None:
        """Read the AWS configuration now (profile, config files) instead of at the first
        call, so that bad input is found before anything is done: an unknown profile
        (--profile or AWS_PROFILE) is a UsageError (exit 2)."""
        if self._factory is not None or self._session is not None:
            return
        try:
            self._session = boto3.session.Session(
                profile_name=self.profile, region_name=self.region
            )
        except ProfileNotFound as exc:
            raise UsageError(
                f"AWS profile not found: {exc}",
                hint="check the name given to --profile or AWS_PROFILE "
                "(aws configure list-profiles)",
            ) from exc
        except BotoCoreError as exc:
            from bluegreen.aws.errors import translate

            raise translate(exc, "reading the AWS configuration") from exc

    def __call__(self, service: str) -> Any:
        """The client for ``service`` (for example ``"ecs"``), created once."""
        client = self._cache.get(service)
        if client is None:
            client = self._factory(service) if self._factory else self._create(service)
            self._cache[service] = client
        return client

    def _create(self, service: str) -> Any:
        try:
            if self._session is None:
                self._session = boto3.session.Session(
                    profile_name=self.profile, region_name=self.region
                )
            client = self._session.client(service, config=self._config)
        except BotoCoreError as exc:
            # An unknown --profile or a broken config file surfaces here, before any
            # call: give it the same hint as a failed call.
            from bluegreen.aws.errors import translate

            raise translate(exc, f"{service} (creating the client)") from exc
        except ValueError as exc:
            # botocore refuses a malformed endpoint URL with a bare ValueError
            # ("Invalid endpoint: notaurl", botocore/endpoint.py create_endpoint).
            if not str(exc).startswith("Invalid endpoint"):
                raise
            value = str(exc).split(":", 1)[-1].strip()
            raise UsageError(
                f"the AWS endpoint URL {value!r} is not a URL "
                f"(from {_endpoint_source(value, self.profile)})",
                hint="give a full URL such as https://host:port or http://127.0.0.1:5000, "
                "or unset it to use AWS's own endpoints",
            ) from exc
        events = client.meta.events
        events.register_first(
            f"needs-retry.{client.meta.service_model.service_id.hyphenize()}",
            _network_budget,
        )
        return client

    def __getattr__(self, service: str) -> Any:
        # clients.ecs, clients.elbv2, ... read as the service's client.
        if service.startswith("_"):
            raise AttributeError(service)
        return self(service)
