"""The prober: one HTTP request from inside the VPC, for the hook outside it.

Shipped alone as the prober function's index.py (:mod:`bluegreen.verification.network`
says when and why). The hook (:mod:`bluegreen.verification.hook`) invokes it once per
request with ``{"url", "method", "timeout"}`` and judges the answer itself, so all the
checking logic lives in one place and this file stays small.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from typing import Any


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Answers are judged as they come: a 301 is a 301."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point (``index.handler``): the status, body (at most 1 MB, as
    text) and seconds of one request, or the error that kept it from being answered."""
    request = urllib.request.Request(
        str(event["url"]),
        method=str(event["method"]),
        headers={"User-Agent": "bluegreen-verify"},
    )
    started = time.monotonic()
    try:
        with _OPENER.open(request, timeout=float(event["timeout"])) as answer:
            status, body = int(answer.status), answer.read(1_000_000)
    except urllib.error.HTTPError as error:
        status, body = int(error.code), error.read(1_000_000) if error.fp is not None else b""
    except (OSError, ValueError) as error:
        return {"error": str(error), "seconds": time.monotonic() - started}
    return {
        "status": status,
        "body": body.decode("utf-8", "replace"),
        "seconds": time.monotonic() - started,
    }
