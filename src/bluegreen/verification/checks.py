"""The checks themselves: send a check's requests and judge the answers.

Shipped as the first part of the hook's code (:mod:`bluegreen.verification.hook`);
standard library only. Every request and its result is logged as one JSON line starting with
``bluegreen-check``, which ``bluegreen status`` reads back from the function's log group.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Generator
from typing import Any

LOG_MARK = "bluegreen-check"

Opener = Callable[[urllib.request.Request, float], Any]
Clock = Callable[[], float]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A check judges the answer it gets: a 301 is a 301, not the page it points to."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def open_url(request: urllib.request.Request, timeout: float) -> Any:
    return _OPENER.open(request, timeout=timeout)


def requests_of(checks: list[dict[str, Any]]) -> list[int]:
    """The order requests are sent in: each check's index, ``count`` times."""
    return [index for index, check in enumerate(checks) for _ in range(int(check["count"]))]


def probe(
    base: str,
    check: dict[str, Any],
    opener: Opener = open_url,
    clock: Clock = time.monotonic,
) -> dict[str, Any]:
    """Send one check's request to ``base`` (scheme, host and port) and judge the answer."""
    limit = int(check["max_latency_ms"]) / 1000.0
    request = urllib.request.Request(
        base + str(check["path"]),
        method=str(check["method"]),
        headers={"User-Agent": "bluegreen-verify"},
    )
    result: dict[str, Any] = {
        "request": f"{check['method']} {check['path']}",
        "expected": expected(check),
    }
    started = clock()
    body = b""
    measured = None
    try:
        with opener(request, limit) as answer:
            status = int(answer.status)
            body = answer.read(1_000_000)
            measured = getattr(answer, "seconds", None)  # the prober's own measure
    except urllib.error.HTTPError as error:  # 4xx/5xx answers are answers
        status = int(error.code)
        body = error.read(1_000_000) if error.fp is not None else b""
    except (OSError, ValueError) as error:  # refused, reset, timed out, bad URL
        result.update(ok=False, status=0, latency_ms=round((clock() - started) * 1000))
        result["reason"] = f"no answer: {error}"
        return result
    latency = clock() - started if measured is None else float(measured)
    result.update(status=status, latency_ms=round(latency * 1000))
    text = body.decode("utf-8", "replace")
    reason = ""
    if status != int(check["status"]):
        reason = f"status {status}, expected {check['status']}"
    elif check.get("body") and str(check["body"]) not in text:
        reason = f"body does not contain {check['body']!r}"
    elif check.get("body_pattern") and not re.search(str(check["body_pattern"]), text):
        # the pattern as configured and as `expected` words it ("\S", not '\\S')
        reason = f'body does not match "{check["body_pattern"]}"'
    elif latency > limit:
        reason = f"took {round(latency * 1000)} ms, limit {check['max_latency_ms']} ms"
    result.update(ok=not reason, reason=reason)
    if reason:  # what came back, for the person reading why the release was rolled back
        result["body"] = excerpt(text)
        if text and not result["body"]:  # not empty: blank (spaces, newlines)
            result["blank"] = len(text)
    return result


BODY_EXCERPT_CHARACTERS = 80
"""How much of a failed answer's body a result keeps (one line in the log and status)."""


def excerpt(text: str) -> str:
    """The start of a body on one line: whitespace runs become one space, at most
    :data:`BODY_EXCERPT_CHARACTERS` characters (an ellipsis marks a cut)."""
    flat = " ".join(text.split())
    if len(flat) <= BODY_EXCERPT_CHARACTERS:
        return flat
    return flat[: BODY_EXCERPT_CHARACTERS - 1] + "…"


def expected(check: dict[str, Any]) -> str:
    """What a check asks of each answer, in words: ``200, body matches "\\S", within
    2000 ms``."""
    words = [str(check["status"])]
    if check.get("body"):
        words.append(f'body contains "{check["body"]}"')
    elif check.get("body_pattern"):
        words.append(f'body matches "{check["body_pattern"]}"')
    words.append(f"within {check['max_latency_ms']} ms")
    return ", ".join(words)


def several(result: dict[str, Any]) -> bool:
    """A result of a run of more than one check, numbered by check and by its request
    (a result of one check, or of an older hook, by its request alone)."""
    return int(result.get("checks") or 1) > 1 and "repeat" in result and "count" in result


def failure(result: dict[str, Any]) -> str:
    """A failed result as one line: which check, why, and what came back (status, latency,
    a body excerpt), such as ``GET / (request 1 of 3) failed: status 500, expected 200;
    got 500 in 3 ms: 'Internal Server Error'``. Results of older hooks lack some keys."""
    where = f" (request {result['number']} of {result['of']})" if "number" in result else ""
    if several(result):
        where = (
            f" (check {result['check']} of {result['checks']}, request {result['repeat']} "
            f"of {result['count']})"
        )
    text = f"{result.get('request') or 'the checks'}{where} failed: {result.get('reason', '')}"
    if result.get("status"):
        got = f"got {result['status']}"
        if "latency_ms" in result:
            got += f" in {result['latency_ms']} ms"
        if "body" in result:
            got += f": {body_words(result)}"
        text += f"; {got}"
    return text


def body_words(result: dict[str, Any]) -> str:
    """A failed answer's body excerpt as shown: quoted, ``a blank body (3 characters)``
    for whitespace only, or ``an empty body``."""
    if result.get("body"):
        return repr(result["body"])
    if result.get("blank"):
        count = int(result["blank"])
        return f"a blank body ({count} whitespace character{'s' if count != 1 else ''})"
    return "an empty body"


Steps = Generator[float, None, Any]
"""Work that pauses: it yields the seconds to wait and returns its result. Lambda waits
with time.sleep (:func:`drive`); the rehearsal on its simulated clock."""


def drive(steps: Steps, sleep: Callable[[float], None] = time.sleep) -> Any:
    """Run ``steps`` to its end, sleeping for every pause it yields; its result."""
    try:
        pause = next(steps)
        while True:
            sleep(pause)
            pause = steps.send(None)
    except StopIteration as stop:
        return stop.value


def run_steps(
    bases: list[str],
    plan: dict[str, Any],
    start: int,
    deadline: float,
    opener: Opener = open_url,
    clock: Clock = time.monotonic,
    log: Callable[[str], None] = print,
    timer: Clock | None = None,
) -> Steps:
    """Send the plan's requests from number ``start`` on, spread over ``bases`` in turn,
    until all are sent, one fails, or ``deadline`` (a ``clock`` value) is near; pauses
    ``interval_seconds`` between two (yielded). ``timer`` measures latency (default
    ``clock``).

    Returns the results and the number of the next request to send. Bounded: at most
    every planned request once, each within its latency limit, and the pauses between.
    """
    checks: list[dict[str, Any]] = plan["checks"]
    order = requests_of(checks)
    interval = float(plan.get("interval_seconds", 0))
    results: list[dict[str, Any]] = []
    number = start
    while number < len(order):
        check = checks[order[number]]
        if clock() + int(check["max_latency_ms"]) / 1000.0 + interval > deadline:
            break
        if number > start and interval:
            yield interval
        base = bases[number % len(bases)]
        result = probe(base, check, opener, timer or clock)
        index = order[number]
        result.update(number=number + 1, of=len(order), check=index + 1)
        # With several checks, which check and which of its requests (review U12: "4/6"
        # was the second check's first request).
        result.update(checks=len(checks), repeat=number - order.index(index) + 1)
        result.update(count=int(check["count"]))
        log(LOG_MARK + " " + json.dumps(result, sort_keys=True))
        results.append(result)
        number += 1
        if not result["ok"]:
            break
    return results, number


def run(
    bases: list[str],
    plan: dict[str, Any],
    start: int,
    deadline: float,
    opener: Opener = open_url,
    clock: Clock = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    log: Callable[[str], None] = print,
) -> tuple[list[dict[str, Any]], int]:
    """:func:`run_steps`, sleeping through its pauses."""
    found: tuple[list[dict[str, Any]], int] = drive(
        run_steps(bases, plan, start, deadline, opener, clock, log), sleep
    )
    return found
