"""What the engine tests share (no tests here): stubbed clients over one botocore session,
a service's refs, a recording Ui, and reading a command's refusal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import botocore.session
import pytest
from test_aws_support import Stubs as ModelStubs

from bluegreen.engine import ServiceRefs
from bluegreen.errors import StateError

_SESSION = botocore.session.get_session()


class Stubs(ModelStubs):
    """test_aws_support's Stubs over one botocore session, so each service model is
    loaded once for the run, not once a test."""

    def __init__(self) -> None:
        super().__init__()
        self._session = _SESSION


def refs(**more: Any) -> ServiceRefs:
    """Service "s" in cluster "c" (production :80, test :8080), with ``more`` set."""
    return ServiceRefs(
        **{
            "cluster": "c",
            "service": "s",
            "application": "",
            "deployment_group": "",
            "production_listener": "",
            "test_listener": "",
            "target_groups": (),
            "production_port": 80,
            "test_port": 8080,
        }
        | more
    )


class Ui:
    """The progress a command reports, line by line."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def step(self, message: str) -> None:
        self.lines.append(message)


class _Done(Protocol):
    def done(self) -> None: ...


def refusal(act: Callable[[], object], stubs: _Done | None = None) -> tuple[str, str]:
    """The message and hint of the StateError ``act`` refuses with (it must refuse);
    with ``stubs``, every answer they were given has been asked for by then."""
    with pytest.raises(StateError) as caught:
        act()
    if stubs is not None:
        stubs.done()
    return caught.value.message, caught.value.hint
