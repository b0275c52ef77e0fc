"""The loopback endpoint a build's ``aws`` and ``docker`` stand-ins talk to.

One per running build, bound to 127.0.0.1 on a free port, answering only requests that
carry the build's token (written, with the port, to a file only the build's user can
read). It is served by the thread running the build's commands while a command runs
(:meth:`Listener.serve`), so a stand-in's call reaches the emulator in process, under the
emulator's lock the build already holds, at the simulated moment the command runs: the
emulator's HTTP endpoint could not serve it then (its threads would wait for that lock).
See :mod:`bluegreen.emulator.standins.client` for the wire format.

A ``sleep`` is not answered at once: its handler answers :class:`Parked` and the
connection waits in :attr:`Listener.parked` until the build's process has let that much
simulated time pass (:mod:`bluegreen.emulator.standins.shell`), so a build that polls
with ``sleep`` waits on the emulator's clock, not on the machine's.
"""

from __future__ import annotations

import contextlib
import hmac
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_REQUEST = 64 * 1024 * 1024
"""Bytes a stand-in's request may hold (its environment, arguments and input)."""
READ_TIMEOUT = 10.0
"""Real seconds a stand-in may take to send its request once connected (it sends at once)."""


@dataclass(frozen=True)
class Request:
    tool: str
    cwd: str
    argv: list[str]
    env: dict[str, str]
    stdin: bytes = b""


@dataclass
class Response:
    status: int = 0
    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)

    def out(self, text: str | bytes) -> None:
        self.stdout += text.encode() if isinstance(text, str) else text

    def err(self, text: str | bytes) -> None:
        self.stderr += text.encode() if isinstance(text, str) else text

    def fail(self, text: str, status: int = 1) -> Response:
        self.err(text if text.endswith("\n") else text + "\n")
        self.status = status
        return self

    def encode(self) -> bytes:
        """``<status> <stderr length> <stdout length>\n<stderr><stdout>`` (the stdout
        length -1 when it holds a NUL byte: it then runs to the end)."""
        size = -1 if b"\0" in self.stdout else len(self.stdout)
        head = f"{self.status} {len(self.stderr)} {size}\n".encode()
        return head + bytes(self.stderr) + bytes(self.stdout)


@dataclass
class Parked(Response):
    """The answer to a ``sleep``: given once ``seconds`` of simulated time have passed."""

    seconds: float = 0.0


@dataclass
class Sleeper:
    """A parked ``sleep``: its connection, and the simulated seconds it still waits."""

    connection: socket.socket
    remaining: float


Handler = Callable[[Request], Response]


class Listener:
    """A loopback socket answering the build's stand-ins with ``handler``."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.token = secrets.token_hex(16)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self._socket.bind(("127.0.0.1", 0))
            self._socket.listen(16)
            self._socket.setblocking(False)
        except OSError:
            self._socket.close()
            raise
        self.served = 0
        self.parked: list[Sleeper] = []
        """The ``sleep`` commands waiting for simulated time, oldest first."""

    @property
    def port(self) -> int:
        return int(self._socket.getsockname()[1])

    def fileno(self) -> int:
        return self._socket.fileno()

    def endpoint_text(self) -> str:
        return f"{self.port}\n{self.token}\n"

    def serve(self) -> None:
        """Answer every connection waiting now (none: return at once)."""
        while True:
            try:
                connection, _ = self._socket.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            if not self._answer(connection):
                connection.close()

    def wake(self, sleeper: Sleeper, response: Response | None = None) -> None:
        """Answer a parked ``sleep`` (it succeeds unless ``response`` says otherwise)."""
        if sleeper in self.parked:
            self.parked.remove(sleeper)
        with contextlib.suppress(OSError):
            sleeper.connection.sendall((response or Response()).encode())
        sleeper.connection.close()

    def _answer(self, connection: socket.socket) -> bool:
        """Answer one connection; True when it was parked (a ``sleep``), kept open."""
        connection.setblocking(True)
        connection.settimeout(READ_TIMEOUT)
        try:
            request = self._read(connection)
        except (OSError, ValueError) as exc:
            response = Response().fail(f"the emulated AWS could not read the request: {exc}", 255)
        else:
            if request is None:
                response = Response().fail("refused: not this build's token", 255)
            else:
                self.served += 1
                try:
                    response = self.handler(request)
                except Exception as exc:  # noqa: BLE001 - the build sees a failed command
                    response = Response().fail(
                        f"{request.tool}: the emulated AWS failed: {type(exc).__name__}: {exc}",
                        255,
                    )
        if isinstance(response, Parked) and response.status == 0:
            self.parked.append(Sleeper(connection, max(0.0, response.seconds)))
            return True
        with contextlib.suppress(OSError):  # the stand-in went away (its command stopped)
            connection.sendall(response.encode())
        return False

    def _read(self, connection: socket.socket) -> Request | None:
        """Read until the request is complete (it is self-delimiting: the client keeps
        its side open for the answer); None when it is not this build's token."""
        data = bytearray()
        while True:
            parsed = _parse(bytes(data))
            if parsed is not None:
                token, request = parsed
                if not hmac.compare_digest(token, self.token.encode()):
                    return None
                return request
            chunk = connection.recv(65536)
            if not chunk:
                raise ValueError("the request ended early")
            data += chunk
            if len(data) > MAX_REQUEST:
                raise ValueError("the request is too large")

    def close(self) -> None:
        for sleeper in list(self.parked):
            self.parked.remove(sleeper)
            sleeper.connection.close()
        self._socket.close()


def _parse(data: bytes) -> tuple[bytes, Request] | None:
    """``(token, request)`` once ``data`` holds a whole request, else None: NUL-ended fields
    token, tool, cwd, argc, argv..., envc, ``K=V``..., stdin length, then the stdin bytes."""
    position = 0

    def field() -> bytes | None:
        nonlocal position
        end = data.find(b"\0", position)
        if end < 0:
            return None
        value = data[position:end]
        position = end + 1
        return value

    head: list[bytes] = []
    for _ in range(4):
        value = field()
        if value is None:
            return None
        head.append(value)
    token, tool, cwd, argc = head
    argv: list[str] = []
    for _ in range(int(argc)):
        word = field()
        if word is None:
            return None
        argv.append(word.decode("utf-8", "surrogateescape"))
    envc = field()
    if envc is None:
        return None
    env: dict[str, str] = {}
    for _ in range(int(envc)):
        pair = field()
        if pair is None:
            return None
        name, _, text = pair.decode("utf-8", "surrogateescape").partition("=")
        env[name] = text
    size = field()
    if size is None or len(data) < position + int(size):
        return None
    stdin = data[position : position + int(size)]
    directory = cwd.decode("utf-8", "surrogateescape")
    return token, Request(tool.decode(), directory, argv, env, stdin)
