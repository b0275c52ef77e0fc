"""The emulated AWS on loopback: one HTTP endpoint for every service, for the sandbox.

AWS SDKs and the AWS CLI reach it with ``AWS_ENDPOINT_URL=http://127.0.0.1:<port>``. A
request's service comes from its SigV4 credential scope (``Credential=<key>/<date>/
<region>/<service>/aws4_request``), its operation from ``X-Amz-Target`` (JSON APIs) or
the ``Action`` parameter (query APIs). Then the same :meth:`Emulator.dispatch` serves it
as for in-process clients: bluegreen's services first, moto for the rest (REST APIs such
as S3 always go to moto), through the same request stub moto's in-process mock uses: the
request's URL is rewritten to the service's AWS endpoint, as an SDK would have sent it.

Only loopback is served: the endpoint has no authentication (any key works, as in moto).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

if TYPE_CHECKING:
    from bluegreen.emulator.core import Emulator

# SigV4 signing names that are not botocore service names.
_SIGNING = {
    "monitoring": "cloudwatch",
    "elasticloadbalancing": "elbv2",
    "execute-api": "apigateway",
}

StartResponse = Callable[..., Any]


class Endpoint:
    """A WSGI application serving ``emulator``, and the server running it on loopback."""

    def __init__(self, emulator: Emulator, port: int = 0, host: str = "127.0.0.1") -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the emulated AWS only listens on loopback")
        self.emulator = emulator
        self._host = host
        self._port = port
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the endpoint is not serving")
        return f"http://{self._host}:{self._server.server_port}"

    def start(self) -> None:
        from werkzeug.serving import WSGIRequestHandler, make_server

        class Quiet(WSGIRequestHandler):
            def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
                pass  # the sandbox reports what happens, not every request

        self._server = make_server(
            self._host, self._port, self, threaded=True, request_handler=Quiet
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="bluegreen-emulator-http", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
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
        service, operation = _identify(environ, body)
        if service is None:
            return _error(start_response, 400, "MissingAuthenticationToken", "unsigned request")
        if operation is None:
            return self._to_moto(service, environ, body, start_response)
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]

        def moto() -> tuple[int, dict[str, str], bytes]:
            return _call_moto(service, environ, body)

        try:
            answer = self.emulator.dispatch(service, operation, body, headers, moto=moto)
        except Exception as exc:  # noqa: BLE001 - never a traceback page for a client
            return _error(start_response, 500, "InternalFailure", f"{type(exc).__name__}: {exc}")
        status, out_headers, out_body = answer
        data = out_body.encode("utf-8") if isinstance(out_body, str) else out_body
        start_response(
            f"{status} {_REASONS.get(status, 'OK')}",
            [
                (k, str(v))
                for k, v in out_headers.items()
                if k.lower() not in ("content-length", "date")
            ]
            + [("Content-Length", str(len(data))), ("Date", self.emulator.http_date())],
        )
        return [data]

    def _to_moto(
        self, service: str, environ: dict[str, Any], body: bytes, start_response: StartResponse
    ) -> Iterable[bytes]:
        with self.emulator.lock:
            self.emulator.clock.run_due()
            try:
                status, headers, data = _call_moto(service, environ, body)
            except NotImplementedError as exc:
                return _error(start_response, 400, "InvalidAction", str(exc))
        start_response(
            f"{status} {_REASONS.get(status, 'OK')}",
            [(k, str(v)) for k, v in headers.items() if k.lower() not in ("content-length", "date")]
            + [("Content-Length", str(len(data))), ("Date", self.emulator.http_date())],
        )
        return [data]


def _call_moto(
    service: str, environ: dict[str, Any], body: bytes
) -> tuple[int, dict[str, str], bytes]:
    """moto's answer to the request, as its in-process stub gives it."""
    from bluegreen.emulator.core import moto_answer

    headers: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers[key[5:].replace("_", "-").title()] = value
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    scope = environ.get("HTTP_AUTHORIZATION", "").split("Credential=", 1)[-1].split("/")
    return moto_answer(
        service,
        body,
        headers,
        environ.get("PATH_INFO", "/"),
        method=environ.get("REQUEST_METHOD", "GET"),
        query=environ.get("QUERY_STRING", ""),
        region=scope[2] if len(scope) > 2 else None,
    )


def _identify(environ: dict[str, Any], body: bytes) -> tuple[str | None, str | None]:
    auth = environ.get("HTTP_AUTHORIZATION", "")
    try:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0]
        signing = scope.split("/")[3]
    except IndexError:
        return None, None
    service = _SIGNING.get(signing, signing)
    if service == "elbv2":
        version = _params(environ, body).get("Version", [""])[0]
        if version and version != "2015-12-01":
            service = "elb"
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return service, target.rsplit(".", 1)[-1]
    action = _params(environ, body).get("Action")
    if action:
        return service, action[0]
    return service, None  # a REST API: moto routes it


def _params(environ: dict[str, Any], body: bytes) -> dict[str, list[str]]:
    found = parse_qs(environ.get("QUERY_STRING", ""))
    content_type = environ.get("CONTENT_TYPE", "")
    if body and content_type.startswith("application/x-www-form-urlencoded"):
        found.update(parse_qs(body.decode("utf-8", "replace")))
    return found


def _error(start_response: StartResponse, status: int, code: str, message: str) -> list[bytes]:
    import json

    data = json.dumps({"__type": code, "message": message}).encode()
    start_response(
        f"{status} {_REASONS.get(status, 'Error')}",
        [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(data)))],
    )
    return [data]


_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 500: "Internal Server Error"}
