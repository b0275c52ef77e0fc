"""`bluegreen sandbox`: the emulated AWS on loopback, driven by the unchanged commands.

The end-to-end test runs the sandbox as a user does (a subprocess, stopped with Ctrl-C)
and the commands in other subprocesses with the environment it printed: `bluegreen
deploy --yes`, a `git push` to the remote it printed, `bluegreen status`, `bluegreen
promote`, the AWS CLI, `bluegreen sandbox advance`; then it resumes the kept state and
finds the same system at the same clock. Only deploy's sleeps between polls are made
the sandbox's `advance` (deploy polls every few real seconds for minutes of AWS time);
everything else runs at the sandbox's own speed. Every wait is bounded in count and time.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bluegreen.cli.app import main
from bluegreen.cli.sandbox import parse_duration
from bluegreen.config import Config
from bluegreen.emulator.sandbox import (
    MAX_ADVANCE,
    MAX_SPEED,
    Remote,
    Sandbox,
    Settings,
    http_clients,
)
from bluegreen.errors import UsageError
from bluegreen.names import Names

REGION = "ap-northeast-1"
NAMES = Names.of(Config())
CLI = [sys.executable, "-m", "bluegreen"]

# deploy, with its sleeps between polls made the sandbox's advance (the rehearsal's way):
# the real command otherwise, over HTTP, with the printed environment.
DEPLOY_ON_SANDBOX_TIME = """
import os, sys
from bluegreen.cli import common
from bluegreen.cli.app import main
from bluegreen.emulator.sandbox import Remote, loopback_port
found = loopback_port(os.environ["AWS_ENDPOINT_URL"])
assert found is not None
remote = Remote(*found)
def sleep(seconds):
    remote.advance(max(seconds, 1.0))
common.sleep = sleep
sys.exit(main(sys.argv[1:]))
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def clean_env(tmp: Path) -> dict[str, str]:
    """The test process's environment without any AWS setting, git kept to itself."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        {
            "HOME": str(tmp),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_AUTHOR_NAME": "A Developer",
            "GIT_AUTHOR_EMAIL": "dev@example.invalid",
            "GIT_COMMITTER_NAME": "A Developer",
            "GIT_COMMITTER_EMAIL": "dev@example.invalid",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


class Running:
    """A `bluegreen sandbox` subprocess; its stdout read line by line by a thread."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self.process = subprocess.Popen(
            [*CLI, "sandbox", *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        """The first line (read so far or to come) matching ``pattern``."""
        compiled = re.compile(pattern)
        for line in self.lines:
            if found := compiled.search(line):
                return found
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
            if found := compiled.search(line):
                return found
        stderr = self.process.stderr.read() if self.process.poll() is not None else ""  # type: ignore[union-attr]
        raise AssertionError(
            f"no line matching {pattern!r} within {timeout} s:\n"
            + "\n".join(self.lines[-40:])
            + f"\nstderr: {stderr}"
        )

    def environment(self, base: dict[str, str]) -> dict[str, str]:
        """``base`` with what the sandbox printed: its export and unset lines."""
        self.wait_for(r"^Ctrl-C stops the sandbox")
        env = dict(base)
        for line in self.lines:
            if not line.lstrip().startswith(("export ", "unset ")):
                continue
            command, *words = shlex.split(line, comments=True)
            for word in words:
                if command == "export":
                    name, _, value = word.partition("=")
                    env[name] = value
                else:
                    env.pop(word, None)
        return env

    def interrupt(self, sig: int = signal.SIGINT, timeout: float = 60) -> tuple[int, str]:
        """Ctrl-C (or another signal); the exit code and stderr."""
        self.process.send_signal(sig)
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout=10)
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self.lines.append(line)
        assert self.process.stderr is not None
        return code, self.process.stderr.read()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


def run(
    args: list[str], env: dict[str, str], cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


def snapshot(clients: Any) -> dict[str, Any]:
    """The system as the API shows it: stacks, pipeline executions, deployments, task
    sets, listeners, VPCs (ids a replay must make again the same)."""
    cf, pipeline, codedeploy = clients.cloudformation, clients.codepipeline, clients.codedeploy
    ids = codedeploy.list_deployments()["deployments"]
    infos = codedeploy.batch_get_deployments(deploymentIds=ids)["deploymentsInfo"] if ids else []
    service = clients.ecs.describe_services(cluster=NAMES.cluster, services=[NAMES.service])
    balancer = clients.elbv2.describe_load_balancers(Names=[NAMES.load_balancer])
    listeners = clients.elbv2.describe_listeners(
        LoadBalancerArn=balancer["LoadBalancers"][0]["LoadBalancerArn"]
    )["Listeners"]
    return {
        "stacks": sorted(
            (s["StackName"], s["StackId"], s["StackStatus"]) for s in cf.describe_stacks()["Stacks"]
        ),
        "executions": [
            (e["pipelineExecutionId"], e["status"])
            for e in pipeline.list_pipeline_executions(pipelineName=NAMES.pipeline)[
                "pipelineExecutionSummaries"
            ]
        ],
        "deployments": sorted((d["deploymentId"], d["status"]) for d in infos),
        "task_sets": sorted(
            (t["id"], t["status"], t["taskDefinition"]) for t in service["services"][0]["taskSets"]
        ),
        "listeners": sorted(
            (
                listener["Port"],
                json.dumps(listener["DefaultActions"], sort_keys=True, default=str),
            )
            for listener in listeners
        ),
        "vpcs": sorted(v["VpcId"] for v in clients.ec2.describe_vpcs()["Vpcs"]),
    }


def advance_until_ready(remote: Remote, clients: Any, limit: int = 120) -> str:
    """Move the clock 30 s at a time until a deployment waits for reroute; its id."""
    codedeploy = clients.codedeploy
    for _ in range(limit):
        ready = codedeploy.list_deployments(includeOnlyStatuses=["Ready"])["deployments"]
        if ready:
            return str(ready[0])
        remote.advance(30)
    raise AssertionError(f"no deployment waited for reroute within {limit * 30} s of AWS time")


# ------------------------------------------------------------------ end to end, over HTTP


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_the_unchanged_commands_run_against_a_sandbox_that_resumes_its_state(
    tmp_path: Path,
) -> None:
    from bluegreen.appkit import init

    app, state, tmp = tmp_path / "app", tmp_path / "state", tmp_path / "tmp"
    tmp.mkdir()
    init(app, Config())
    base = clean_env(tmp_path)
    port = free_port()
    sandbox = Running(
        ["--port", str(port), "--speed", "5", "--state", str(state)],
        {**base, "TMPDIR": str(tmp)},
        tmp_path,
    )
    try:
        env = sandbox.environment(base)
        url = f"http://127.0.0.1:{port}"
        assert env["AWS_ENDPOINT_URL"] == url
        assert env["AWS_DEFAULT_REGION"] == REGION
        assert "AWS_PROFILE" not in env
        remote, clients = Remote("127.0.0.1", port), http_clients(url, REGION)

        deployed = run([sys.executable, "-c", DEPLOY_ON_SANDBOX_TIME, "deploy", "--yes"], env, app)
        assert deployed.returncode == 0, deployed.stderr[-3000:]
        assert re.search(r"first release \w{8}: promoted", deployed.stdout), deployed.stdout
        found = sandbox.wait_for(r"repository (\S+): git remote add sandbox (\S+)")
        assert found.group(1) == NAMES.codecommit_repository
        origin = found.group(2)
        sandbox.wait_for(rf"stack {NAMES.pipeline_stack}: CREATE_COMPLETE")

        # A release: deploy's first commit adopted, the greeting changed, pushed.
        def git(*args: str) -> str:
            done = run(["git", "-c", "core.hooksPath=/dev/null", *args], base, app, timeout=60)
            assert done.returncode == 0, done.stderr
            return done.stdout

        git("init", "-q", "-b", "main")
        git("remote", "add", "sandbox", origin)
        git("fetch", "-q", "sandbox")
        git("reset", "-q", "sandbox/main")
        main_py = app / "webapp" / "app" / "main.py"
        main_py.write_text(
            main_py.read_text(encoding="utf-8").replace("Hello, 網走", "こんにちは、あばしり"),
            encoding="utf-8",
        )
        git("commit", "-q", "-am", "Change the greeting")
        git("push", "-q", "sandbox", "HEAD:main")
        pushed = git("rev-parse", "HEAD").strip()
        # The push starts the pipeline through the EventBridge rule: the execution's
        # trigger is "CloudWatchEvent" (CodePipeline API reference, ExecutionTrigger).
        sandbox.wait_for(r"execution \w{8} started \((revision \w+, )?CloudWatchEvent\)", 30)
        waiting = advance_until_ready(remote, clients)
        sandbox.wait_for(rf"deployment {waiting}: waits for reroute")

        status = run([*CLI, "status"], env, app)
        assert status.returncode == 0, status.stderr
        assert f"deployment {waiting}: Ready (waiting-for-reroute)" in status.stdout
        # Each target group as `role (name)`: the roles differ, so do the names.
        production = re.search(r"production\s+:80\s+\w+ \((\S+)\) 100%", status.stdout)
        test = re.search(r"test\s+:8080\s+\w+ \((\S+)\) 100%", status.stdout)
        assert production and test and production.group(1) != test.group(1), status.stdout
        assert pushed[:8] in status.stdout

        promoted = run([*CLI, "promote"], env, app)
        assert promoted.returncode == 0, promoted.stderr
        assert waiting in promoted.stdout

        if shutil.which("aws"):
            described = run(
                ["aws", "cloudformation", "describe-stacks", "--output", "json"], env, app
            )
            assert described.returncode == 0, described.stderr
            stacks = {
                s["StackName"]: s["StackStatus"] for s in json.loads(described.stdout)["Stacks"]
            }
            assert stacks == {
                NAMES.source_stack: "CREATE_COMPLETE",
                NAMES.service_stack: "CREATE_COMPLETE",
                NAMES.pipeline_stack: "CREATE_COMPLETE",
            }

        before = datetime_of(remote.status()["clock"])
        moved = run([*CLI, "sandbox", "advance", "1h"], env, app)
        assert moved.returncode == 0, moved.stderr
        assert "the clock moved 1h" in moved.stdout
        assert (datetime_of(remote.status()["clock"]) - before).total_seconds() >= 3600
        # The hour let the termination wait (15 min) end: the release is done.
        sandbox.wait_for(rf"deployment {waiting}: Succeeded")
        sandbox.wait_for(r"pipeline \S+: execution \w{8} Succeeded")
        kept = snapshot(clients)
        assert (waiting, "Succeeded") in kept["deployments"]

        code, stderr = sandbox.interrupt()
        assert code == 130, stderr
        stopped = re.search(r"interrupted: the sandbox stopped at (.+?) \(simulated\)", stderr)
        assert stopped, stderr
        assert f"its state is kept in {state}" in stderr
        assert f"resume with: bluegreen sandbox --state {state}" in stderr
        assert port_is_free(port)
        assert list(tmp.iterdir()) == []
    finally:
        sandbox.kill()

    # Resumed: the same system, at the same clock; the remote still holds the push.
    again = Running(["--port", str(port), "--speed", "5", "--state", str(state)], base, tmp_path)
    try:
        replayed = again.wait_for(r"replayed (\d+) entries in .*; the clock is at (.+)$", 90)
        assert int(replayed.group(1)) > 10
        assert replayed.group(2) == stopped.group(1)
        env = again.environment(base)
        assert snapshot(http_clients(env["AWS_ENDPOINT_URL"], REGION)) == kept
        assert pushed in git("ls-remote", "sandbox", "refs/heads/main")
        status = run([*CLI, "status"], env, app)
        assert status.returncode == 0, status.stderr
        assert f"deployment {waiting}: Succeeded" in status.stdout
        code, stderr = again.interrupt(signal.SIGTERM)  # a process manager's stop: the same
        assert code == 130, stderr
        assert port_is_free(port)
    finally:
        again.kill()


def datetime_of(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text)


def test_a_sandbox_without_state_leaves_nothing_behind(tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    base = clean_env(tmp_path)
    port = free_port()
    sandbox = Running(
        ["--port", str(port), "--region", "us-west-2"], {**base, "TMPDIR": str(tmp)}, tmp_path
    )
    try:
        env = sandbox.environment(base)
        assert env["AWS_DEFAULT_REGION"] == "us-west-2"
        assert list(tmp.iterdir()) != []  # the emulator's files, while it runs
        shown = run([*CLI, "sandbox", "status"], env, tmp_path)
        assert shown.returncode == 0, shown.stderr
        assert f"sandbox  http://127.0.0.1:{port} (us-west-2" in shown.stdout
        assert "60x real time" in shown.stdout
        assert "state    not kept" in shown.stdout
        pid = sandbox.process.pid
        code, stderr = sandbox.interrupt()
        assert code == 130
        assert "interrupted: the sandbox stopped at" in stderr
        assert "left nothing behind" in stderr
        assert "Traceback" not in stderr
        assert port_is_free(port)
        assert list(tmp.iterdir()) == []
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    finally:
        sandbox.kill()


# ------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--host", "0.0.0.0"], "--host '0.0.0.0' is not loopback"),  # noqa: S104
        (["--host", "192.168.1.10"], "is not loopback"),
        (["--speed", "0"], "--speed 0 is not a speed from more than 0 to 3600"),
        (["--speed", "-1"], "--speed -1 is not a speed"),
        (["--speed", "3600.5"], "--speed 3600.5 is not a speed"),
        (["--speed", "nan"], "is not a speed"),
        (["--region", "mars-1"], "'mars-1' is not an AWS region code"),
    ],
)
def test_bad_settings_are_refused_before_anything_starts(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    assert main(["sandbox", "--port", str(port), "--region", REGION, *args]) == 2
    assert message in capsys.readouterr().err
    assert port_is_free(port)


def test_a_port_in_use_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(["sandbox", "--port", str(port), "--region", REGION, "--state", str(state)])
    assert code == 2
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err
    assert "pass --port N" in err
    assert not state.exists()  # nothing started, nothing kept


def test_out_of_range_ports_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "--port", "65536"]) == 2
    assert main(["sandbox", "--port", "-1"]) == 2


@pytest.mark.parametrize("kind", ["file", "foreign", "corrupt", "bad-kind"])
def test_an_unusable_state_directory_is_refused(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    if kind == "file":
        state.write_text("not a directory", encoding="utf-8")
        expected = "is not a directory"
    else:
        state.mkdir()
        if kind == "foreign":
            (state / "notes.txt").write_text("mine", encoding="utf-8")
            expected = "holds other files and no sandbox journal"
        elif kind == "corrupt":
            (state / "journal.jsonl").write_text("{not json\n", encoding="utf-8")
            expected = "journal.jsonl cannot be read"
        else:
            (state / "journal.jsonl").write_text(
                json.dumps(
                    {
                        "kind": "emulator",
                        "region": REGION,
                        "start": "2021-09-19T01:00:00+00:00",
                        "seed": 0,
                        "build_quota": 1,
                    }
                )
                + '\n{"kind": "teleport"}\n',
                encoding="utf-8",
            )
            expected = "unknown entry kind 'teleport'"
    port = free_port()
    assert main(["sandbox", "--port", str(port), "--state", str(state)]) == 2
    assert expected in capsys.readouterr().err
    assert port_is_free(port)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every directory")
def test_an_unreadable_state_directory_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    state.chmod(0)
    try:
        assert main(["sandbox", "--port", str(free_port()), "--state", str(state)]) == 2
    finally:
        state.chmod(0o700)
    assert "is not readable and writable by you" in capsys.readouterr().err


def test_nothing_listening_is_refused_by_advance_and_status(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    assert main(["sandbox", "advance", "10m", "--port", str(port)]) == 2
    assert f"no sandbox listens on http://127.0.0.1:{port}" in capsys.readouterr().err
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://localhost:{port}")
    assert main(["sandbox", "status"]) == 2
    assert f"no sandbox listens on http://localhost:{port}" in capsys.readouterr().err
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://cloudformation.us-east-1.amazonaws.com")
    assert main(["sandbox", "advance", "10m"]) == 2
    assert "is not a sandbox on loopback" in capsys.readouterr().err


def test_durations_are_checked_at_both_edges() -> None:
    assert parse_duration("1s") == 1
    assert parse_duration("90") == 90
    assert parse_duration("10m") == 600
    assert parse_duration("1h30m") == 5400
    assert parse_duration("7d") == MAX_ADVANCE
    for bad in ("0s", "0", "7d1s", "", "10 minutes", "-5m", "1.5h"):
        with pytest.raises(UsageError):
            parse_duration(bad)


# ------------------------------------------------------------------- in this process


_SHARED: list[Sandbox] = []
"""The sandbox the in-process tests share (one emulator per process at a time)."""


@pytest.fixture(scope="module", autouse=True)
def _close_shared() -> Iterator[None]:
    yield
    exclusive_emulator()


def exclusive_emulator() -> None:
    """Close the shared sandbox: a test that opens its own needs the process's emulator."""
    while _SHARED:
        _SHARED.pop().close()


@pytest.fixture
def box() -> Sandbox:
    """A sandbox in this process, on a free port, at the largest speed allowed (opened
    once, shared by the tests of this module that run in this process)."""
    if not _SHARED:
        sandbox = Sandbox(Settings(port=0, speed=MAX_SPEED, default_region=REGION))
        sandbox.open()
        _SHARED.append(sandbox)
    return _SHARED[0]


def control(
    box: Sandbox, method: str, path: str, body: bytes | None = None, **headers: str
) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(box.url + path, data=body, method=method, headers=headers)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_the_clock_runs_at_the_speed_and_advances_on_demand(box: Sandbox) -> None:
    assert box.speed == MAX_SPEED  # the last valid speed
    first = box.status()["elapsed_seconds"]
    time.sleep(0.5)
    second = box.status()["elapsed_seconds"]
    assert second - first >= 0.3 * MAX_SPEED  # ~0.5 s real at 3600x: half an hour
    code, moved = control(
        box,
        "POST",
        "/_bluegreen/advance",
        b'{"seconds": 86400}',
        **{"Content-Type": "application/json"},
    )
    assert code == 200
    assert moved["advanced_seconds"] == 86400
    assert moved["elapsed_seconds"] >= second + 86400


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status", "error"),
    [
        (
            "POST",
            "/_bluegreen/advance",
            b'{"seconds": 0}',
            {"Content-Type": "application/json"},
            400,
            "from more than 0",
        ),
        (
            "POST",
            "/_bluegreen/advance",
            b'{"seconds": 604801}',
            {"Content-Type": "application/json"},
            400,
            "up to 7 days",
        ),
        (
            "POST",
            "/_bluegreen/advance",
            b"seconds=60",
            {"Content-Type": "application/json"},
            400,
            '{"seconds": N}',
        ),
        (
            "POST",
            "/_bluegreen/advance",
            b'{"seconds": 60}',
            {"Content-Type": "text/plain"},
            415,
            "application/json",
        ),
        (
            "POST",
            "/_bluegreen/advance",
            b'{"seconds": 60}',
            {"Content-Type": "application/json", "Host": "evil.example:80"},
            403,
            "is not loopback",
        ),
        ("GET", "/_bluegreen/nothing", None, {}, 404, "GET /_bluegreen/status"),
        (
            "POST",
            "/_bluegreen/status",
            b"{}",
            {"Content-Type": "application/json"},
            405,
            "GET /_bluegreen/status",
        ),
    ],
)
def test_the_control_path_refuses_what_it_does_not_serve(
    box: Sandbox,
    method: str,
    path: str,
    body: bytes | None,
    headers: dict[str, str],
    status: int,
    error: str,
) -> None:
    before = box.status()["elapsed_seconds"]
    code, answer = control(box, method, path, body, **headers)
    assert (code, error in answer["error"]) == (status, True), answer
    assert box.status()["elapsed_seconds"] < before + 86400  # no advance happened


def test_a_week_is_the_longest_advance(box: Sandbox) -> None:
    before = box.status()["elapsed_seconds"]
    code, answer = control(
        box,
        "POST",
        "/_bluegreen/advance",
        json.dumps({"seconds": MAX_ADVANCE}).encode(),
        **{"Content-Type": "application/json"},
    )
    assert code == 200, answer
    assert answer["elapsed_seconds"] >= before + MAX_ADVANCE


def test_unserved_operations_are_aws_errors_naming_them_in_every_protocol(box: Sandbox) -> None:
    """JSON, query, REST-JSON and REST-XML APIs each answer in their own error format
    (botocore parses it: a ClientError with the code), never a 500 or a traceback."""
    from botocore.exceptions import ClientError

    clients = http_clients(box.url, REGION)
    cases = [
        (
            lambda: clients.codecommit.merge_branches_by_fast_forward(
                repositoryName="r", sourceCommitSpecifier="a", destinationCommitSpecifier="b"
            ),
            "UnknownOperationException",
            "codecommit:MergeBranchesByFastForward",
        ),
        (
            lambda: clients.elbv2.describe_trust_stores(),
            "InvalidAction",
            "elbv2:DescribeTrustStores",
        ),
        (
            lambda: clients.cloudformation.list_stack_refactors(),
            "InvalidAction",
            "cloudformation:ListStackRefactors",
        ),
        (
            lambda: clients.apigatewayv2.get_apis(),
            "UnknownOperationException",
            "apigatewayv2:GetApis",
        ),
        (
            lambda: clients.codeartifact.list_domains(),
            "UnknownOperationException",
            "codeartifact:ListDomains",
        ),
    ]
    for call, code, named in cases:
        with pytest.raises(ClientError) as caught:
            call()
        error = caught.value.response["Error"]
        assert (error["Code"], named in error["Message"]) == (code, True), error
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


@pytest.mark.skipif(shutil.which("aws") is None, reason="the AWS CLI is not installed")
def test_the_aws_cli_gets_aws_errors_for_what_is_not_served(box: Sandbox, tmp_path: Path) -> None:
    env = {
        **clean_env(tmp_path),
        "AWS_ENDPOINT_URL": box.url,
        "AWS_ACCESS_KEY_ID": "sandbox",
        "AWS_SECRET_ACCESS_KEY": "sandbox",
        "AWS_DEFAULT_REGION": REGION,
    }
    for command, expected in [
        (
            [
                "codecommit",
                "merge-branches-by-fast-forward",
                "--repository-name",
                "r",
                "--source-commit-specifier",
                "a",
                "--destination-commit-specifier",
                "b",
            ],
            "(UnknownOperationException) when calling the MergeBranchesByFastForward operation: "
            "The emulated AWS does not serve codecommit:MergeBranchesByFastForward",
        ),
        (
            ["elbv2", "describe-trust-stores"],
            "(InvalidAction) when calling the DescribeTrustStores operation: "
            "The emulated AWS does not serve elbv2:DescribeTrustStores",
        ),
        (
            ["apigatewayv2", "get-apis"],
            "(UnknownOperationException) when calling the GetApis operation: "
            "The emulated AWS does not serve apigatewayv2:GetApis",
        ),
    ]:
        done = run(["aws", *command], env, tmp_path, timeout=60)
        assert done.returncode == 255, done.stdout
        assert expected in done.stderr
        assert "Traceback" not in done.stderr


def test_a_request_no_service_signs_is_refused_aws_style(box: Sandbox) -> None:
    request = urllib.request.Request(box.url + "/", data=b"Action=ListStacks", method="POST")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with pytest.raises(urllib.error.HTTPError) as caught:
        opener.open(request, timeout=30)
    assert caught.value.code == 403
    assert json.loads(caught.value.read())["__type"] == "MissingAuthenticationToken"


def test_rest_requests_are_kept_and_replayed(tmp_path: Path) -> None:
    """S3 (a REST API) writes are journaled with their method, path and headers: a
    resumed sandbox has the same bucket and objects, read or not in between."""
    exclusive_emulator()
    state = tmp_path / "state"
    first = Sandbox(Settings(port=0, state=state, default_region=REGION))
    first.open()
    try:
        # An S3 client in this process has called CreateBucket (the emulator's own, as
        # a pipeline's would): botocore then strips /{Bucket} from the operation's
        # requestUri in the shared model (botocore/handlers.py, remove_bucket_from_url_
        # paths_from_model); the endpoint must still tell CreateBucket from the rest.
        own = first.emulator.client("s3", internal=True)
        where = {"LocationConstraint": REGION}
        own.create_bucket(Bucket="the-emulators-own", CreateBucketConfiguration=where)
        s3 = http_clients(first.url, REGION).s3
        s3.create_bucket(Bucket="kept", CreateBucketConfiguration=where)
        s3.put_object(Bucket="kept", Key="a/b.txt", Body=b"hello")
        s3.put_object(Bucket="kept", Key="gone.txt", Body=b"bye")
        listed = s3.list_objects_v2(Bucket="kept")["Contents"]  # a read between writes
        assert sorted(o["Key"] for o in listed) == ["a/b.txt", "gone.txt"]
        s3.delete_object(Bucket="kept", Key="gone.txt")
    finally:
        stopped = first.close()
    kept = [
        (entry.get("operation"), (entry.get("route") or {}).get("path"))
        for entry in map(json.loads, (state / "journal.jsonl").read_text().splitlines()[1:])
        if entry["kind"] == "request"
    ]
    assert kept == [
        ("CreateBucket", "/kept"),
        ("PutObject", "/kept/a/b.txt"),
        ("PutObject", "/kept/gone.txt"),
        ("DeleteObject", "/kept/gone.txt"),
    ]
    again = Sandbox(Settings(port=0, state=state, region=REGION))
    again.open()
    try:
        assert again.resumed and again.replayed >= 4
        assert stopped is not None
        assert datetime_of(again.status()["clock"]) >= stopped
        s3 = http_clients(again.url, REGION).s3
        listed = s3.list_objects_v2(Bucket="kept")["Contents"]
        assert [o["Key"] for o in listed] == ["a/b.txt"]
        assert s3.get_object(Bucket="kept", Key="a/b.txt")["Body"].read() == b"hello"
    finally:
        again.close()
    assert not (state / ".lock").exists()


def test_a_kept_state_is_used_by_one_sandbox_at_a_time_in_its_region(tmp_path: Path) -> None:
    exclusive_emulator()
    state = tmp_path / "state"
    first = Sandbox(Settings(port=0, state=state, default_region=REGION))
    first.open()
    try:
        with pytest.raises(UsageError, match="is in use by another sandbox"):
            Sandbox(Settings(port=0, state=state, default_region=REGION)).open()
    finally:
        first.close()
    with pytest.raises(
        UsageError, match=r"--region us-east-1 differs from the kept state's region"
    ):
        Sandbox(Settings(port=0, state=state, region="us-east-1")).open()


def test_answers_carry_the_simulated_date_only(box: Sandbox) -> None:
    """Every answer's Date is the emulator's clock (RFC 9110 Date: the service's "now",
    which `bluegreen logs --since` measures from), with no real-time Date of the HTTP
    server's own beside it."""
    from email.utils import parsedate_to_datetime

    clients = http_clients(box.url, REGION)
    before = datetime_of(box.status()["clock"]).replace(microsecond=0)
    answer = clients.logs.describe_log_groups()
    after = datetime_of(box.status()["clock"])
    dates = answer["ResponseMetadata"]["HTTPHeaders"]["date"]
    assert "," in dates and dates.count("GMT") == 1, dates  # one Date header
    assert before <= parsedate_to_datetime(dates) <= after
    assert "server" not in {k.lower() for k in answer["ResponseMetadata"]["HTTPHeaders"]} or (
        answer["ResponseMetadata"]["HTTPHeaders"]["server"] != "Werkzeug"
    )
