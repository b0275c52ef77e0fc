"""A local HTTP server per load balancer listener, routing as the emulated ALB does.

Each listener (production :80, test :8080) gets a server on an ephemeral port of
127.0.0.1 (:meth:`bluegreen.emulator.services.elbv2.Elbv2.local_address`). Every request
is routed from the listener's state at that moment, as ELB holds it (rules by priority,
then the default action; ALB guide, listener-update-rules.md, "Rule evaluation"):

- conditions ``path-pattern``, ``host-header``, ``http-header``, ``http-request-method``
  and ``query-string`` (wildcards ``*`` and ``?``; values of one condition or'ed,
  conditions and'ed; paths case-sensitive, hosts and header values not: ALB guide,
  "Condition types"); ``source-ip`` matches only a rule open to ``0.0.0.0/0`` (a local
  client has no address the rule could mean);
- ``forward`` to one target group, or to several by weight (a weight-0 group gets
  nothing; the choice is a smooth weighted round robin, deterministic, where ALB picks
  at random in proportion), ``fixed-response`` and ``redirect``; authentication actions
  answer 501 (not emulated);
- within a group, only healthy targets get requests ("each load balancer node routes
  requests only to the healthy targets"), round robin; "if a target group contains only
  unhealthy registered targets, the load balancer routes requests to all those targets,
  regardless of their health status" (fail-open; ALB guide, target-group-health-checks.md);
  a draining target gets no new requests; with no target to send to, 503 ("the target
  groups for the load balancer have no registered targets", ALB guide,
  load-balancer-troubleshooting.md, "HTTP 503");
- a target the security groups do not let the load balancer reach answers 504 ("the load
  balancer failed to establish a connection to the target before the connection timeout
  expired", "HTTP 504"), one with nothing listening 502 ("the load balancer received a TCP
  RST from the target when attempting to establish a connection", "HTTP 502"), both at
  once here rather than after the connection timeout.

The request goes to the target's local process with ``X-Forwarded-For``,
``X-Forwarded-Proto`` and ``X-Forwarded-Port`` added (ALB guide, x-forwarded-headers.md).
Every answer is recorded as an access log entry (the target group and target that served
it, both status codes, the target's processing time: :mod:`bluegreen.emulator.albmetrics`).
Bounded: bodies up to :data:`MAX_BODY` bytes, :data:`TARGET_TIMEOUT` real seconds per
request, loopback only; the servers stop with the emulator.
"""

from __future__ import annotations

import contextlib
import fnmatch
import http.client
import ipaddress
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from bluegreen.emulator.albmetrics import AccessEntry

if TYPE_CHECKING:
    from bluegreen.emulator.services.elbv2 import Elbv2

MAX_BODY = 1 << 20
"""Bytes of a request or response body the proxy relays at most."""

TARGET_TIMEOUT = 10.0
"""Real seconds a target has to answer a proxied request."""

_HOP_BY_HOP = frozenset(
    (
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "content-length",
    )
)

Forwarder = Callable[[str, str, int], "tuple[str, int] | tuple[int, str]"]
"""(target group ARN, target id, port) -> the local address to send to, or the status
code and reason the load balancer answers with instead."""


@dataclass
class Answer:
    """What the load balancer answers itself."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    group_arn: str = ""  # the target group whose chosen target could not be reached
    target: str = ""  # that target, "ip:port"


@dataclass(frozen=True)
class Forward:
    """Where a request goes."""

    group_arn: str
    target_id: str
    port: int
    address: tuple[str, int]


class Router:
    """The routing decisions of one listener (state kept between requests)."""

    def __init__(self, elb: Elbv2, listener_arn: str) -> None:
        self.elb = elb
        self.listener_arn = listener_arn
        self._current: dict[tuple[str, ...], dict[str, float]] = {}
        self._next_target: dict[str, int] = {}

    def listener(self) -> Any:
        backend = self.elb.emulator.backend("elbv2")
        for balancer in backend.load_balancers.values():
            found = balancer.listeners.get(self.listener_arn)
            if found is not None:
                return found
        return None

    def route(self, method: str, target: str, headers: dict[str, str]) -> Answer | Forward:
        listener = self.listener()
        if listener is None:
            return Answer(503, b"the listener no longer exists\n")
        parts = urlsplit(target)
        path = parts.path or "/"
        query = parse_qsl(parts.query, keep_blank_values=True)
        rules = sorted(
            listener.rules.values(),
            key=lambda r: (
                r.priority == "default",
                int(r.priority) if r.priority != "default" else 0,
            ),
        )
        for rule in rules:
            if all(_matches(c, method, path, query, headers) for c in rule.conditions or []):
                return self._act(rule.actions, listener, path, parts.query, headers)
        return Answer(503, b"no rule matched\n")

    def _act(
        self, actions: list[Any], listener: Any, path: str, query: str, headers: dict[str, str]
    ) -> Answer | Forward:
        ordered = sorted(actions, key=lambda a: int(a.data.get("Order") or 0))
        for action in ordered:
            kind = str(action.data.get("Type", "")).lower()
            if kind.startswith("authenticate"):
                return Answer(501, b"authentication actions are not emulated\n")
            if kind == "fixed-response":
                config = action.data.get("FixedResponseConfig") or {}
                body = str(config.get("MessageBody") or "").encode()
                content = str(config.get("ContentType") or "text/plain")
                return Answer(int(config.get("StatusCode") or 200), body, {"Content-Type": content})
            if kind == "redirect":
                return _redirect(
                    action.data.get("RedirectConfig") or {}, listener, path, query, headers
                )
            if kind == "forward":
                return self._forward(action.data)
        return Answer(503, b"the rule has no action the emulator plays\n")

    def _forward(self, data: dict[str, Any]) -> Answer | Forward:
        groups: list[tuple[str, float]] = []
        if data.get("ForwardConfig"):
            for item in data["ForwardConfig"].get("TargetGroups", []):
                groups.append((str(item["TargetGroupArn"]), float(item.get("Weight", 1))))
        elif data.get("TargetGroupArn"):
            groups.append((str(data["TargetGroupArn"]), 1.0))
        live = [(arn, w) for arn, w in groups if w > 0]
        if not live:
            return _unavailable()
        arn = self._pick_group(live)
        return self._pick_target(arn)

    def _pick_group(self, groups: list[tuple[str, float]]) -> str:
        """Smooth weighted round robin: over any run of requests, each group's share
        follows its weight, in a fixed order."""
        key = tuple(f"{a}={w}" for a, w in groups)
        current = self._current.setdefault(key, {a: 0.0 for a, _ in groups})
        total = sum(w for _, w in groups)
        for arn, weight in groups:
            current[arn] += weight
        best = max(groups, key=lambda g: current[g[0]])[0]
        current[best] -= total
        return best

    def _pick_target(self, group_arn: str) -> Answer | Forward:
        targets = [t for t in self.elb.targets(group_arn) if t.state != "draining"]
        healthy = [t for t in targets if t.state == "healthy"]
        candidates = healthy or [t for t in targets if t.state == "unhealthy"]
        if not candidates:
            return _unavailable()
        turn = self._next_target.get(group_arn, 0)
        self._next_target[group_arn] = turn + 1
        target = candidates[turn % len(candidates)]
        forwarder = self.elb.forwarder
        if forwarder is None:
            return Answer(502, b"no local process serves this target\n", _elb_headers())
        where = forwarder(group_arn, target.id, target.port)
        if isinstance(where[0], int):
            status, reason = where
            return Answer(
                int(status),
                f"{reason}\n".encode(),
                _elb_headers(),
                group_arn,
                f"{target.id}:{target.port}",
            )
        host, port = where
        return Forward(group_arn, target.id, target.port, (str(host), int(port)))


def _unavailable() -> Answer:
    return Answer(503, b"503 Service Temporarily Unavailable\n", _elb_headers())


def _elb_headers() -> dict[str, str]:
    # What an ALB's own error pages carry (public reports: "Server: awselb/2.0").
    return {"Content-Type": "text/plain; charset=utf-8", "Server": "awselb/2.0"}


def _wild(value: str, pattern: str, *, fold: bool) -> bool:
    if fold:
        value, pattern = value.lower(), pattern.lower()
    escaped = pattern.replace("[", "[[]")
    return fnmatch.fnmatchcase(value, escaped)


def _values(condition: dict[str, Any], config: str, inner: str = "Values") -> list[Any]:
    found = condition.get(config) or {}
    values = found.get(inner) if isinstance(found, dict) else None
    return list(values if values is not None else condition.get("Values") or [])


def _matches(
    condition: dict[str, Any],
    method: str,
    path: str,
    query: list[tuple[str, str]],
    headers: dict[str, str],
) -> bool:
    field_name = str(condition.get("Field", ""))
    lowered = {k.lower(): v for k, v in headers.items()}
    if field_name == "path-pattern":
        return any(_wild(path, str(p), fold=False) for p in _values(condition, "PathPatternConfig"))
    if field_name == "host-header":
        host = lowered.get("host", "").split(":", 1)[0]
        return any(_wild(host, str(p), fold=True) for p in _values(condition, "HostHeaderConfig"))
    if field_name == "http-request-method":
        return method.upper() in {
            str(v).upper() for v in _values(condition, "HttpRequestMethodConfig")
        }
    if field_name == "http-header":
        config = condition.get("HttpHeaderConfig") or {}
        value = lowered.get(str(config.get("HttpHeaderName", "")).lower())
        return value is not None and any(
            _wild(value, str(p), fold=True) for p in config.get("Values") or []
        )
    if field_name == "query-string":
        wanted = (condition.get("QueryStringConfig") or {}).get("Values") or []
        return any(
            any(
                (item.get("Key") is None or _wild(k, str(item["Key"]), fold=True))
                and _wild(v, str(item.get("Value", "")), fold=True)
                for k, v in query
            )
            for item in wanted
        )
    if field_name == "source-ip":
        cidrs = _values(condition, "SourceIpConfig")
        return any(ipaddress.ip_network(str(c), strict=False).prefixlen == 0 for c in cidrs)
    return False  # a condition the emulator does not know: the rule does not match


def _redirect(
    config: dict[str, Any], listener: Any, path: str, query: str, headers: dict[str, str]
) -> Answer:
    """A redirect action's Location, with its #{protocol}, #{host}, #{port}, #{path} and
    #{query} keys (ALB guide, "Redirect actions")."""
    host = {k.lower(): v for k, v in headers.items()}.get("host", "").split(":", 1)[0]
    values = {
        "protocol": str(listener.protocol).lower(),
        "host": host,
        "port": str(listener.port),
        "path": path.lstrip("/"),
        "query": query,
    }

    def fill(text: str) -> str:
        for key, value in values.items():
            text = text.replace("#{" + key + "}", value)
        return text

    protocol = fill(str(config.get("Protocol") or "#{protocol}")).lower()
    where = fill(str(config.get("Host") or "#{host}"))
    port = fill(str(config.get("Port") or "#{port}"))
    new_path = fill(str(config.get("Path") or "/#{path}"))
    new_query = fill(str(config.get("Query") or "#{query}"))
    location = f"{protocol}://{where}:{port}{new_path}" + (f"?{new_query}" if new_query else "")
    status = 301 if str(config.get("StatusCode", "HTTP_301")) == "HTTP_301" else 302
    return Answer(status, b"", {"Location": location, "Server": "awselb/2.0"})


class ListenerProxy:
    """The loopback server of one listener."""

    def __init__(
        self,
        elb: Elbv2,
        listener_arn: str,
        after: Callable[[str], None] | None = None,
        record: Callable[[AccessEntry], None] | None = None,
    ) -> None:
        self.router = Router(elb, listener_arn)
        lock = elb.emulator.lock
        clock = elb.emulator.clock

        def log(
            seconds: float,
            headers: dict[str, str],
            answer: Answer,
            group: str = "",
            target: str = "",
            target_status: int | None = None,
            target_seconds: float = -1.0,
        ) -> None:
            # One access log entry (albmetrics.AccessEntry), before the client has the
            # answer: whoever reads the log after its response finds the request there.
            if record is None:
                return
            trace = next((v for k, v in headers.items() if k.lower() == "x-amzn-trace-id"), "")
            entry = AccessEntry(
                seconds,
                listener_arn,
                group or answer.group_arn,
                target or answer.target,
                answer.status,
                target_status,
                target_seconds,
                trace,
            )
            with lock:
                record(entry)

        router = self.router
        listener = router.listener()
        listener_port = str(getattr(listener, "port", ""))

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"
            server_version = "awselb/2.0"
            sys_version = ""

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return None  # the app logs what it serves

            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    self._answer(Answer(413, b"request body too large\n", _elb_headers()))
                    return
                body = self.rfile.read(length) if length else b""
                headers = {k: v for k, v in self.headers.items()}
                with lock:
                    decision = router.route(self.command, self.path, headers)
                    seconds = clock.seconds
                if isinstance(decision, Answer):
                    log(seconds, headers, decision)
                    self._answer(decision)
                    return
                self._forward(decision, headers, body, seconds)

            def _forward(
                self, to: Forward, headers: dict[str, str], body: bytes, seconds: float
            ) -> None:
                out = {k: v for k, v in headers.items() if k.lower() not in _HOP_BY_HOP}
                client = self.client_address[0]
                seen = out.pop("X-Forwarded-For", "") or out.pop("x-forwarded-for", "")
                out["X-Forwarded-For"] = f"{seen}, {client}" if seen else client
                out["X-Forwarded-Proto"] = "http"
                out["X-Forwarded-Port"] = listener_port
                if body:
                    out["Content-Length"] = str(len(body))
                connection = http.client.HTTPConnection(*to.address, timeout=TARGET_TIMEOUT)
                target_status: int | None = None
                target_seconds = -1.0
                started = time.perf_counter()
                try:
                    connection.request(self.command, self.path, body=body or None, headers=out)
                    response = connection.getresponse()
                    target_seconds = time.perf_counter() - started
                    data = response.read(MAX_BODY + 1)[:MAX_BODY]
                    target_status = response.status
                    answer = Answer(
                        response.status,
                        data,
                        {k: v for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP},
                    )
                except TimeoutError:
                    answer = Answer(504, b"the target did not answer in time\n", _elb_headers())
                except (OSError, http.client.HTTPException):
                    answer = Answer(502, b"the target's answer was not HTTP\n", _elb_headers())
                finally:
                    connection.close()
                if after is not None:
                    with lock:
                        after(to.target_id)
                log(
                    seconds,
                    headers,
                    answer,
                    to.group_arn,
                    f"{to.target_id}:{to.port}",
                    target_status,
                    target_seconds if target_status is not None else -1.0,
                )
                self._answer(answer)

            def _answer(self, answer: Answer) -> None:
                self.send_response(answer.status)
                for key, value in answer.headers.items():
                    if key.lower() not in ("server", "date"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(answer.body)

            do_GET = _relay  # noqa: N815
            do_HEAD = _relay  # noqa: N815
            do_POST = _relay  # noqa: N815
            do_PUT = _relay  # noqa: N815
            do_PATCH = _relay  # noqa: N815
            do_DELETE = _relay  # noqa: N815
            do_OPTIONS = _relay  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name=f"bluegreen listener {listener_arn.rsplit('/', 1)[-1]}",
            daemon=True,
        )
        self.thread.start()

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.server.server_address[:2]
        return str(host), int(port)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.server.shutdown()
            self.server.server_close()
        self.thread.join(timeout=2)
