"""The emulated AWS on loopback: one HTTP endpoint for every service, for the sandbox.

AWS SDKs and the AWS CLI reach it with ``AWS_ENDPOINT_URL=http://127.0.0.1:<port>``. A
request's service comes from its SigV4 credential scope (``Credential=<key>/<date>/
<region>/<service>/aws4_request``), its operation from ``X-Amz-Target`` (JSON APIs), the
``Action`` parameter (query APIs), or, for REST APIs (S3, Lambda...), the method and path
matched against the ``http`` trait of each operation of botocore's API model. Then the
same :meth:`Emulator.dispatch` serves it as for in-process clients: bluegreen's services
first, moto for the rest, through the same request stub moto's in-process mock uses: the
request's URL is rewritten to the service's AWS endpoint, as an SDK would have sent it.

An operation nobody serves gets an error in the service's own protocol (JSON, query XML,
REST JSON or REST XML) naming the operation, never a traceback page: the AWS CLI and the
SDKs parse it like any AWS error.

A request signed for another region than the emulated one is refused as AWS refuses a
credential scoped to the wrong region (``Credential should be scoped to a valid region,
not '<region>'.``: InvalidSignatureException for JSON APIs, SignatureDoesNotMatch for
query APIs, HTTP 403; S3 answers AuthorizationHeaderMalformed, HTTP 400, naming the
region it expected; aws/aws-sdk-ruby#508, aws/aws-sdk-java#1097,
cognitect-labs/aws-api#27, versity/versitygw#192, and for S3 aws/aws-cli#2954,
minio/s3verify#128). Services with one global endpoint
(IAM, STS, S3, Route 53, CloudFront, Organizations) are signed for us-east-1 too ("If
you use a service like IAM that uses a globally unique endpoint, use the default region
(us-east-1)": AWS General Reference, "Elements of an AWS API request signature"), so
that region is accepted for them. Without the check, a sandbox started for one region
answered a command pointed at another as if the system lived there.

Only loopback is served: the endpoint has no authentication (any key works, as in moto).
An optional *control* (the sandbox's) answers ``/_bluegreen/...`` paths: the clock, the
repositories, moving time.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

if TYPE_CHECKING:
    from bluegreen.emulator.core import Emulator

LOOPBACK = ("127.0.0.1", "localhost", "::1")
"""The hosts the endpoint may listen on."""

CONTROL_PREFIX = "/_bluegreen/"
"""Paths the control answers (no S3 bucket can be named ``_bluegreen``: bucket names
hold lowercase letters, digits, dots and hyphens only, S3 User Guide, "Bucket naming
rules")."""

# SigV4 signing names that are not a botocore service's name, or that several services
# share: signingName (else endpointPrefix) in the metadata of botocore's API models
# (botocore 1.43), the service of the same name first. A request is then the service
# whose X-Amz-Target prefix, API version or REST route it matches.
_SIGNED_AS: dict[str, tuple[str, ...]] = {
    "IoTSecuredTunneling": ("iotsecuretunneling",),
    "access-analyzer": ("accessanalyzer",),
    "aco-automation": ("compute-optimizer-automation",),
    "airflow": ("mwaa",),
    "aoss": ("opensearchserverless",),
    "apigateway": ("apigateway", "apigatewayv2"),
    "app-integrations": ("appintegrations",),
    "appconfig": ("appconfig", "appconfigdata"),
    "application-cost-profiler": ("applicationcostprofiler",),
    "applicationinsights": ("application-insights",),
    "aps": ("amp",),
    "aws-marketplace": (
        "marketplace-catalog",
        "marketplace-agreement",
        "marketplace-deployment",
        "marketplace-entitlement",
        "marketplace-reporting",
        "meteringmarketplace",
    ),
    "awsssoportal": ("sso",),
    "backup-search": ("backupsearch",),
    "bedrock": (
        "bedrock",
        "bedrock-agent",
        "bedrock-agent-runtime",
        "bedrock-data-automation",
        "bedrock-data-automation-runtime",
        "bedrock-runtime",
    ),
    "bedrock-agentcore": ("bedrock-agentcore", "bedrock-agentcore-control"),
    "cases": ("connectcases",),
    "cassandra": ("keyspaces", "keyspacesstreams"),
    "chime": (
        "chime",
        "chime-sdk-identity",
        "chime-sdk-media-pipelines",
        "chime-sdk-meetings",
        "chime-sdk-messaging",
        "chime-sdk-voice",
    ),
    "cleanrooms-ml": ("cleanroomsml",),
    "cloudcontrolapi": ("cloudcontrol",),
    "cloudhsm": ("cloudhsm", "cloudhsmv2"),
    "cloudsearch": ("cloudsearch", "cloudsearchdomain"),
    "codeguru-profiler": ("codeguruprofiler",),
    "connect": ("connect", "connect-contact-lens"),
    "connect-campaigns": ("connectcampaigns", "connectcampaignsv2"),
    "dynamodb": ("dynamodb", "dynamodbstreams"),
    "elasticfilesystem": ("efs",),
    "elasticloadbalancing": ("elbv2", "elb"),
    "elasticmapreduce": ("emr",),
    "es": ("es", "opensearch"),
    "events": ("events",),
    "execute-api": ("apigatewaymanagementapi", "connectparticipant"),
    "forecast": ("forecast", "forecastquery"),
    "geo": ("location",),
    "greengrass": ("greengrass", "greengrassv2"),
    "iotdata": ("iot-data",),
    "ivs": ("ivs", "ivs-realtime"),
    "kinesisanalytics": ("kinesisanalytics", "kinesisanalyticsv2"),
    "kinesisvideo": (
        "kinesisvideo",
        "kinesis-video-archived-media",
        "kinesis-video-media",
        "kinesis-video-signaling",
    ),
    "lex": ("lex-models", "lex-runtime", "lexv2-models", "lexv2-runtime"),
    "mediastore": ("mediastore", "mediastore-data"),
    "mgh": ("mgh", "migrationhub-config"),
    "migrationhub-orchestrator": ("migrationhuborchestrator",),
    "migrationhub-strategy": ("migrationhubstrategy",),
    "mobiletargeting": ("pinpoint",),
    "monitoring": ("cloudwatch",),
    "mturk-requester": ("mturk",),
    "neptune-db": ("neptunedata",),
    "payment-cryptography": ("payment-cryptography", "payment-cryptography-data"),
    "personalize": ("personalize", "personalize-events", "personalize-runtime"),
    "profile": ("customer-profiles",),
    "rds": ("rds", "docdb", "neptune"),
    "refactor-spaces": ("migration-hub-refactor-spaces",),
    "s3": ("s3", "s3control"),
    "s3-outposts": ("s3outposts",),
    "sagemaker": (
        "sagemaker",
        "sagemaker-a2i-runtime",
        "sagemaker-edge",
        "sagemaker-featurestore-runtime",
        "sagemaker-metrics",
        "sagemaker-runtime",
    ),
    "scn": ("supplychain",),
    "servicecatalog": ("servicecatalog", "servicecatalog-appregistry"),
    "servicequotas": ("service-quotas",),
    "ses": ("ses", "sesv2", "pinpoint-email", "mailmanager"),
    "sms-voice": ("sms-voice", "pinpoint-sms-voice", "pinpoint-sms-voice-v2"),
    "sso": ("sso-admin",),
    "sso-oauth": ("sso-oidc",),
    "states": ("stepfunctions",),
    "supportapp": ("support-app",),
    "tagging": ("resourcegroupstaggingapi",),
    "timestream": ("timestream-query", "timestream-write"),
    "voiceid": ("voice-id",),
    "wisdom": ("wisdom", "qconnect"),
}

# The error an operation nobody serves gets, by protocol: what AWS answers for an action
# it does not know (AWS API references, "Common Errors": InvalidAction, "The action or
# operation requested is invalid", HTTP 400, for query APIs; UnknownOperationException
# for JSON ones, the code botocore models for awsJson services). For REST APIs AWS
# documents no common code; the JSON one for REST JSON, the query one for REST XML.
_UNKNOWN = {
    "json": "UnknownOperationException",
    "rest-json": "UnknownOperationException",
    "query": "InvalidAction",
    "ec2": "InvalidAction",
    "rest-xml": "InvalidAction",
}

StartResponse = Callable[..., Any]


class Control(Protocol):
    """Answers the ``/_bluegreen/`` paths: (status, JSON document)."""

    def handle(self, method: str, path: str, body: bytes) -> tuple[int, Any]: ...


class NotServed(NotImplementedError):
    """moto has nothing for this request (no URL matched): what the dispatcher answers
    with the protocol's unknown-operation error, as for moto's own NotImplementedError."""


class Endpoint:
    """A WSGI application serving ``emulator``, and the server running it on loopback.

    :meth:`bind` takes the port (raises ``OSError`` if it is in use); :meth:`start` binds
    if needed and serves from a thread; :meth:`stop` closes the port.
    """

    def __init__(
        self,
        emulator: Emulator,
        port: int = 0,
        host: str = "127.0.0.1",
        control: Control | None = None,
    ) -> None:
        if host not in LOOPBACK:
            raise ValueError("the emulated AWS only listens on loopback")
        self.emulator = emulator
        self.control = control
        self._host = host
        self._port = port
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the endpoint is not serving")
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._server.server_address[1]}"

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the endpoint is not bound")
        return int(self._server.server_address[1])

    def bind(self) -> None:
        """Take the port now (``OSError`` if something else holds it)."""
        if self._server is not None:
            return
        from werkzeug.serving import WSGIRequestHandler, make_server

        class Quiet(WSGIRequestHandler):
            def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
                pass  # the sandbox reports what happens, not every request

            def send_response(self, code: int, message: str | None = None) -> None:
                # Without the HTTP server's own Server and Date headers (http.server's
                # send_response adds them): the answer's Date is the emulator's, the
                # simulated time a command takes as the service's "now" (logs --since);
                # a second, real-time Date would be joined to it and read first.
                self.log_request(code)
                self.send_response_only(code, message)

        # The socket is bound here, not by werkzeug: werkzeug prints a message and exits
        # the process when the port is taken (werkzeug/serving.py, BaseWSGIServer), where
        # the caller wants the OSError. SO_REUSEADDR as socketserver sets it: a port left
        # in TIME_WAIT by the last run binds again, one another process listens on not.
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((self._host, self._port))
            listener.listen(128)
            self._server = make_server(
                self._host,
                listener.getsockname()[1],
                self,
                threaded=True,
                request_handler=Quiet,
                fd=listener.fileno(),
            )
        finally:
            listener.close()  # the server holds its own duplicate of the socket

    def start(self) -> None:
        self.bind()
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="bluegreen-emulator-http", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            if self._thread is not None:
                self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    # -- WSGI ---------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        path = environ.get("PATH_INFO", "/")
        if path.startswith(CONTROL_PREFIX) and "HTTP_AUTHORIZATION" not in environ:
            return self._control(environ, path, body, start_response)
        service, operation = _identify(environ, body)
        if service is None:
            return self._fail(
                start_response,
                Failure(403, "MissingAuthenticationToken", "the request is not signed (SigV4)"),
                "json",
            )
        protocol = service_protocol(service)
        if protocol is None:
            return self._fail(
                start_response,
                Failure(400, "UnrecognizedClientException", f"no AWS service {service!r}"),
                "json",
            )
        wrong = _wrong_region(environ, service, self.emulator.region, protocol)
        if wrong is not None:
            return self._fail(start_response, wrong, protocol)
        method = environ.get("REQUEST_METHOD", "GET")
        query = environ.get("QUERY_STRING", "")
        route: dict[str, str] | None = None
        if operation is None and protocol in ("json", "query", "ec2"):
            # No X-Amz-Target / Action: AWS's MissingAction ("The request is missing an
            # action or a required parameter", HTTP 400; API references, "Common Errors").
            failure = Failure(400, "MissingAction", f"the {service} request names no action")
            return self._fail(start_response, failure, protocol)
        if operation is None:
            operation = rest_operation(service, method, path, query, _headers(environ))
            if operation is None:  # moto may still know it (a URL form not modelled here)
                return self._unidentified(service, protocol, environ, body, start_response)
            route = {"method": method, "path": path, "query": query}
        if not _known(service, operation):
            return self._fail(start_response, _not_served(service, operation, protocol), protocol)
        headers = _headers(environ)

        def moto() -> tuple[int, dict[str, str], bytes]:
            return _call_moto(service, environ, body)

        try:
            answer = self.emulator.dispatch(
                service, operation, body, headers, moto=moto, route=route
            )
        except (NotImplementedError, ImportError):
            return self._fail(start_response, _not_served(service, operation, protocol), protocol)
        except Exception as exc:  # noqa: BLE001 - never a traceback page for a client
            failure = Failure(
                500,
                "InternalFailure",
                f"the emulated AWS failed on {service}:{operation}: {type(exc).__name__}: {exc}",
            )
            return self._fail(start_response, failure, protocol)
        status, out_headers, out_body = answer
        return self._answer(start_response, status, out_headers, out_body)

    def _fail(self, start_response: StartResponse, failure: Failure, protocol: str) -> list[bytes]:
        return _reply(start_response, failure, protocol, self.emulator.http_date())

    def _answer(
        self,
        start_response: StartResponse,
        status: int,
        headers: dict[str, str],
        body: str | bytes,
    ) -> list[bytes]:
        data = body.encode("utf-8") if isinstance(body, str) else (body or b"")
        start_response(
            f"{status} {_REASONS.get(status, 'OK')}",
            [(k, str(v)) for k, v in headers.items() if k.lower() not in ("content-length", "date")]
            + [("Content-Length", str(len(data))), ("Date", self.emulator.http_date())],
        )
        return [data]

    def _unidentified(
        self,
        service: str,
        protocol: str,
        environ: dict[str, Any],
        body: bytes,
        start_response: StartResponse,
    ) -> Iterable[bytes]:
        """A REST request no operation of the model matches: moto's, if it serves it (not
        journaled: without an operation there is nothing to replay)."""
        what = f"{environ.get('REQUEST_METHOD', 'GET')} {environ.get('PATH_INFO', '/')}"
        with self.emulator.lock:
            self.emulator.clock.run_due()
            try:
                status, headers, data = _call_moto(service, environ, body)
            except (NotImplementedError, ImportError):
                return self._fail(start_response, _not_served(service, what, protocol), protocol)
            except Exception as exc:  # noqa: BLE001 - never a traceback page for a client
                failure = Failure(
                    500, "InternalFailure", f"the emulated AWS failed on {service} {what}: {exc}"
                )
                return self._fail(start_response, failure, protocol)
        return self._answer(start_response, status, headers, data)

    def _control(
        self, environ: dict[str, Any], path: str, body: bytes, start_response: StartResponse
    ) -> list[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        host = environ.get("HTTP_HOST", "").rsplit(":", 1)[0].strip("[]")
        if host not in LOOPBACK:
            # A page in a browser could reach a loopback port through DNS rebinding; the
            # Host header then names the attacker's domain.
            status, document = 403, {"error": f"Host {host!r} is not loopback"}
        elif self.control is None:
            status, document = 404, {"error": f"no control at {path}"}
        elif method == "POST" and not environ.get("CONTENT_TYPE", "").startswith(
            "application/json"
        ):
            # A browser sends a cross-site POST without preflight only with a form or text
            # content type (Fetch standard, "CORS-safelisted request-header"): requiring
            # JSON keeps web pages from moving the clock.
            status, document = 415, {"error": "POST requires Content-Type: application/json"}
        else:
            try:
                status, document = self.control.handle(method, path, body)
            except Exception as exc:  # noqa: BLE001 - answered, never a traceback page
                status, document = 500, {"error": f"{type(exc).__name__}: {exc}"}
        data = json.dumps(document).encode()
        start_response(
            f"{status} {_REASONS.get(status, 'Error')}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
        )
        return [data]


@dataclass(frozen=True)
class Failure:
    """An AWS-style error answer."""

    status: int
    code: str
    message: str


def _not_served(service: str, operation: str, protocol: str) -> Failure:
    return Failure(
        400,
        _UNKNOWN.get(protocol, "InvalidAction"),
        f"The emulated AWS does not serve {service}:{operation}",
    )


def _reply(
    start_response: StartResponse, failure: Failure, protocol: str, date: str = ""
) -> list[bytes]:
    """``failure`` in ``protocol``'s error format, as botocore's parsers read it
    (botocore/parsers.py: the JSON ``__type``, the REST JSON ``x-amzn-ErrorType`` header,
    the query ``ErrorResponse/Error``, the EC2 ``Response/Errors/Error``, the REST XML
    ``Error``)."""
    headers: list[tuple[str, str]] = [("x-amzn-RequestId", "bluegreen-sandbox")]
    code, message = escape(failure.code), escape(failure.message)
    if protocol == "json":
        data = json.dumps({"__type": failure.code, "message": failure.message}).encode()
        headers.append(("Content-Type", "application/x-amz-json-1.1"))
    elif protocol == "rest-json":
        data = json.dumps({"message": failure.message}).encode()
        headers += [("Content-Type", "application/json"), ("x-amzn-ErrorType", failure.code)]
    elif protocol == "ec2":
        data = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message>"
            "</Error></Errors><RequestID>bluegreen-sandbox</RequestID></Response>"
        ).encode()
        headers.append(("Content-Type", "text/xml"))
    elif protocol == "rest-xml":
        data = (
            f"<Error><Code>{code}</Code><Message>{message}</Message>"
            "<RequestId>bluegreen-sandbox</RequestId></Error>"
        ).encode()
        headers.append(("Content-Type", "application/xml"))
    else:  # query
        data = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
            f"<Message>{message}</Message></Error>"
            "<RequestId>bluegreen-sandbox</RequestId></ErrorResponse>"
        ).encode()
        headers.append(("Content-Type", "text/xml"))
    if date:
        headers.append(("Date", date))
    start_response(
        f"{failure.status} {_REASONS.get(failure.status, 'Error')}",
        [*headers, ("Content-Length", str(len(data)))],
    )
    return [data]


# ------------------------------------------------------------------------- the API model


@cache
def _loader() -> Any:
    """A botocore loader of our own. The models botocore's clients use are shared and
    changed in place: an S3 client strips ``/{Bucket}`` from every requestUri the first
    time it calls an operation (botocore/handlers.py, remove_bucket_from_url_paths_
    from_model), after which CreateBucket's route reads ``/``. Routes are read from
    copies nobody changes."""
    from botocore.loaders import create_loader

    return create_loader()


@cache
def _model(service: str) -> Any:
    from botocore.exceptions import DataNotFoundError, UnknownServiceError
    from botocore.model import ServiceModel

    try:
        return ServiceModel(_loader().load_service_model(service, "service-2"), service)
    except (DataNotFoundError, UnknownServiceError):  # botocore has no such service
        return None


def service_protocol(service: str) -> str | None:
    """The protocol botocore speaks to ``service`` (None: no such service)."""
    model = _model(service)
    if model is None:
        return None
    return str(getattr(model, "resolved_protocol", None) or model.protocol)


def _known(service: str, operation: str) -> bool:
    model = _model(service)
    return model is not None and operation in model.operation_names


@dataclass(frozen=True)
class _Route:
    operation: str
    method: str
    path: re.Pattern[str]
    query: tuple[tuple[str, str | None], ...]
    headers: tuple[str, ...]  # required members sent as headers (lowercase)
    literal: int  # characters of the URI that are not labels: the more, the more specific


@cache
def _routes(service: str) -> tuple[_Route, ...]:
    model = _model(service)
    if model is None:
        return ()
    routes = []
    for name in model.operation_names:
        operation = model.operation_model(name)
        http = operation.http
        uri = str(http.get("requestUri", "/"))
        path, _, query = uri.partition("?")
        pattern = ""
        literal = 0
        for piece in re.split(r"(\{[^}]+\})", path):
            if piece.startswith("{"):
                pattern += "(.+)" if piece.endswith("+}") else "([^/]+)"
            else:
                pattern += re.escape(piece)
                literal += len(piece)
        required: list[tuple[str, str | None]] = []
        for item in filter(None, query.split("&")):
            key, sep, value = item.partition("=")
            required.append((key, value if sep else None))
        # Required members sent in the query or a header tell operations of one URI
        # apart (PutObject and CopyObject's x-amz-copy-source, DeleteObject and
        # AbortMultipartUpload's uploadId).
        headers: list[str] = []
        shape = operation.input_shape
        for member in shape.required_members if shape is not None else ():
            where = shape.members[member].serialization
            if where.get("location") == "querystring":
                required.append((str(where.get("name", member)), None))
            elif where.get("location") == "header":
                headers.append(str(where.get("name", member)).lower())
        routes.append(
            _Route(
                name,
                str(http.get("method", "POST")),
                re.compile(pattern.rstrip("/") + "/?\\Z"),
                tuple(required),
                tuple(headers),
                literal + len(required) + len(headers),
            )
        )
    return tuple(routes)


def rest_operation(
    service: str, method: str, path: str, query: str, headers: Iterable[str] = ()
) -> str | None:
    """The operation of a REST API that a request is (its method, path, query keys and
    header names against each operation's ``http`` trait and required members in the
    model), the most specific if several match; None if none does."""
    found = _rest_route(service, method, path, query, headers)
    return found.operation if found else None


def _rest_route(
    service: str, method: str, path: str, query: str, headers: Iterable[str] = ()
) -> _Route | None:
    present = parse_qs(query, keep_blank_values=True)
    sent = {name.lower() for name in headers}
    best: _Route | None = None
    for route in _routes(service):
        if route.method != method or not route.path.match(path):
            continue
        if any(
            key not in present or (value is not None and value not in present[key])
            for key, value in route.query
        ) or any(header not in sent for header in route.headers):
            continue
        if best is None or route.literal > best.literal:
            best = route
    return best


# ------------------------------------------------------------------------------ helpers


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {
        key[5:].replace("_", "-").title(): value
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    return headers


def _call_moto(
    service: str, environ: dict[str, Any], body: bytes
) -> tuple[int, dict[str, str], bytes]:
    """moto's answer to the request, as its in-process stub gives it."""
    from bluegreen.emulator.core import moto_answer

    scope = environ.get("HTTP_AUTHORIZATION", "").split("Credential=", 1)[-1].split("/")
    status, headers, data = moto_answer(
        service,
        body,
        _headers(environ),
        environ.get("PATH_INFO", "/"),
        method=environ.get("REQUEST_METHOD", "GET"),
        query=environ.get("QUERY_STRING", ""),
        region=scope[2] if len(scope) > 2 else None,
    )
    if status == 404 and data == b"Not yet implemented":
        # moto's stub for a URL its backend has no route for (moto/core/botocore_stubber.py)
        raise NotServed(f"moto has no route for {environ.get('PATH_INFO', '/')}")
    return status, headers, data


def _identify(environ: dict[str, Any], body: bytes) -> tuple[str | None, str | None]:
    """(service, operation) of a signed request; operation None for a REST request (see
    :func:`rest_operation`) or one that names no action."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    try:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0]
        signing = scope.split("/")[3]
    except IndexError:
        return None, None
    candidates = [c for c in _SIGNED_AS.get(signing, (signing,)) if _model(c) is not None]
    if not candidates:
        return signing, None
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        prefix, _, operation = target.rpartition(".")
        for service in candidates:
            if _model(service).metadata.get("targetPrefix") == prefix:
                return service, operation
        return candidates[0], operation
    if service_protocol(candidates[0]) in ("query", "ec2"):
        params = _params(environ, body)
        version = params.get("Version", [""])[0]
        service = next(
            (c for c in candidates if _model(c).metadata.get("apiVersion") == version),
            candidates[0],
        )
        action = params.get("Action")
        return service, action[0] if action else None
    method = environ.get("REQUEST_METHOD", "GET")
    path, query = environ.get("PATH_INFO", "/"), environ.get("QUERY_STRING", "")
    best: tuple[int, str] | None = None
    for service in candidates:
        found = _rest_route(service, method, path, query, _headers(environ))
        if found is not None and (best is None or found.literal > best[0]):
            best = (found.literal, service)
    return (best[1] if best else candidates[0]), None


GLOBAL_SIGNING = frozenset({"iam", "sts", "s3", "route53", "cloudfront", "organizations"})
"""Services whose global endpoint is signed for us-east-1 (module docstring)."""


def _wrong_region(
    environ: dict[str, Any], service: str, region: str, protocol: str
) -> Failure | None:
    """AWS's refusal of a request signed for another region than ``region``, or None."""
    scope = environ.get("HTTP_AUTHORIZATION", "").split("Credential=", 1)[-1].split("/")
    signed = scope[2] if len(scope) > 2 else ""
    if signed == region or (signed == "us-east-1" and service in GLOBAL_SIGNING):
        return None
    if protocol == "rest-xml" and service == "s3":
        return Failure(
            400,
            "AuthorizationHeaderMalformed",
            f"The authorization header is malformed; the region '{signed}' is wrong; "
            f"expecting '{region}' (this sandbox emulates {region} only)",
        )
    code = (
        "InvalidSignatureException"
        if protocol in ("json", "rest-json")
        else "SignatureDoesNotMatch"
    )
    return Failure(
        403,
        code,
        f"Credential should be scoped to a valid region, not '{signed}'. "
        f"(this sandbox emulates {region} only)",
    )


def _params(environ: dict[str, Any], body: bytes) -> dict[str, list[str]]:
    found = parse_qs(environ.get("QUERY_STRING", ""))
    content_type = environ.get("CONTENT_TYPE", "")
    if body and content_type.startswith("application/x-www-form-urlencoded"):
        found.update(parse_qs(body.decode("utf-8", "replace")))
    return found


_REASONS = {
    200: "OK",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    415: "Unsupported Media Type",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
