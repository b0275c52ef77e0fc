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
from bluegreen.aws.verification import check_line
from bluegreen.verification import checks, hook, package

ROUTES: dict[str, tuple[int, bytes, float]] = {
    "/": (200, "Hello, 網走".encode(), 0.0),
    "/broken": (500, b"Internal Server Error", 0.0),
    "/slow": (200, b"slow but fine", 0.4),
    "/moved": (301, b"", 0.0),
    "/blank": (200, b" ", 0.0),
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
REVISION = "arn:aws:ecs:us-east-1:123456789012:service-revision/c/s/1"
ECS_EVENT: dict[str, Any] = {
    # The shape of ECS's POST_TEST_TRAFFIC_SHIFT example (ECS developer guide, "Lambda
    # hooks for Amazon ECS service deployments"), weights empty as there.
    "executionId": "a1b2c3d4",
    "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT",
    "resourceArn": "arn:aws:ecs:us-east-1:123456789012:service-deployment/c/s/x9",
    "executionDetails": {
        "serviceArn": "arn:aws:ecs:us-east-1:123456789012:service/c/s",
        "targetServiceRevisionArn": REVISION,
        "testTrafficWeights": {},
        "productionTrafficWeights": {},
    },
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
    # What was asked and what came back, in the result (logged) and the reply (F5).
    assert result["expected"] == "200, within 2000 ms"
    assert result["body"] == "Internal Server Error"
    assert answer["reason"] == (
        "GET /broken (check 1 of 2, request 1 of 5) failed: status 500, expected 200; got 500 "
        f"in {result['latency_ms']} ms: 'Internal Server Error'"
    )


def test_several_checks_are_numbered_by_check_and_by_request(server: str) -> None:
    """Review U12: with two checks of three requests, the second check's first request
    read "4/6"; it is check 2/2, request 1/3, in the hook's reply, the rehearsal's
    timeline row and `bluegreen status`'s table."""
    from bluegreen.aws.verification import check_line
    from bluegreen.rehearse.recorder import check_row

    answer = hook.execute(
        CODEDEPLOY_EVENT,
        120,
        Reports(),
        plan(check(count=3), check(count=3, body="Goodbye"), url=server),
        log=lambda _: None,
    )
    *passed, failed = answer["results"]
    assert [(r["check"], r["repeat"], r["count"], r["checks"]) for r in passed] == [
        (1, n, 3, 2) for n in (1, 2, 3)
    ]
    assert (failed["number"], failed["check"], failed["repeat"]) == (4, 2, 1)
    assert answer["reason"].startswith("GET / (check 2 of 2, request 1 of 3) failed: body")
    event, _detail = check_row(failed)
    assert event.startswith("check 2/2 GET / request 1/3: FAIL 200")
    assert check_line(failed)[:2] == ["2/2", "GET / (1/3)"]
    # One check: numbered by its requests, as before.
    (one,) = hook.execute(
        CODEDEPLOY_EVENT, 120, Reports(), plan(check(count=1), url=server), log=lambda _: None
    )["results"]
    assert check_row(one)[0].startswith("check 1/1 GET /: pass 200")
    assert check_line(one)[:2] == ["1/1", "GET /"]


def test_a_failed_answer_keeps_one_line_of_its_body() -> None:
    assert checks.excerpt("  <html>\n  <body>oops</body>\n</html>\n") == (
        "<html> <body>oops</body> </html>"
    )
    long = checks.excerpt("x" * 500)
    assert len(long) == checks.BODY_EXCERPT_CHARACTERS and long.endswith("…")
    assert checks.expected(check(body="網走", max_latency_ms=500)) == (
        '200, body contains "網走", within 500 ms'
    )
    # a request that got no answer says so, without a status to show
    assert checks.failure({"request": "GET /", "ok": False, "reason": "no answer: refused"}) == (
        "GET / failed: no answer: refused"
    )


def test_a_blank_body_is_called_blank_and_the_pattern_is_shown_as_configured(server: str) -> None:
    """Review U5: a body of one space failed `\\S` as "empty body", the pattern as '\\\\S'."""
    result = checks.probe(server, check(path="/blank", body_pattern=r"\S"))
    assert result["reason"] == 'body does not match "\\S"'
    assert checks.failure(result).endswith(
        "; got 200 in " + str(result["latency_ms"]) + " ms: a blank body (1 whitespace character)"
    )
    assert check_line(result)[-1] == (
        'body does not match "\\S"; a blank body (1 whitespace character)'
    )
    empty = checks.probe(server, check(path="/moved", status=301, body_pattern=r"\S"))
    assert checks.failure(empty).endswith(": an empty body")


@pytest.mark.parametrize(
    ("overrides", "ok", "reason"),
    [
        ({"body": "網走"}, True, ""),
        ({"body": "Abashiri"}, False, "body does not contain 'Abashiri'"),
        ({"body_pattern": r"^Hello, \w+$"}, True, ""),
        ({"body_pattern": r"^Bye"}, False, 'body does not match "^Bye"'),
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


def shipped(config: config_mod.Config | None) -> dict[str, Any]:
    """The namespace of a function's index.py as the template carries it."""
    namespace: dict[str, Any] = {"__name__": "index"}
    exec(compile(package.source(config), "index.py", "exec"), namespace)  # noqa: S102
    return namespace


def test_the_shipped_prober_sends_one_request_and_returns_the_answer(server: str) -> None:
    handler = shipped(None)["handler"]
    answer = handler({"url": server + "/", "method": "GET", "timeout": 2}, _Context())
    assert (answer["status"], answer["body"]) == (200, "Hello, 網走")
    assert 0 <= answer["seconds"] < 2
    assert (
        handler({"url": server + "/broken", "method": "GET", "timeout": 2}, None)["status"] == 500
    )
    assert (
        handler({"url": server + "/moved", "method": "HEAD", "timeout": 2}, None)["status"] == 301
    )
    refused = handler({"url": "http://127.0.0.1:9/", "method": "GET", "timeout": 1}, None)
    assert "error" in refused and "status" not in refused


class _Aws:
    """The calls the hook makes in prober mode: the test listener's rules and its group's
    health (ELB), and the prober's invocations (Lambda), answered by running the shipped
    prober in process. ``healthy_after``: DescribeTargetHealth calls before the target is
    healthy (the warm-up)."""

    def __init__(self, server: str, healthy_after: int = 0) -> None:
        self.address = server.removeprefix("http://")
        self.elbv2 = self
        self.awslambda = self
        self.codedeploy = Reports()
        self.prober = shipped(None)["handler"]
        self.invocations = 0
        self.health_calls = 0
        self.healthy_after = healthy_after

    def describe_rules(self, ListenerArn: str) -> dict[str, Any]:  # noqa: N803
        assert ListenerArn == "arn:test-listener"
        forward = {
            "TargetGroups": [
                {"TargetGroupArn": "arn:blue", "Weight": 0},
                {"TargetGroupArn": "arn:green", "Weight": 1},
            ]
        }
        default = {
            "IsDefault": True,
            "Priority": "default",
            "Actions": [{"TargetGroupArn": "arn:blue"}],
        }
        rule = {"IsDefault": False, "Priority": "1", "Actions": [{"ForwardConfig": forward}]}
        return {"Rules": [default, rule]}

    def describe_target_health(self, TargetGroupArn: str) -> dict[str, Any]:  # noqa: N803
        assert TargetGroupArn == "arn:green"
        self.health_calls += 1
        host, port = self.address.split(":")
        state = "healthy" if self.health_calls > self.healthy_after else "initial"
        target = {"Target": {"Id": host, "Port": int(port)}, "TargetHealth": {"State": state}}
        draining = {"Target": {"Id": "10.0.0.9", "Port": 80}, "TargetHealth": {"State": "draining"}}
        return {"TargetHealthDescriptions": [target, draining]}

    def invoke(self, FunctionName: str, Payload: bytes) -> dict[str, Any]:  # noqa: N803
        assert FunctionName == "prober"
        self.invocations += 1
        answer = self.prober(json.loads(Payload), _Context())
        return {"Payload": io.BytesIO(json.dumps(answer).encode())}


def test_prober_mode_sends_each_request_through_the_prober_to_a_healthy_target(
    server: str,
) -> None:
    aws = _Aws(server)
    lines: list[str] = []
    steps = {**plan(check(count=2)), "prober": "prober", "test_listener_arn": "arn:test-listener"}
    answer = hook.execute(CODEDEPLOY_EVENT, 120, aws, steps, log=lines.append)
    assert answer["status"] == "Succeeded"
    assert [c["status"] for c in aws.codedeploy.calls] == ["Succeeded"]
    assert aws.invocations == 2 and len(_Handler.seen) == 2 and len(lines) == 2


def test_the_warm_up_waits_for_a_healthy_target_on_the_clock_it_is_given(server: str) -> None:
    """Right after the test traffic shift the new group's targets may not be healthy yet;
    the hook looks every 5 s (on the clock it is given: Lambda's, or the rehearsal's)."""
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    aws = _Aws(server, healthy_after=3)
    steps = {**plan(check(count=1)), "url": server, "test_listener_arn": "arn:test-listener"}
    steps["warmup_seconds"] = 45
    answer = hook.execute(
        CODEDEPLOY_EVENT, 120, aws, steps, clock=lambda: now[0], sleep=sleep, log=lambda _: None
    )
    assert answer["status"] == "Succeeded" and now[0] == 15.0 and aws.health_calls == 4
    # never healthy: it gives up after warmup_seconds and the checks judge what answers
    aws, now[0] = _Aws(server, healthy_after=1000), 0.0
    lines: list[str] = []
    hook.execute(
        CODEDEPLOY_EVENT, 120, aws, steps, clock=lambda: now[0], sleep=sleep, log=lines.append
    )
    assert now[0] == 45.0 and json.loads(lines[0].split(" ", 1)[1]) == {
        "warmup": "no healthy target yet"
    }


def test_the_shipped_hook_runs_as_lambda_runs_it(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """index.handler of the package (hook.py after checks.py, the plan appended), with
    the URL from its environment as the template sets it."""
    cfg = config_mod.parse('[[verify.checks]]\npath = "/"\ncount = 2\nbody = "網走"\n')
    namespace = shipped(cfg)
    reports = Reports()
    monkeypatch.setenv("BLUEGREEN_TEST_URL", server)
    namespace["_Clients"] = lambda: reports
    assert namespace["handler"](CODEDEPLOY_EVENT, _Context())["status"] == "Succeeded"
    assert [c["status"] for c in reports.calls] == ["Succeeded"] and len(_Handler.seen) == 2


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


def test_ecs_skips_the_checks_on_the_services_first_revision(server: str) -> None:
    """The service's creation deploys the stack's bootstrap container, with no revision
    to roll back to. With ECS's documented payload (weights empty) the hook asks
    DescribeServiceDeployments: no source revision means the creation."""

    class Ecs:
        def __init__(self, sources: list[dict[str, str]]) -> None:
            self.sources = sources
            self.asked: list[list[str]] = []

        def describe_service_deployments(self, serviceDeploymentArns: list[str]) -> Any:  # noqa: N803
            self.asked.append(serviceDeploymentArns)
            return {"serviceDeployments": [{"sourceServiceRevisions": self.sources}]}

    class Clients:
        def __init__(self, sources: list[dict[str, str]]) -> None:
            self.ecs = Ecs(sources)

    lines: list[str] = []
    steps = plan(check(path="/broken"), url=server)
    creation = Clients([])
    answer = hook.execute(ECS_EVENT, 60, creation, steps, log=lines.append)
    assert answer == {"hookStatus": "SUCCEEDED"}
    assert creation.ecs.asked == [[ECS_EVENT["resourceArn"]]]
    assert _Handler.seen == [] and "skipped" in lines[0]
    release = Clients([{"arn": "arn:old"}])
    assert hook.execute(ECS_EVENT, 60, release, steps, log=lines.append) == {"hookStatus": "FAILED"}
    assert _Handler.seen


def test_ecs_reads_weights_at_either_level_of_the_event(server: str) -> None:
    """Weights that name the target alone tell the creation without a call, whether they
    sit in executionDetails or, as an earlier version of ECS's page showed, at the top."""
    alone = {REVISION: 0}
    nested = {
        **ECS_EVENT,
        "executionDetails": {**ECS_EVENT["executionDetails"], "productionTrafficWeights": alone},
    }
    flat = {
        "serviceArn": "s",
        "targetServiceRevisionArn": REVISION,
        "productionTrafficWeights": alone,
    }
    steps = plan(check(path="/broken"), url=server)
    for event in (nested, flat):
        assert hook.execute(event, 60, None, steps, log=lambda _: None) == {
            "hookStatus": "SUCCEEDED"
        }
    assert _Handler.seen == []
    later = {**flat, "productionTrafficWeights": {"arn:old": 100, **alone}}
    assert hook.execute(later, 60, None, steps, log=lambda _: None) == {"hookStatus": "FAILED"}
