"""The verify hook, run for real in the rehearsal against the data plane's listeners.

The emulated CodeDeploy invokes a hook function's registered code in process
(:mod:`bluegreen.emulator.hooks`) with the clients of the function's execution role. For
bluegreen's hook that code is :func:`bluegreen.verification.hook.execute` itself, the
function's own code, with three things the emulated account gives instead of Lambda:

- the test URL: the template's ``http://<load balancer DNS name>:<port>`` names the
  emulated load balancer, whose listener answers on a local port
  (:meth:`bluegreen.emulator.services.elbv2.Elbv2.local_address`); the hook's requests go
  there, through the listener's own routing, to the new revision's app process;
- time: the function runs as a process on the emulator's clock, so its pauses (the
  warm-up's looks at target health, interval_seconds) are simulated time in which the
  health checks go on; a request's latency is measured in real time;
- the lock: the function runs inside a clock step, which holds the emulator's lock, and the
  listener's server takes that lock to route a request; each request's network I/O runs
  in a worker thread while this thread waits on a :class:`threading.Condition` of the
  lock, which releases it fully meanwhile ("If the lock is an RLock ... an internal
  interface of the RLock class is used, which really unlocks it even when it has been
  recursively acquired several times": Python docs, threading.Condition.wait). Only
  the HTTP exchange runs unlocked; every emulator call stays in this thread;
- the logs: what the function prints goes to its log group (``logs:PutLogEvents`` as the
  function's role, which the stack allows on that group only), stamped with the
  emulator's clock, where ``bluegreen status`` reads the checks back.
"""

from __future__ import annotations

import ast
import contextlib
import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from bluegreen.emulator.clock import Body, Step, Wait
from bluegreen.verification import checks, hook

if TYPE_CHECKING:
    from bluegreen.emulator.core import Emulator

_STEPS: dict[tuple[int, str], Callable[[dict[str, Any], Any], Body]] = {}
"""(emulator id, function name) -> one invocation as clock steps (the ECS engine's
synchronous invocation reads its reply)."""

_PLAN_LINE = re.compile(r"^PLAN\.update\(json\.loads\((?P<literal>.*)\)\)$", re.MULTILINE)


def plan_of(source: str) -> dict[str, Any] | None:
    """The plan a hook's index.py carries, or None when it is not bluegreen's hook."""
    if not source.startswith(hook_code()):
        return None
    found = _PLAN_LINE.search(source)
    if found is None:
        return None
    value: dict[str, Any] = json.loads(ast.literal_eval(found.group("literal")))
    return value


def hook_code() -> str:
    """The hook's code as the package ships it, before the plan."""
    from bluegreen.verification.package import code_text

    return code_text()


class _Answer:
    """A response read in full by the worker thread (status and body)."""

    def __init__(self, status: int, body: bytes) -> None:
        self.status = status
        self._body = body

    def read(self, limit: int = -1) -> bytes:
        return self._body if limit < 0 else self._body[:limit]

    def __enter__(self) -> _Answer:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def unlocked_opener(lock: Any) -> checks.Opener:
    """``checks.open_url`` with the emulator's lock released while the request is in
    flight (see the module docstring)."""

    def opener(request: urllib.request.Request, timeout: float) -> Any:
        box: dict[str, Any] = {}
        done = threading.Event()

        def work() -> None:
            try:
                with checks.open_url(request, timeout) as answer:
                    box["answer"] = _Answer(int(answer.status), answer.read(1_000_000))
            except urllib.error.HTTPError as error:  # an answer all the same
                body = error.read(1_000_000) if error.fp is not None else b""
                box["answer"] = _Answer(int(error.code), body)
            except BaseException as error:  # noqa: BLE001 - raised in the caller's thread
                box["error"] = error
            finally:
                done.set()

        threading.Thread(target=work, name="bluegreen verify request", daemon=True).start()
        condition = threading.Condition(lock)
        with condition:
            # bounded: the request has its own timeout, and the worker always sets done
            while not done.is_set():
                condition.wait(0.01)
        if "error" in box:
            raise box["error"]
        return box["answer"]

    return opener


class _Clients:
    """The function role's clients as hook.py names them (``awslambda`` is ``lambda``)."""

    def __init__(self, clients: Any) -> None:
        self._clients = clients

    def __getattr__(self, name: str) -> Any:
        return self._clients("lambda" if name == "awslambda" else name)


def local_url(emulator: Emulator, url: str) -> str:
    """The local address of the emulated load balancer's listener that ``url`` names."""
    parts = urlsplit(url)
    port = parts.port or 80
    elbv2 = emulator.client("elbv2")
    for balancer in elbv2.describe_load_balancers()["LoadBalancers"]:
        if balancer["DNSName"] != parts.hostname:
            continue
        for listener in elbv2.describe_listeners(LoadBalancerArn=balancer["LoadBalancerArn"])[
            "Listeners"
        ]:
            if listener["Port"] == port:
                host, local = emulator.service("elbv2").local_address(listener["ListenerArn"])
                return f"http://{host}:{local}"
    return url  # nothing answers there: the check fails as it would on AWS


def _not_run_here(emulator: Emulator, listener_arn: str) -> str:
    """Why the app behind the test listener's target group is not run for real by this
    emulator's data plane (health derived statically), or ""."""
    runner = getattr(emulator.services.get("ecs"), "runner", None)
    why_of = getattr(runner, "not_run_reason", None)
    if why_of is None or not listener_arn:
        return ""
    elb = emulator.client("elbv2")
    group = hook.test_group(elb, listener_arn)
    for target in elb.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]:
        why = str(why_of(target["Target"]["Id"]))
        if why:
            return why
    return ""


def runner(
    emulator: Emulator,
    function: str,
    plan: dict[str, Any],
    environment: dict[str, str],
    log_group: str,
    timeout: float,
) -> Callable[[dict[str, Any], Any], Any]:
    """The registered code of bluegreen's hook function ``function`` in ``emulator``.

    In prober mode (test_cidrs narrowed) the checks go to the test listener's local
    address too: the emulator has one network, where the task addresses the prober
    would request are not reachable, and its Lambda cannot run the prober's code; the
    prober's own path is tested in tests/test_verification_hook.py."""

    def steps(event: dict[str, Any], clients: Any) -> Body:
        """One invocation on the clock: its pauses as waits; its reply."""
        plan_now = dict(plan)
        for key, name in hook.ENVIRONMENT.items():
            plan_now[key] = environment.get(name, "")
        if plan_now["url"]:
            plan_now["url"] = local_url(emulator, plan_now["url"])
        elif plan_now["test_listener_arn"]:
            host, port = emulator.service("elbv2").local_address(plan_now["test_listener_arn"])
            plan_now["url"], plan_now["prober"] = f"http://{host}:{port}", ""
        lines: list[tuple[int, str]] = []
        clock = emulator.clock

        def log(line: str) -> None:
            # Each line keeps the moment it was printed: the runtime sends the function's
            # output to its log stream as the invocation runs (Lambda developer guide,
            # "Log and monitor Python Lambda functions"), each line a log event with its
            # own timestamp (PutLogEvents' InputLogEvent.timestamp). So each request of
            # the checks has its own time, not the invocation's end (review U13).
            lines.append((int(emulator.now().timestamp() * 1000), line))

        why = _not_run_here(emulator, str(plan_now.get("test_listener_arn") or ""))
        if why:
            # The app's packages are not installed here (the quick start's install): the
            # load balancer's answer would be the emulator's 502, which judges this
            # machine, not the revision. Said in the timeline; the release goes on.
            plan_now["checks"] = []
            skipped = f"not sent: the app does not run on this machine ({why})"
            log(checks.LOG_MARK + " " + json.dumps({"skipped": skipped}))
        work = hook.execute_steps(
            event,
            timeout,
            _Clients(clients),
            plan_now,
            opener=unlocked_opener(emulator.lock),
            clock=lambda: clock.seconds,  # deadlines and pauses: the simulated clock
            log=log,
            timer=time.monotonic,  # a request's latency: the real one
        )
        try:
            return (yield from _on_clock(work))
        finally:
            with contextlib.suppress(Exception):  # the emulator may be closing
                _write_logs(emulator, clients, log_group, function, lines)

    def run(event: dict[str, Any], clients: Any) -> None:
        # CodeDeploy invokes its hook asynchronously and waits for the report: the
        # invocation runs on the clock like the rest of AWS, its pauses (the warm-up,
        # interval_seconds) simulated time in which the health checks go on.
        emulator.clock.spawn(f"lambda {function}", steps(event, clients))

    _STEPS[(id(emulator), function)] = steps
    return run


def register(
    emulator: Emulator,
    function: str,
    source: str,
    environment: dict[str, str],
    log_group: str,
    timeout: float,
) -> bool:
    """Register ``function``'s code when it is bluegreen's hook (its index.py); whether
    it was. Keyed by the function's name (:func:`bluegreen.emulator.hooks.register`):
    the emulator created last with that function runs it."""
    from bluegreen.emulator import hooks

    plan = plan_of(source)
    if plan is None:
        return False
    hooks.register(function, runner(emulator, function, plan, environment, log_group, timeout))
    return True


def ecs_lambda_hook(
    emulator: Emulator, spec: dict[str, Any], payload: dict[str, Any], minutes: float
) -> Generator[Step, Any, tuple[str, str]]:
    """An ECS lifecycle hook of target type AWS_LAMBDA, as ECS runs it: ECS assumes the
    hook's ``roleArn`` (trust ecs.amazonaws.com) to invoke ``hookTargetArn``
    (lambda:InvokeFunction), and reads the function's ``hookStatus``: SUCCEEDED goes on,
    FAILED (or no valid status) rolls back, IN_PROGRESS invokes it again after
    ``callBackDelay`` seconds (default 30) with the ``hookDetails`` it returned (ECS
    developer guide, "Lambda hooks for Amazon ECS service deployments"), until the hook's
    timeout (``minutes``). Returns (SUCCEEDED | FAILED | TIMED_OUT, reason)."""
    from botocore.exceptions import ClientError

    from bluegreen.emulator import authz

    arn = str(spec.get("hookTargetArn") or "")
    role = str(spec.get("roleArn") or "")
    name = arn.rsplit(":", 1)[-1]
    auth = authz.authorizer(emulator)
    if not auth.assume(role, "ecs.amazonaws.com", record=f"ECS cannot assume role {role}"):
        return "FAILED", f"Amazon ECS could not assume the lifecycle hook's role {role}."
    denied = auth.require(role, "lambda:InvokeFunction", arn, operation="Invoke")
    if denied is not None:
        return "FAILED", denied
    try:
        found = emulator.client("lambda").get_function(FunctionName=name)["Configuration"]
    except ClientError:
        return "FAILED", f"Function not found: {arn}"
    steps = _STEPS.get((id(emulator), name))
    if steps is None:
        return "FAILED", f"the emulator cannot run Lambda function {name}'s code"
    clients = emulator.clients(str(found["Role"]), internal=True)
    details = dict(spec.get("hookDetails") or {})
    deadline = emulator.clock.seconds + minutes * 60
    while True:
        reply = yield from steps({**payload, "hookDetails": details}, clients)
        status = str((reply or {}).get("hookStatus", ""))
        if status == "SUCCEEDED":
            return "SUCCEEDED", ""
        if status != "IN_PROGRESS":
            return "FAILED", f"Lambda function {name} returned hookStatus {status or 'none'}."
        delay = float(reply.get("callBackDelay") or 30)
        if emulator.clock.seconds + delay > deadline:
            return "TIMED_OUT", f"lifecycle hook {name} did not finish in {minutes:g} minutes."
        # "Amazon ECS merges this data and passes it back" (ECS developer guide, "Lambda
        # hooks for Amazon ECS service deployments", passing state with hookDetails).
        details = {**details, **dict(reply.get("hookDetails") or {})}
        yield Wait(delay)


def _on_clock(work: Any) -> Body:
    """``work``'s pauses (seconds yielded) as the clock's waits; its result."""
    try:
        pause = next(work)
        while True:
            yield Wait(pause)
            pause = work.send(None)
    except StopIteration as stop:
        return stop.value


def _write_logs(
    emulator: Emulator, clients: Any, group: str, function: str, lines: list[tuple[int, str]]
) -> None:
    if not group or not lines:
        return
    logs = clients("logs")
    stamp = int(emulator.now().timestamp() * 1000)
    stream = f"{emulator.now():%Y/%m/%d}/[$LATEST]{function}-{stamp}"
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    logs.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[{"timestamp": at, "message": line} for at, line in lines],
    )
