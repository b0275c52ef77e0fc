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

import functools
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs

from bluegreen.emulator.clock import Clock
from bluegreen.emulator.journal import Journal, changes_state
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
# query APIs; AWS General Reference, "Common errors"). REST APIs have no common code:
# the JSON one for REST JSON, InvalidAction for REST XML (as bluegreen.emulator.http).
_UNKNOWN_OPERATION = {
    "json": "UnknownOperationException",
    "rest-json": "UnknownOperationException",
    "query": "InvalidAction",
}


@dataclass(frozen=True)
class Refusal:
    """A request an emulated service refused, as AWS would have."""

    at: float
    service: str
    operation: str
    code: str
    message: str


class Emulator:
    """An emulated AWS account in one region; a context manager.

    ``start`` is where the simulated clock begins (default: now, to the second).
    ``build_quota`` is the account's CodeBuild concurrent-build quota (a new account's is 1).
    ``data_plane``: run the tasks' apps for real (see :attr:`data_plane`).
    """

    def __init__(
        self,
        region: str,
        *,
        start: datetime | None = None,
        build_quota: int = 1,
        work_dir: Path | None = None,
        seed: int = 0,
        data_plane: bool = False,
    ) -> None:
        self.region = region
        self.data_plane = data_plane
        """Run the tasks' apps as local processes, health-checked for real, behind a
        local server per listener, with the network read from the VPC's state
        (:mod:`bluegreen.emulator.dataplane`); the rehearsal and the sandbox do."""
        self.account_id = ACCOUNT_ID
        self.build_quota = build_quota
        self.seed = seed
        self.clock = Clock(start or datetime.now(UTC).replace(microsecond=0))
        self.lock = threading.RLock()
        self._work_dir = work_dir
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._mock: Any = None
        self._saved_env: dict[str, str | None] = {}
        self._moto_patches: list[tuple[Any, str, Any]] = []
        self._request_ids: tuple[Any, Any] | None = None
        self.services: dict[str, Service] = {}
        self.refusals: list[Refusal] = []
        """Every request bluegreen's services refused, with AWS's error code: what a test
        reads to show a command never trips a refusal AWS would make."""
        self.journal: Journal | None = None
        """Where requests, clock moves and outside events are recorded (the sandbox's
        kept state), if anywhere."""
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
        self._patch_moto_request_ids()
        from moto import mock_aws

        self._mock = mock_aws()
        self._mock.start()
        # moto's "random-object used throughout Moto. Can be seeded to make identifiers
        # deterministic" (moto.moto_api._internal.mock_random): the same story gives the
        # same VPC, subnet, task and ARN ids every time, which a replay of the emulator's
        # journal relies on.
        from moto.moto_api._internal import mock_random

        mock_random.seed(self.seed)
        from bluegreen.emulator import motofix
        from bluegreen.emulator.services import install

        self._restores = motofix.install()
        motofix.defer_instance_type_offerings()  # after install: it answers region questions
        install(self)
        if _ACTIVE and _ACTIVE[0] is not self:
            raise RuntimeError("another emulator is running in this process")
        _ACTIVE[:] = [self]
        self._started = True

    def stop(self) -> None:
        if _ACTIVE and _ACTIVE[0] is self:
            _ACTIVE.clear()
        try:
            for service in self.services.values():
                closer = getattr(service, "close", None)
                if closer is not None:
                    closer()
            if self._mock is not None:
                self._mock.stop()
                self._mock = None
            for restore in getattr(self, "_restores", []):
                restore()
            self._restores = []
        finally:
            self._unpatch_moto_time()
            self._unpatch_moto_request_ids()
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
            self.advance_to(self.clock.seconds + max(0.0, seconds))

    def advance_to(self, seconds: float) -> None:
        """Move the clock to ``seconds`` since its start (journaled; never backwards)."""
        with self.lock:
            if seconds <= self.clock.seconds:
                return
            if self.journal is not None:
                self.journal.advance(seconds)
            self.clock.advance_to(seconds)

    def record(self, name: str, **data: Any) -> None:
        """An outside event a service saw (a git push), kept in the journal."""
        if self.journal is not None:
            self.journal.event(self.clock.seconds, name, **data)

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

    def _patch_moto_request_ids(self) -> None:
        """Give moto's answers request ids that do not come from its seeded random.

        moto stamps every answer, reads included, with a request id drawn from the seeded
        ``mock_random`` (``moto.core.responses`` calls ``gen_amzn_requestid_long``): each
        read then shifts every id made after it (a VPC's, a task's). The journal keeps
        no reads, so a resumed sandbox would make other ids than the first run did.
        Request ids come from their own generator here (seeded too: the same calls give
        the same ids).
        """
        import random
        import string

        from moto.core import responses

        original = getattr(responses, "gen_amzn_requestid_long")  # noqa: B009 - not exported
        ids = random.Random(self.seed)
        alphabet = string.ascii_uppercase + string.digits

        def request_id(headerdict: dict[str, Any] | None = None) -> str:
            value = "".join(ids.choices(alphabet, k=52))
            if headerdict is not None:
                headerdict["x-amzn-requestid"] = value
            return value

        setattr(responses, "gen_amzn_requestid_long", request_id)  # noqa: B010
        self._request_ids = (responses, original)

    def _unpatch_moto_request_ids(self) -> None:
        saved = self._request_ids
        if saved is not None:
            module, original = saved
            module.gen_amzn_requestid_long = original
            self._request_ids = None

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
    def client(self, service: str, principal: str = USER_ARN, internal: bool = False) -> Any:
        """A botocore client of the emulated account, acting as ``principal``.

        Clients are made once per process and reused by every emulator (creating a botocore
        client costs ~0.15 s); each request goes to the emulator running at that moment.
        """
        key = (self.region, service, principal, internal)
        client = _CLIENTS.get(key)
        if client is None:
            client = _new_client(self.region, service, principal, internal)
            _CLIENTS[key] = client
        return client

    def clients(self, principal: str = USER_ARN, *, internal: bool = False) -> Any:
        """:class:`~bluegreen.aws.session.Clients` of the emulated account: the commands'
        (the operator), or ``internal`` ones a service uses on the caller's behalf."""
        from bluegreen.aws.session import Clients

        return Clients.from_factory(
            lambda service: self.client(service, principal, internal), self.region
        )

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
            moto=lambda: _moto_stubber()(event_name="before-send", request=request),
            url=str(request.url),
        )
        if answer is None:
            return None
        if isinstance(answer, AWSResponse):
            answer.headers["Date"] = self.http_date()
            return answer
        status, out_headers, out_body = answer
        out_headers = {**out_headers, "Date": self.http_date()}
        return AWSResponse(request.url, status, out_headers, MockRawResponse(out_body))

    def http_date(self) -> str:
        """The simulated time as an HTTP ``Date`` header (RFC 9110, IMF-fixdate): every
        answer carries it, as AWS's do, so a command can take "now" from the service."""
        from email.utils import format_datetime

        return format_datetime(self.clock.now(), usegmt=True)

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
        route: dict[str, str] | None = None,
        url: str = "",
    ) -> Any:
        """Serve one request: bluegreen's service if it serves the operation, else moto.

        Returns (status, headers, body) for an answer made here, or moto's own answer.
        ``route`` (``method``, ``path``, ``query``) is where a REST API's request went,
        kept in the journal to replay it; ``url`` is an in-process request's URL.

        A request made as a role (a service acting on the system's behalf) is first
        authorized against that role's policies (:mod:`bluegreen.emulator.authz`); the
        operator's own requests are not evaluated: the emulated account's user is its
        administrator.
        """
        with self.lock:
            if self.journal is not None and not internal and changes_state(operation):
                self.journal.request(
                    self.clock.seconds, service, operation, body, headers, principal, route
                )
            self.clock.run_due()
            handler = self.services.get(service)
            model = _operation_model(service, operation)
            if principal != USER_ARN:
                denied = self._authorize(
                    service, operation, model, body, headers, principal, url or route
                )
                if denied is not None:
                    return denied
            if handler is not None and handler.serves(operation):
                call = Call(service, operation, self.region, principal, internal, headers)
                try:
                    params = _parse(model, body, headers)
                    result = handler.handle(operation, params, call)
                except ServiceError as error:
                    self.refusals.append(
                        Refusal(self.clock.seconds, service, operation, error.code, error.message)
                    )
                    return _serialize(service, model, error)
                if result is not PASS:
                    answer = _serialize(service, model, result)
                    self.clock.run_due()
                    return answer
            try:
                answer = moto()
            except (NotImplementedError, ImportError):
                # ImportError: moto's module for the service needs an optional dependency
                # this installation lacks (moto's CloudFormation imports openapi_spec_
                # validator through its API Gateway models): not served either.
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

    def _authorize(
        self,
        service: str,
        operation: str,
        model: Any,
        body: bytes | str,
        headers: dict[str, str],
        principal: str,
        where: str | dict[str, str] | None,
    ) -> tuple[int, dict[str, str], str | bytes] | None:
        """AWS's AccessDenied answer if ``principal`` (a role) may not make the call."""
        from bluegreen.emulator import authz

        if not authz.evaluated(principal):
            return None
        try:
            params = _parse(model, body, headers)
        except Exception:  # noqa: BLE001 - a REST API: its location says what it targets
            params = {}
        location = where if isinstance(where, str) else (where or {}).get("path", "")
        error = authz.authorizer(self).check_call(principal, service, operation, params, location)
        if error is None:
            return None
        self.refusals.append(
            Refusal(self.clock.seconds, service, operation, error.code, error.message)
        )
        status, out_headers, out_body = _serialize(service, model, error)
        return int(getattr(error, "http_status", status)), out_headers, out_body

    def service(self, name: str) -> Any:
        return self.services[name]

    def replay(self, journal: Journal) -> int:
        """Play ``journal``'s story into this (fresh) emulator; the entries played."""
        import base64

        played = 0
        journal.replaying = True
        try:
            for entry in journal.entries():
                kind = entry["kind"]
                if kind == "advance":
                    with self.lock:
                        self.clock.advance_to(float(entry["to"]))
                elif kind == "request":
                    with self.lock:
                        self.clock.advance_to(float(entry["at"]))
                    body = base64.b64decode(entry["body"])
                    service, operation = entry["service"], entry["operation"]
                    headers = dict(entry["headers"])
                    route = entry.get("route") or {}
                    self.dispatch(
                        service,
                        operation,
                        body,
                        headers,
                        principal=entry["principal"],
                        moto=functools.partial(
                            moto_answer,
                            service,
                            body,
                            headers,
                            route.get("path", "/"),
                            route.get("method", "POST"),
                            route.get("query", ""),
                        ),
                    )
                elif kind == "event":
                    with self.lock:
                        self.clock.advance_to(float(entry["at"]))
                    owner = self.services.get(str(entry["name"]).split(".", 1)[0])
                    replay_event = getattr(owner, "replay_event", None)
                    if replay_event is not None:
                        replay_event(entry["name"], entry["data"])
                played += 1
        finally:
            journal.replaying = False
        return played

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


def moto_answer(
    service: str,
    body: bytes,
    headers: dict[str, str],
    path: str,
    method: str = "POST",
    query: str = "",
    region: str | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """moto's answer to a request, through the request stub its in-process mock uses, with
    the URL the request would have had on AWS."""
    from botocore.awsrequest import AWSPreparedRequest
    from botocore.compat import HTTPHeaders
    from moto.core.models import botocore_stubber
    from moto.core.utils import get_service_model

    prefix = get_service_model(service).endpoint_prefix
    where = region or (_ACTIVE[0].region if _ACTIVE else "us-east-1")
    host = (
        f"{prefix}.amazonaws.com" if prefix in ("iam", "sts") else f"{prefix}.{where}.amazonaws.com"
    )
    url = f"https://{host}{path}" + (f"?{query}" if query else "")
    prepared = HTTPHeaders()
    for key, value in headers.items():
        if key.lower() != "host":
            prepared[key] = value
    prepared["Host"] = host
    request = AWSPreparedRequest(
        method=method, url=url, headers=prepared, body=body, stream_output=False
    )
    answer = botocore_stubber.process_request(request)
    if answer is None:
        raise NotImplementedError(f"the emulated AWS does not serve {service} at {url}")
    status, out_headers, out_body = answer
    data = out_body.encode("utf-8") if isinstance(out_body, str) else (out_body or b"")
    return int(status), {str(k): str(v) for k, v in dict(out_headers).items()}, data


_ACTIVE: list[Emulator] = []
"""The emulator running in this process (moto's mock is process-wide: one at a time)."""

_CLIENTS: dict[tuple[str, str, str, bool], Any] = {}
_SESSIONS: dict[str, Any] = {}


def _moto_stubber() -> Any:
    from moto.core.models import botocore_stubber

    return botocore_stubber


def _new_client(region: str, service: str, principal: str, internal: bool) -> Any:
    session = _SESSIONS.get(region)
    if session is None:
        import boto3

        session = boto3.session.Session(
            region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        # moto's before-send stub would answer every request after ours (botocore emits
        # before-send to every handler): dispatch calls it instead, for what moto serves.
        session._session.unregister("before-send", _moto_stubber())
        _share_models(session)
        _SESSIONS[region] = session
    client = session.client(service, region_name=region)
    service_name = client.meta.service_model.service_name

    def on_send(request: Any, event_name: str = "", **_: Any) -> Any:
        if not _ACTIVE:
            raise RuntimeError("no emulated AWS is running for this client")
        operation = event_name.rsplit(".", 1)[-1]
        return _ACTIVE[0]._dispatch_prepared(service_name, operation, request, principal, internal)

    client.meta.events.register_first(
        f"before-send.{client.meta.service_model.service_id.hyphenize()}", on_send
    )
    return client


def _operation_model(service: str, operation: str) -> Any:
    from moto.core.utils import get_service_model

    return get_service_model(service).operation_model(operation)


def _protocol(model: Any) -> str:
    """The protocol botocore's clients speak to the service: the first of the model's
    ``protocols`` that botocore supports (codedeploy, codepipeline and codebuild list
    smithy-rpc-v2-cbor first and json second; botocore prefers json)."""
    service_model = model.service_model
    return str(getattr(service_model, "resolved_protocol", None) or service_model.protocol)


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
    if protocol == "rest-xml":
        # S3's requests (bucket and key in the URL, the rest in headers and an XML body):
        # a service that checks one reads the body as it came (bluegreen.emulator.services.s3).
        return {"Body": body if isinstance(body, bytes) else body.encode("utf-8")}
    raise ServiceError("InvalidAction", f"the emulator serves {protocol} APIs through moto only")


def _serialize(service: str, model: Any, result: Any) -> tuple[int, dict[str, str], str | bytes]:
    import warnings

    from moto.core.serialize import (
        DefaultAttributePicker,
        XFormedAttributePicker,
        get_serializer_class,
    )

    # A result may hold moto's model objects (a service answering with moto's ECS
    # Service), read by their snake_case attributes with the picker moto's own responses
    # use; plain dicts take the default picker, ten times faster on large answers.
    picker = DefaultAttributePicker() if _plain(result) else XFormedAttributePicker()
    serializer = get_serializer_class(service, _protocol(model))(model, value_picker=picker)
    with warnings.catch_warnings():
        # An error code outside the service's model (UnknownOperationException, common
        # errors such as ThrottlingException) is serialized all the same; moto warns.
        warnings.simplefilter("ignore", UserWarning)
        response = serializer.serialize(result)
    body = response["body"]
    return response["status_code"], dict(response["headers"]), body


def _plain(value: Any) -> bool:
    """Whether ``value`` holds only dicts, lists and scalars (no model objects)."""
    if isinstance(value, dict):
        return all(_plain(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(_plain(v) for v in value)
    return value is None or isinstance(value, str | int | float | bool | bytes | datetime)


_shared_loader: dict[str, Any] = {}


def _share_models(session: Any) -> None:
    """Let moto read API models through botocore's loader, parsed once per process.

    moto parses a service's API model for every response it serializes, with a fresh
    loader each time; botocore's loader has already parsed and cached the same files.
    Every session of the emulator (and moto's region questions, :mod:`.motofix`) reads
    through the one loader of :func:`.motofix.shared_loader`.
    """
    from moto.core import utils

    from bluegreen.emulator.motofix import shared_loader

    loader = shared_loader()
    session._session.register_component("data_loader", loader)
    if "loader" in _shared_loader:
        return
    _shared_loader["loader"] = loader

    def load(service_name: str, model_name: str) -> Any:
        return loader.load_service_model(service_name, model_name)

    utils._load_service_model = load
