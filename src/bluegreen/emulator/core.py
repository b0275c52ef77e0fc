"""One emulated AWS account: moto, plus the services and behaviour bluegreen adds to it.

Every request, from the operating commands or from the emulator's own simulated
services, takes the same path: botocore serializes it against the real API model, then
:meth:`Emulator.dispatch` either serves it with one of bluegreen's services (parsing it
back against the same model and serializing the answer with it) or hands it to moto.
There are two ways in:

- in process (the rehearsal, the tests): the clients from :meth:`Emulator.clients` carry a
  botocore ``before-send`` hook, the public seam moto itself uses, that dispatches the
  prepared request without any network;
- over HTTP on loopback (the sandbox, the AWS CLI, builds): :mod:`bluegreen.emulator.http`
  feeds the same dispatcher from a WSGI server.

Time is the emulator's :class:`~bluegreen.emulator.clock.Clock`; moto's own timestamps are
taken from it too, so every timestamp a command sees agrees. Each request first lets
every process that is due run (a stack creating its resources, a deployment moving on).
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs

from bluegreen.emulator.clock import Clock
from bluegreen.emulator.service import PASS, Call, Service, ServiceError

ACCOUNT_ID = "123456789012"
"""The emulated account (moto's default): real inside the emulator, never written to user
files (bluegreen's templates and repository files use placeholders and pseudo parameters)."""

USER_ARN = f"arn:aws:iam::{ACCOUNT_ID}:user/bluegreen-operator"
"""Who the operating commands act as in the emulated account."""

_FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
# Variables that could send a request elsewhere or pick other credentials.
_CLEARED = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE")

# The API error code an unknown operation gets, by protocol (what AWS answers for an
# action it does not know: UnknownOperationException for JSON APIs, InvalidAction for the
# query APIs; AWS General Reference, "Common errors").
_UNKNOWN_OPERATION = {"json": "UnknownOperationException", "query": "InvalidAction"}


class Emulator:
    """An emulated AWS account in one region; a context manager.

    ``start`` is where the simulated clock begins (default: now, to the second).
    ``build_quota`` is the account's CodeBuild concurrent-build quota (a new account's is 1).
    """

    def __init__(
        self,
        region: str,
        *,
        start: datetime | None = None,
        build_quota: int = 1,
        work_dir: Path | None = None,
    ) -> None:
        self.region = region
        self.account_id = ACCOUNT_ID
        self.build_quota = build_quota
        self.clock = Clock(start or datetime.now(UTC).replace(microsecond=0))
        self.lock = threading.RLock()
        self._work_dir = work_dir
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._mock: Any = None
        self._saved_env: dict[str, str | None] = {}
        self._moto_patches: list[tuple[Any, str, Any]] = []
        self._session: Any = None
        self._moto_stubber: Any = None
        self.services: dict[str, Service] = {}
        self.images: dict[str, dict[str, bytes]] = {}
        """What each pushed image was built from: ``<repository uri>:<tag>`` -> the files of
        its build context (path -> bytes). A running container reads its files from here
        (the log router's Fluent Bit config, the app's code)."""
        self._started = False

    # -- lifecycle ------------------------------------------------------------------------
    @property
    def work_dir(self) -> Path:
        """A private directory for the emulator's files (git repositories, artifacts)."""
        if self._work_dir is None:
            raise RuntimeError("the emulator is not started")
        return self._work_dir

    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        if self._started:
            return
        if self._work_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="bluegreen-emulator-")
            self._work_dir = Path(self._tmp.name)
        self._work_dir.mkdir(parents=True, exist_ok=True)
        amis = self._work_dir / "amis.json"
        amis.write_text("[]", encoding="utf-8")
        env = dict(_FAKE_ENV)
        env["AWS_DEFAULT_REGION"] = self.region
        env["AWS_REGION"] = self.region
        env["MOTO_AMIS_PATH"] = str(amis)  # no AMI catalogue: ~0.5 s, and Fargate has none
        env["AWS_SHARED_CREDENTIALS_FILE"] = str(self._work_dir / "credentials")
        for key in (*env, *_CLEARED):
            self._saved_env[key] = os.environ.get(key)
        for key in _CLEARED:
            os.environ.pop(key, None)
        os.environ.update(env)

        self._patch_moto_time()
        from moto import mock_aws
        from moto.core.models import botocore_stubber

        self._moto_stubber = botocore_stubber
        self._mock = mock_aws()
        self._mock.start()
        from bluegreen.emulator.services import install

        install(self)
        self._started = True

    def stop(self) -> None:
        try:
            for service in self.services.values():
                closer = getattr(service, "close", None)
                if closer is not None:
                    closer()
            if self._mock is not None:
                self._mock.stop()
                self._mock = None
        finally:
            self._unpatch_moto_time()
            for key, value in self._saved_env.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            self._saved_env.clear()
            if self._tmp is not None:
                self._tmp.cleanup()
                self._tmp = None
                self._work_dir = None
            self._started = False

    # -- time -------------------------------------------------------------------------------
    def sleep(self, seconds: float) -> None:
        """What a command's sleep between polls becomes: simulated time passes."""
        with self.lock:
            self.clock.advance(seconds)

    def now(self) -> datetime:
        return self.clock.now()

    def _patch_moto_time(self) -> None:
        """Give moto the simulated clock: its ``utcnow`` (naive UTC) reads ours.

        moto's models take every timestamp from ``moto.core.utils.utcnow``, most through
        ``from moto.core.utils import utcnow``: the function is replaced in that module
        and in every moto module already imported; modules imported later pick up the
        replacement when they import it.
        """
        from moto.core import utils

        original = utils.utcnow
        clock = self.clock

        def utcnow() -> datetime:
            return clock.now().replace(tzinfo=None)

        for name, module in list(sys.modules.items()):
            if (name == "moto" or name.startswith("moto.")) and getattr(
                module, "utcnow", None
            ) is original:
                self._moto_patches.append((module, "utcnow", original))
                module.utcnow = utcnow  # type: ignore[attr-defined]

    def _unpatch_moto_time(self) -> None:
        replaced = {id(module) for module, _, _ in self._moto_patches}
        originals = {original for _, _, original in self._moto_patches}
        for module, attribute, original in self._moto_patches:
            setattr(module, attribute, original)
        # Modules imported while patched took the replacement: give them the original.
        if originals:
            (original,) = originals
            for name, module in list(sys.modules.items()):
                if (name == "moto" or name.startswith("moto.")) and id(module) not in replaced:
                    current = getattr(module, "utcnow", None)
                    if getattr(current, "__qualname__", "").endswith("<locals>.utcnow"):
                        module.utcnow = original  # type: ignore[attr-defined]
        self._moto_patches.clear()

    # -- clients -----------------------------------------------------------------------------
    def _boto_session(self) -> Any:
        if self._session is None:
            import boto3

            session = boto3.session.Session(
                region_name=self.region,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
            # moto's before-send stub would answer every request after ours (botocore
            # emits before-send to every handler): it is called from dispatch instead.
            session._session.unregister("before-send", self._moto_stubber)
            _share_models(session)
            self._session = session
        return self._session

    def client(self, service: str, principal: str = USER_ARN, internal: bool = False) -> Any:
        """A botocore client of the emulated account, acting as ``principal``."""
        session = self._boto_session()
        client = session.client(service, region_name=self.region)
        service_name = client.meta.service_model.service_name

        def on_send(request: Any, event_name: str = "", **_: Any) -> Any:
            operation = event_name.rsplit(".", 1)[-1]
            return self._dispatch_prepared(service_name, operation, request, principal, internal)

        client.meta.events.register_first(
            f"before-send.{client.meta.service_model.service_id.hyphenize()}", on_send
        )
        return client

    def clients(self, principal: str = USER_ARN) -> Any:
        """:class:`~bluegreen.aws.session.Clients` of the emulated account, for commands."""
        from bluegreen.aws.session import Clients

        return Clients.from_factory(lambda service: self.client(service, principal), self.region)

    # -- dispatch --------------------------------------------------------------------------------
    def _dispatch_prepared(
        self, service: str, operation: str, request: Any, principal: str, internal: bool
    ) -> Any:
        from botocore.awsrequest import AWSResponse
        from moto.core.botocore_stubber import MockRawResponse

        headers = {
            k: (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()
        }
        body = request.body or b""
        if hasattr(body, "read"):
            stream = body
            body = stream.read()
            if hasattr(stream, "seek"):
                # moto reads the same request after us (S3 PutObject bodies are streams:
                # botocore's aws-chunked wrapper); leave it at the start for moto.
                stream.seek(0)
        answer = self.dispatch(
            service,
            operation,
            body,
            headers,
            principal=principal,
            internal=internal,
            moto=lambda: self._moto_stubber(event_name="before-send", request=request),
        )
        if answer is None:
            return None
        if isinstance(answer, AWSResponse):
            return answer
        status, out_headers, out_body = answer
        return AWSResponse(request.url, status, out_headers, MockRawResponse(out_body))

    def dispatch(
        self,
        service: str,
        operation: str,
        body: bytes | str,
        headers: dict[str, str],
        *,
        principal: str = USER_ARN,
        internal: bool = False,
        moto: Callable[[], Any],
    ) -> Any:
        """Serve one request: bluegreen's service if it serves the operation, else moto.

        Returns (status, headers, body) for an answer made here, or moto's own answer.
        """
        with self.lock:
            self.clock.run_due()
            handler = self.services.get(service)
            model = _operation_model(service, operation)
            if handler is not None and handler.serves(operation):
                call = Call(service, operation, self.region, principal, internal, headers)
                try:
                    params = _parse(model, body, headers)
                    result = handler.handle(operation, params, call)
                except ServiceError as error:
                    return _serialize(service, model, error)
                if result is not PASS:
                    answer = _serialize(service, model, result)
                    self.clock.run_due()
                    return answer
            try:
                answer = moto()
            except NotImplementedError:
                protocol = _protocol(model)
                return _serialize(
                    service,
                    model,
                    ServiceError(
                        _UNKNOWN_OPERATION.get(protocol, "InvalidAction"),
                        f"The emulated AWS does not serve {service}:{operation}",
                    ),
                )
            self.clock.run_due()
            return answer

    def service(self, name: str) -> Any:
        return self.services[name]

    # -- moto access -------------------------------------------------------------------------
    def backend(self, name: str) -> Any:
        """moto's backend of service ``name`` for this account and region."""
        import moto.backends

        backends = moto.backends.get_backend(name)  # type: ignore[call-overload]
        account = backends[self.account_id]
        if self.region in account:
            return account[self.region]
        return account["global"] if "global" in account else account["aws"]

    @contextmanager
    def locked(self) -> Iterator[None]:
        with self.lock:
            yield


# ------------------------------------------------------------------------------ helpers


def _operation_model(service: str, operation: str) -> Any:
    from moto.core.utils import get_service_model

    return get_service_model(service).operation_model(operation)


def _parse(model: Any, body: bytes | str, headers: dict[str, str]) -> dict[str, Any]:
    from moto.core.parse import JSONParser, QueryParser
    from werkzeug.datastructures import MultiDict

    protocol = _protocol(model)
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    request: Any = {
        "body": body,
        "headers": headers,
        "method": "POST",
        "url_params": {},
        "url_path": "/",
        "values": MultiDict(),
    }
    if protocol == "json":
        parsed: dict[str, Any] = JSONParser(model).parse(request)
        return parsed
    if protocol == "query":
        request["values"] = MultiDict(
            [(k, v) for k, values in parse_qs(text, keep_blank_values=True).items() for v in values]
        )
        parsed = QueryParser(model).parse(request)
        return parsed
    raise ServiceError("InvalidAction", f"the emulator serves {protocol} APIs through moto only")


def _serialize(service: str, model: Any, result: Any) -> tuple[int, dict[str, str], str | bytes]:
    import warnings

    from moto.core.serialize import get_serializer_class

    serializer = get_serializer_class(service, _protocol(model))(model)
    with warnings.catch_warnings():
        # An error code outside the service's model (UnknownOperationException, common
        # errors such as ThrottlingException) is serialized all the same; moto warns.
        warnings.simplefilter("ignore", UserWarning)
        response = serializer.serialize(result)
    body = response["body"]
    return response["status_code"], dict(response["headers"]), body


_shared_loader: dict[str, Any] = {}


def _share_models(session: Any) -> None:
    """Let moto read API models through botocore's loader, parsed once per process.

    moto parses a service's API model for every response it serializes, with a fresh
    loader each time; botocore's loader has already parsed and cached the same files.
    Sharing it saves ~0.2 s per rehearsal.
    """
    from moto.core import utils

    if "loader" in _shared_loader:
        return
    loader = session._session.get_component("data_loader")
    _shared_loader["loader"] = loader

    def load(service_name: str, model_name: str) -> Any:
        return loader.load_service_model(service_name, model_name)

    utils._load_service_model = load


def _protocol(model: Any) -> str:
    """The wire protocol botocore's clients use for the service: the first of the model's
    ``protocols`` in botocore's priority order (JSON before CBOR: codedeploy, codebuild and
    codepipeline list smithy-rpc-v2-cbor first but clients speak JSON)."""
    service = model.service_model
    return str(getattr(service, "resolved_protocol", None) or service.protocol)
