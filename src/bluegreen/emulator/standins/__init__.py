"""What a build finds on its PATH instead of the AWS CLI and Docker.

A played build (:mod:`bluegreen.emulator.buildspec`) runs its commands in a real shell
(:mod:`.shell`); ``aws`` and ``docker`` there are two small wrappers around
:mod:`.client`, which sends the command line to the build's loopback endpoint
(:mod:`.server`). :class:`Standins` answers it in process: :mod:`.awscli` calls the
emulated AWS as the build project's service role, :mod:`.docker` is the build's Docker
daemon (checks builds against :mod:`.dockerfile`, pushes to the emulated ECR). ``sleep``
is a stand-in too (:mod:`.sleep`): it waits on the emulator's clock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bluegreen.emulator.standins.awscli import AwsCli
from bluegreen.emulator.standins.docker import Docker
from bluegreen.emulator.standins.server import Request, Response
from bluegreen.emulator.standins.sleep import sleep

if TYPE_CHECKING:
    from collections.abc import Callable

    from bluegreen.emulator.core import Emulator

__all__ = ["AwsCli", "Docker", "Request", "Response", "Standins"]


class Standins:
    """The ``aws`` and ``docker`` of one build."""

    def __init__(
        self,
        emulator: Emulator,
        role: str,
        session_name: str,
        privileged: bool,
        fault: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.aws = AwsCli(emulator, role, session_name)
        self.docker = Docker(emulator, role, privileged, fault)

    def __call__(self, request: Request) -> Response:
        if request.tool == "aws":
            return self.aws(request)
        if request.tool == "docker":
            return self.docker(request)
        if request.tool == "sleep":
            return sleep(request)
        return Response().fail(f"no stand-in for {request.tool}", 127)
