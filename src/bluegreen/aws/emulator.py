"""The embedded AWS emulator: moto in process, for ``bluegreen rehearse``.

Why in process and not ``moto_server``: no port, no child process, no credentials, and
~3 ms to start instead of ~400 ms. Every request still goes through botocore, so each
call is serialised and validated against the real AWS API models before moto sees it.

:class:`Emulator` is a context manager. While it is open:

- fake credentials and region are set in ``os.environ`` (restored on exit, so nothing
  can reach a real account even by accident);
- moto's ECS tasks are pinned in their state (moto otherwise advances a task one state
  per describe call, which would make the rehearsal's read-back depend on how often it
  looked);
- moto's bundled EC2 AMI catalogue is not loaded (``MOTO_AMIS_PATH`` points at an empty
  list): it costs ~0.5 s and a Fargate system has no instances.

``Emulator.clients()`` hands out :class:`~bluegreen.aws.session.Clients` whose clients
turn botocore and moto failures into :class:`~bluegreen.errors.AwsError`, so code
outside ``aws/`` never imports botocore.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from bluegreen.aws.session import Clients
from bluegreen.errors import AwsError

ACCOUNT_ID = "123456789012"
"""moto's default account: real inside the emulator, never written to user files."""

_FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
# Variables that could send a request elsewhere or pick other credentials.
_CLEARED = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE")


class Emulator:
    """An in-process AWS account (moto) for one region; use as a context manager."""

    def __init__(self, region: str) -> None:
        self.region = region
        self.account_id = ACCOUNT_ID
        self._mock: Any = None
        self._saved_env: dict[str, str | None] = {}
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._moto_loader: Any = None

    def __enter__(self) -> Emulator:
        self._tmp = tempfile.TemporaryDirectory(prefix="bluegreen-emulator-")
        amis = Path(self._tmp.name) / "amis.json"
        amis.write_text("[]", encoding="utf-8")
        env = dict(_FAKE_ENV)
        env["AWS_DEFAULT_REGION"] = self.region
        env["AWS_REGION"] = self.region
        env["MOTO_AMIS_PATH"] = str(amis)
        env["AWS_SHARED_CREDENTIALS_FILE"] = str(Path(self._tmp.name) / "credentials")
        for key in (*env, *_CLEARED):
            self._saved_env[key] = os.environ.get(key)
        for key in _CLEARED:
            os.environ.pop(key, None)
        os.environ.update(env)

        from moto import mock_aws
        from moto.moto_api import state_manager

        self._mock = mock_aws()
        self._mock.start()
        state_manager.set_transition(
            model_name="ecs::task", transition={"progression": "manual", "times": 10**6}
        )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._moto_loader is not None:
                from moto.core import utils

                utils._load_service_model = self._moto_loader
                self._moto_loader = None
            if self._mock is not None:
                from moto.moto_api import state_manager

                state_manager.unset_transition(model_name="ecs::task")
                self._mock.stop()
                self._mock = None
        finally:
            for key, value in self._saved_env.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            self._saved_env.clear()
            if self._tmp is not None:
                self._tmp.cleanup()
                self._tmp = None

    def _share_models(self, session: Any) -> None:
        """Let moto read API models through the clients' loader.

        moto parses each service's API model again for every response it serialises
        (a fresh botocore loader each time); the clients' loader has already parsed and
        cached the same files. Sharing it saves ~0.2 s per rehearsal. Undone on exit.
        """
        from moto.core import utils

        if self._moto_loader is not None:
            return  # already shared (clients() called again)
        loader = session._session.get_component("data_loader")
        self._moto_loader = utils._load_service_model

        def load(service_name: str, model_name: str) -> Any:
            return loader.load_service_model(service_name, model_name)

        utils._load_service_model = load

    def clients(self) -> Clients:
        """Clients for the emulated account; errors surface as :class:`AwsError`."""
        import boto3

        session = boto3.session.Session(region_name=self.region)
        self._share_models(session)

        def factory(service: str) -> Any:
            client = session.client(service, region_name=self.region)
            if service == "iam":
                return _Iam(service, client, self.account_id)
            return _Guarded(service, client)

        return Clients.from_factory(factory, self.region)


class _Guarded:
    """A client proxy: every API call's failure becomes :class:`AwsError`."""

    def __init__(self, service: str, client: Any) -> None:
        self._service = service
        self._client = client

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name.startswith("_") or not callable(attr) or name in ("get_paginator", "get_waiter"):
            return attr
        return _guard(self._service, name, attr)


class _Iam(_Guarded):
    """IAM with AWS managed policies loaded one by one, when first attached.

    moto can load its whole catalogue of ~1,600 AWS managed policies, once per partition:
    ~0.8 s, a third of a rehearsal. Instead, a policy named by an attach call is looked up
    in that same catalogue and added just before the call, so attaching a real managed
    policy works and a misspelt one fails ("does not exist or is not attachable") as on
    AWS.
    """

    def __init__(self, service: str, client: Any, account_id: str) -> None:
        super().__init__(service, client)
        self._account_id = account_id

    def __getattr__(self, name: str) -> Any:
        call = super().__getattr__(name)
        if name not in ("attach_role_policy", "attach_user_policy", "attach_group_policy"):
            return call

        def attach(**kwargs: Any) -> Any:
            _load_managed_policy(str(kwargs.get("PolicyArn", "")), self._account_id)
            return call(**kwargs)

        return attach


_MANAGED = re.compile(r"^arn:aws:iam::aws:policy(/(?:[^/]+/)*)([^/]+)$")


def _load_managed_policy(arn: str, account_id: str) -> None:
    match = _MANAGED.match(arn)
    if not match:
        return
    import moto.iam
    from moto.iam import models

    name = match.group(2)
    catalogue = Path(moto.iam.__file__).with_name("aws_managed_policies.py")
    text = catalogue.read_text(encoding="utf-8")
    start = text.find(f'\n "{name}":{{')
    if start < 0:
        return  # not an AWS managed policy: the attach call fails as it would on AWS
    data, _ = json.JSONDecoder().raw_decode(text, text.index("{", start))
    policy = models.AWSManagedPolicy.from_data(name, account_id, "us-east-1", data)
    if policy.arn == arn:
        backend = models.iam_backends[account_id]["aws"]
        backend.managed_policies.setdefault(policy.arn, policy)


def _guard(service: str, name: str, call: Callable[..., Any]) -> Callable[..., Any]:
    from botocore.exceptions import BotoCoreError, ClientError

    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return call(*args, **kwargs)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise AwsError(
                f"{service}.{name} failed in the emulator: {error.get('Code', 'Error')}: "
                f"{error.get('Message', exc)}",
                hint="the request broke the AWS API's rules; the template or repository "
                "file it came from needs the fix",
            ) from exc
        except BotoCoreError as exc:
            # ParamValidationError and friends: botocore checked the request against the
            # real API model and refused it before it left the process.
            raise AwsError(
                f"{service}.{name} was rejected by the AWS API model: {exc}",
                hint="the value comes from a template or repository file; fix it there",
            ) from exc
        except NotImplementedError as exc:
            raise AwsError(
                f"{service}.{name} is not implemented by the embedded emulator (moto)",
                hint="the rehearsal cannot play this step; report it as a bluegreen bug",
            ) from exc

    return guarded
