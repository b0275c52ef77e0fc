"""Where AWS clients come from: the one injection seam for all AWS I/O.

``Clients`` hands out botocore clients for one (profile, region), made lazily and cached,
with botocore's *standard* retry mode. Tests inject a ``Clients`` whose factory returns
stubbed clients (botocore Stubber) or clients pointed at the embedded emulator; commands
never create clients themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError

# Every client gets the standard retry mode (exponential backoff with jitter, throttling
# errors retried) and a user agent naming the tool.
RETRY_CONFIG = BotoConfig(
    retries={"max_attempts": 8, "mode": "standard"},
    user_agent_extra="bluegreen",
)

ClientFactory = Callable[[str], Any]


class Clients:
    """Lazily created, cached AWS clients for one account and region.

    ``Clients(region="ap-northeast-1", profile="dev")`` uses the standard credential chain
    (environment, shared config, SSO, instance role). ``Clients.from_factory(f, region)``
    wraps any ``service name -> client`` callable, for tests and the emulator.
    """

    def __init__(
        self,
        region: str,
        profile: str | None = None,
        factory: ClientFactory | None = None,
    ) -> None:
        self.region = region
        self.profile = profile
        self._factory = factory
        self._session: Any = None
        self._cache: dict[str, Any] = {}

    @classmethod
    def from_factory(cls, factory: ClientFactory, region: str) -> Clients:
        return cls(region=region, factory=factory)

    def __call__(self, service: str) -> Any:
        """The client for ``service`` (for example ``"ecs"``), created once."""
        client = self._cache.get(service)
        if client is None:
            if self._factory is not None:
                client = self._factory(service)
            else:
                try:
                    if self._session is None:
                        self._session = boto3.session.Session(
                            profile_name=self.profile, region_name=self.region
                        )
                    client = self._session.client(service, config=RETRY_CONFIG)
                except BotoCoreError as exc:
                    # An unknown --profile or a broken config file surfaces here, before
                    # any call: give it the same hint as a failed call.
                    from bluegreen.aws.errors import translate

                    raise translate(exc, f"{service} (creating the client)") from exc
            self._cache[service] = client
        return client

    def __getattr__(self, service: str) -> Any:
        # clients.ecs, clients.elbv2, ... read as the service's client.
        if service.startswith("_"):
            raise AttributeError(service)
        return self(service)
