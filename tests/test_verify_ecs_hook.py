"""The ECS engine's Lambda lifecycle hook as the emulated ECS runs it
(bluegreen.verification.emulated.ecs_lambda_hook): ECS assumes the hook's role, invokes the
function (bluegreen's hook, registered as the emulated CloudFormation registers it) and
reads its hookStatus, invoking it again after callBackDelay while it answers IN_PROGRESS.
The checks go to a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from emulated import REGION, T0

from bluegreen import config as config_mod
from bluegreen.emulator import Emulator
from bluegreen.verification import emulated, package

FUNCTION = "CodeDeployHook_sample3-dev-verify"
LOG_GROUP = "/bluegreen/sample3-dev/verify"


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        status = 500 if self.path.startswith("/broken") else 200
        body = b"Hello" if status == 200 else b"no"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def _role(aws: Emulator, name: str, service: str, statements: list[dict[str, Any]]) -> str:
    iam = aws.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }
    arn = str(
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    )
    if statements:
        document = {"Version": "2012-10-17", "Statement": statements}
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(document))
    return arn


def _system(aws: Emulator, text: str, url: str, invoke: bool = True) -> dict[str, Any]:
    """The hook function as the service stack makes it, and the hook spec ECS reads."""
    config = config_mod.parse(text)
    logs = aws.client("logs")
    logs.create_log_group(logGroupName=LOG_GROUP)
    execution = _role(
        aws,
        "hook",
        "lambda.amazonaws.com",
        [
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": "*",
            }
        ],
    )
    source = package.source(config)
    created = aws.client("lambda").create_function(
        FunctionName=FUNCTION,
        Runtime=package.RUNTIME,
        Handler=package.HANDLER,
        Role=execution,
        Code={"ZipFile": package.zipped(source)},
    )
    environment = {"BLUEGREEN_TEST_URL": url}
    assert emulated.register(aws, FUNCTION, source, environment, LOG_GROUP, 900)
    allow = [
        {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": created["FunctionArn"]}
    ]
    invoker = _role(aws, "invoker", "ecs.amazonaws.com", allow if invoke else [])
    return {
        "targetType": "AWS_LAMBDA",
        "hookTargetArn": created["FunctionArn"],
        "roleArn": invoker,
        "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
    }


PAYLOAD = {
    "serviceArn": "arn:aws:ecs:ap-northeast-1:123456789012:service/c/s",
    "targetServiceRevisionArn": "arn:aws:ecs:ap-northeast-1:123456789012:service-revision/c/s/2",
    "productionTrafficWeights": {
        "arn:aws:ecs:ap-northeast-1:123456789012:service-revision/c/s/1": 100,
        "arn:aws:ecs:ap-northeast-1:123456789012:service-revision/c/s/2": 0,
    },
}


def _run(aws: Emulator, spec: dict[str, Any], minutes: float = 60) -> tuple[str, str]:
    process = aws.clock.spawn("ecs hook", emulated.ecs_lambda_hook(aws, spec, PAYLOAD, minutes))
    waited = 0
    while not process.done:
        assert waited < 7200
        aws.sleep(30)
        waited += 30
    outcome: tuple[str, str] = process.result
    return outcome


def test_a_passing_hook_succeeds_and_a_failing_one_fails(tmp_path: Any, server: str) -> None:
    with Emulator(REGION, start=T0, work_dir=tmp_path / "aws") as aws:
        spec = _system(aws, '[deployment]\nengine = "ecs"\n[[verify.checks]]\npath = "/"\n', server)
        assert _run(aws, spec) == ("SUCCEEDED", "")
    with Emulator(REGION, start=T0, work_dir=tmp_path / "aws2") as aws:
        text = '[deployment]\nengine = "ecs"\n[[verify.checks]]\npath = "/broken"\n'
        spec = _system(aws, text, server)
        outcome, reason = _run(aws, spec)
        assert outcome == "FAILED" and "returned hookStatus FAILED" in reason


def test_long_checks_come_back_after_the_callback_delay(tmp_path: Any, server: str) -> None:
    """4 requests at a 5 s limit with 20 s between them cannot fit one invocation of a
    function whose timeout is 60 s here: the hook answers IN_PROGRESS, ECS invokes it
    again callback_seconds later (simulated time), and it ends SUCCEEDED."""
    text = (
        '[deployment]\nengine = "ecs"\n[verify]\ninterval_seconds = 20\ncallback_seconds = 45\n'
        '[[verify.checks]]\npath = "/"\ncount = 4\nmax_latency_ms = 5000\n'
    )
    with Emulator(REGION, start=T0, work_dir=tmp_path / "aws") as aws:
        config = config_mod.parse(text)
        spec = _system(aws, text, server)
        # a 60 s invocation budget: 30 s kept to report, room for two requests
        assert emulated.register(
            aws, FUNCTION, package.source(config), {"BLUEGREEN_TEST_URL": server}, LOG_GROUP, 60
        )
        start = aws.clock.seconds
        assert _run(aws, spec) == ("SUCCEEDED", "")
        # invocation 1 sends requests 1 and 2 (a 20 s pause between), then the next would
        # not fit its 30 s: IN_PROGRESS; 45 s later invocation 2 sends 3 and 4 (one
        # pause): 85 s of simulated time at least
        assert aws.clock.seconds - start >= 20 + 45 + 20
        streams = aws.client("logs").describe_log_streams(logGroupName=LOG_GROUP)["logStreams"]
        assert len(streams) == 2  # one per invocation, as the function wrote them


def test_ecs_needs_the_hook_role_to_invoke_the_function(tmp_path: Any, server: str) -> None:
    with Emulator(REGION, start=T0, work_dir=tmp_path / "aws") as aws:
        text = '[deployment]\nengine = "ecs"\n[[verify.checks]]\npath = "/"\n'
        spec = _system(aws, text, server, invoke=False)
        outcome, reason = _run(aws, spec)
        assert outcome == "FAILED" and "lambda:InvokeFunction" in reason


def test_a_hook_longer_than_its_timeout_times_out(tmp_path: Any, server: str) -> None:
    text = (
        '[deployment]\nengine = "ecs"\n[verify]\ninterval_seconds = 20\ncallback_seconds = 45\n'
        '[[verify.checks]]\npath = "/"\ncount = 4\nmax_latency_ms = 5000\n'
    )
    with Emulator(REGION, start=T0, work_dir=tmp_path / "aws") as aws:
        spec = _system(aws, text, server)
        emulated.register(
            aws,
            FUNCTION,
            package.source(config_mod.parse(text)),
            {"BLUEGREEN_TEST_URL": server},
            LOG_GROUP,
            60,
        )
        outcome, reason = _run(aws, spec, minutes=1)
        assert outcome == "TIMED_OUT" and "1 minutes" in reason
