"""The hook's code (bluegreen.verification.hook) against a real HTTP server on 127.0.0.1.

Every loop is bounded: the hook sends at most the planned requests, each with a timeout
of its latency limit, and the server answers from a fixed table.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bluegreen import config as config_mod
from bluegreen.verification import checks, hook, package

ROUTES: dict[str, tuple[int, bytes, float]] = {
    "/": (200, "Hello, 網走".encode(), 0.0),
    "/broken": (500, b"Internal Server Error", 0.0),
    "/slow": (200, b"slow but fine", 0.4),
    "/moved": (301, b"", 0.0),
}


class _Handler(BaseHTTPRequestHandler):
    seen: list[tuple[str, str]] = []

    def _answer(self) -> None:
        _Handler.seen.append((self.command, self.path))
        status, body, delay = ROUTES.get(self.path.split("?")[0], (404, b"not found", 0.0))
        time.sleep(delay)
        self.send_response(status)
        if status == 301:
            self.send_header("Location", "/")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_HEAD = do_POST = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    _Handler.seen = []
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def check(**overrides: Any) -> dict[str, Any]:
    base = config_mod.CheckConfig().model_dump()
    base.update(overrides)
    return base


def plan(*checks: dict[str, Any], interval: int = 0, url: str = "") -> dict[str, Any]:
    return {
        "checks": list(checks),
        "interval_seconds": interval,
        "callback_seconds": 45,
        "url": url,
    }


class Reports:
    """CodeDeploy's PutLifecycleEventHookExecutionStatus, as the hook calls it."""

    def __init__(self) -> None:
        self.calls: list[dict[str, str]] = []
        self.codedeploy = self

    def put_lifecycle_event_hook_execution_status(self, **kwargs: str) -> None:
        self.calls.append(kwargs)


CODEDEPLOY_EVENT = {"DeploymentId": "d-ABC", "LifecycleEventHookExecutionId": "e-1"}
ECS_EVENT = {
    "serviceArn": "arn:aws:ecs:us-east-1:123456789012:service/c/s",
    "targetServiceRevisionArn": "arn:aws:ecs:us-east-1:123456789012:service-revision/c/s/1",
}


def test_a_passing_check_sends_every_request_and_codedeploy_hears_succeeded(server: str) -> None:
    reports = Reports()
    lines: list[str] = []
    answer = hook.execute(
        CODEDEPLOY_EVENT,
        120,
        reports,
        plan(check(count=3, body="網走"), url=server),
        log=lines.append,
    )
    assert reports.calls == [
        {"deploymentId": "d-ABC", "lifecycleEventHookExecutionId": "e-1", "status": "Succeeded"}
    ]
    assert answer["status"] == "Succeeded"
    assert _Handler.seen == [("GET", "/")] * 3
    logged = [json.loads(line.split(" ", 1)[1]) for line in lines]
    assert [(r["request"], r["status"], r["ok"], r["number"], r["of"]) for r in logged] == [
        ("GET /", 200, True, n, 3) for n in (1, 2, 3)
    ]
    assert all(line.startswith(checks.LOG_MARK + " ") for line in lines)
    assert all(0 <= r["latency_ms"] < 2000 for r in logged)


def test_a_500_fails_at_once_and_stops_sending(server: str) -> None:
    reports = Reports()
    answer = hook.execute(
        CODEDEPLOY_EVENT,
        120,
        reports,
        plan(check(path="/broken", count=5), check(count=2), url=server),
        log=lambda _: None,
    )
    assert [c["status"] for c in reports.calls] == ["Failed"]
    assert _Handler.seen == [("GET", "/broken")]  # no further request after the failure
    (result,) = answer["results"]
    assert (result["status"], result["ok"]) == (500, False)
    assert result["reason"] == "status 500, expected 200"


@pytest.mark.parametrize(
    ("overrides", "ok", "reason"),
    [
        ({"body": "網走"}, True, ""),
        ({"body": "Abashiri"}, False, "body does not contain 'Abashiri'"),
        ({"body_pattern": r"^Hello, \w+$"}, True, ""),
        ({"body_pattern": r"^Bye"}, False, "body does not match '^Bye'"),
        ({"path": "/moved", "status": 301}, True, ""),  # redirects are judged, not followed
        ({"path": "/moved"}, False, "status 301, expected 200"),
        ({"path": "/nothing", "status": 404}, True, ""),
        ({"method": "HEAD"}, True, ""),
    ],
)
def test_each_judgement(server: str, overrides: dict[str, Any], ok: bool, reason: str) -> None:
    result = checks.probe(server, check(**overrides))
    assert (result["ok"], result["reason"]) == (ok, reason)


def test_latency_limit_at_both_edges(server: str) -> None:
    """/slow answers after 0.4 s: a 1000 ms limit passes, a 100 ms one fails (the
    request times out at the limit, so the hook never waits longer)."""
    assert checks.probe(server, check(path="/slow", max_latency_ms=1000))["ok"]
    started = time.monotonic()
    result = checks.probe(server, check(path="/slow", max_latency_ms=100))
    assert not result["ok"] and time.monotonic() - started < 0.4
    assert result["reason"].startswith("no answer")


def test_no_listener_is_a_failure_not_a_crash() -> None:
    result = checks.probe("http://127.0.0.1:9", check(max_latency_ms=500))
    assert (result["ok"], result["status"]) == (False, 0)


def test_ecs_gets_in_progress_with_the_callback_delay_and_resumes(server: str) -> None:
    """With too little time for every request, the ECS hook returns IN_PROGRESS with
    callBackDelay and hookDetails; invoked again with those details it continues where it
    stopped, and a fresh invocation with enough time finishes SUCCEEDED."""
    now = [0.0]

    def clock() -> float:
        return now[0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    steps = plan(check(count=4, max_latency_ms=1000), interval=10, url=server)
    # 30 s for the report and 20 for requests: the third would start at 10 s (one pause)
    # and could last until 21 s (10 s pause + 1 s latency limit), past the 20.
    first = hook.execute(
        ECS_EVENT, 30 + 20, None, steps, clock=clock, sleep=sleep, log=lambda _: None
    )
    assert first == {"hookStatus": "IN_PROGRESS", "callBackDelay": 45, "hookDetails": {"next": 2}}
    assert len(_Handler.seen) == 2
    second = hook.execute(
        {**ECS_EVENT, "hookDetails": first["hookDetails"]},
        300,
        None,
        steps,
        clock=clock,
        sleep=sleep,
        log=lambda _: None,
    )
    assert second == {"hookStatus": "SUCCEEDED"}
    assert len(_Handler.seen) == 4


def test_ecs_failure_is_failed(server: str) -> None:
    answer = hook.execute(
        ECS_EVENT, 60, None, plan(check(path="/broken"), url=server), log=lambda _: None
    )
    assert answer == {"hookStatus": "FAILED"}


def test_codedeploy_out_of_time_fails_rather_than_waiting(server: str) -> None:
    """CodeDeploy invokes its hook once: checks left unsent fail the hook."""
    reports = Reports()
    hook.execute(
        CODEDEPLOY_EVENT, 30.5, reports, plan(check(count=2), url=server), log=lambda _: None
    )
    assert [c["status"] for c in reports.calls] == ["Failed"]
    assert _Handler.seen == []


class _Context:
    """Lambda's context object: the time left."""

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def test_the_shipped_prober_spreads_requests_over_the_targets(server: str) -> None:
    """The prober's index.py (checks.py alone, as the template carries it) run as Lambda
    would: probe_handler(event, context)."""
    namespace: dict[str, Any] = {"__name__": "index"}
    exec(compile(package.source(None), "index.py", "exec"), namespace)  # noqa: S102
    address = server.removeprefix("http://")
    steps = {"checks": [check(count=4)], "interval_seconds": 0}
    event = {"probe": {"targets": [address, address], "start": 1, "seconds": 30}, "plan": steps}
    answer = namespace["probe_handler"](event, _Context())
    assert answer["next"] == 4 and [r["number"] for r in answer["results"]] == [2, 3, 4]
    assert all(r["ok"] for r in answer["results"]) and len(_Handler.seen) == 3
    empty = namespace["probe_handler"]({**event, "probe": {"targets": []}}, _Context())
    assert empty["results"][0]["reason"] == "no healthy target"


class _Lambda:
    """The hook's calls in prober mode: ELB reads and the prober's invocation, answered
    by running the shipped prober in process."""

    def __init__(self, server: str) -> None:
        self.address = server.removeprefix("http://")
        self.elbv2 = self
        self.awslambda = self
        self.codedeploy = Reports()
        self.prober: dict[str, Any] = {"__name__": "index"}
        exec(compile(package.source(None), "index.py", "exec"), self.prober)  # noqa: S102

    def describe_rules(self, ListenerArn: str) -> dict[str, Any]:  # noqa: N803
        assert ListenerArn == "arn:test-listener"
        forward = {
            "TargetGroups": [
                {"TargetGroupArn": "arn:blue", "Weight": 0},
                {"TargetGroupArn": "arn:green", "Weight": 1},
            ]
        }
        return {
            "Rules": [
                {
                    "IsDefault": True,
                    "Priority": "default",
                    "Actions": [{"TargetGroupArn": "arn:blue"}],
                },
                {"IsDefault": False, "Priority": "1", "Actions": [{"ForwardConfig": forward}]},
            ]
        }

    def describe_target_health(self, TargetGroupArn: str) -> dict[str, Any]:  # noqa: N803
        assert TargetGroupArn == "arn:green"
        host, port = self.address.split(":")
        healthy = {"Target": {"Id": host, "Port": int(port)}, "TargetHealth": {"State": "healthy"}}
        draining = {"Target": {"Id": "10.0.0.9", "Port": 80}, "TargetHealth": {"State": "draining"}}
        return {"TargetHealthDescriptions": [healthy, draining]}

    def invoke(self, FunctionName: str, Payload: bytes) -> dict[str, Any]:  # noqa: N803
        assert FunctionName == "prober"
        answer = self.prober["probe_handler"](json.loads(Payload), _Context())
        return {"Payload": io.BytesIO(json.dumps(answer).encode())}


def test_prober_mode_checks_the_healthy_targets_of_the_test_rule(server: str) -> None:
    clients = _Lambda(server)
    lines: list[str] = []
    steps = {
        **plan(check(count=2)),
        "url": "",
        "prober": "prober",
        "test_listener_arn": "arn:test-listener",
    }
    answer = hook.execute(CODEDEPLOY_EVENT, 120, clients, steps, log=lines.append)
    assert answer["status"] == "Succeeded"
    assert [c["status"] for c in clients.codedeploy.calls] == ["Succeeded"]
    assert len(_Handler.seen) == 2 and len(lines) == 2  # the prober's results, logged here


def test_the_package_is_reproducible_and_carries_the_plan() -> None:
    text = '[[verify.checks]]\npath = "/"\nbody = "Hello"\n'
    cfg = config_mod.parse(text)
    assert package.archive(cfg) == package.archive(config_mod.parse(text))
    namespace: dict[str, Any] = {}
    exec(compile(package.source(cfg), "index.py", "exec"), namespace)  # noqa: S102
    assert namespace["PLAN"]["checks"][0]["body"] == "Hello"
    other = config_mod.parse(text.replace("Hello", "Bye"))
    assert package.digest(other) != package.digest(cfg)
    assert "123456789012" not in package.source(cfg)
