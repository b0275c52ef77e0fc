"""Inside an app process: every TCP server socket binds loopback, on a port of its own.

In its container the app binds the container's port on every interface (``0.0.0.0:80``);
here that port may be taken or privileged, and only loopback may be used. So
``socket.socket.bind`` of an IPv4/IPv6 address binds ``127.0.0.1`` (``::1``) on port 0,
an ephemeral port the kernel gives, and ``listen`` reports the container port the app
asked for and the port it got (``listen <asked> <host> <port>``, one line) on the report
file descriptor. The app itself sees nothing else change: its own logs say the port it
asked for, as they would in the container.

Installed in the data plane's zygote before it forks an app (:mod:`.zygote`), and in a
Python process the app's command starts through a shell, as ``sitecustomize`` (the file
descriptor then comes from ``BLUEGREEN_DATAPLANE_FD``).
"""

from __future__ import annotations

import contextlib
import os
import socket
import weakref
from typing import Any

ENV_FD = "BLUEGREEN_DATAPLANE_FD"

_state: dict[str, int | None] = {"fd": None}
_asked: weakref.WeakKeyDictionary[socket.socket, int] = weakref.WeakKeyDictionary()
_real_bind = socket.socket.bind
_real_listen = socket.socket.listen


def set_report_fd(fd: int | None) -> None:
    """Where ``listen`` lines go (None: the shim does nothing)."""
    _state["fd"] = fd


def _report(line: str) -> None:
    fd = _state["fd"]
    if fd is None:
        return
    # If the emulator is gone, the app keeps running until it is stopped.
    with contextlib.suppress(OSError):
        os.write(fd, (line + "\n").encode("ascii"))


def _bind(self: socket.socket, address: Any) -> None:
    if (
        _state["fd"] is not None
        and self.family in (socket.AF_INET, socket.AF_INET6)
        and isinstance(address, tuple)
        and len(address) >= 2
    ):
        port = address[1]
        try:
            asked = int(port)
        except (TypeError, ValueError):
            asked = socket.getservbyname(str(port), "tcp")
        host = "127.0.0.1" if self.family == socket.AF_INET else "::1"
        _real_bind(self, (host, 0, *address[2:]))
        if self.type == socket.SOCK_STREAM:
            _asked[self] = asked
        return
    _real_bind(self, address)


def _listen(self: socket.socket, *args: Any) -> None:
    _real_listen(self, *args)
    asked = _asked.get(self)
    if asked is not None:
        host, port = self.getsockname()[:2]
        _report(f"listen {asked} {host} {port}")


def install() -> None:
    """Replace ``socket.socket.bind`` and ``listen`` (idempotent)."""
    socket.socket.bind = _bind  # type: ignore[method-assign,assignment]
    socket.socket.listen = _listen  # type: ignore[method-assign,assignment]


def install_from_environment() -> None:
    """As ``sitecustomize``: the report descriptor from the environment."""
    value = os.environ.get(ENV_FD, "")
    if value.isdigit():
        set_report_fd(int(value))
        install()
