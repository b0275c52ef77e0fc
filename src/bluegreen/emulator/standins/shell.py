"""A build's shell: its commands run for real, one at a time, in one shell session.

Buildspec version 0.2 "runs all build commands in the same instance of the default shell
in the build environment" (CodeBuild user guide, "Build specification reference",
Buildspec versions; in 0.1 each command ran in a separate instance): a variable set, a
function defined or a directory changed by one command is there for the next, across
phases. Here one shell process runs the build's commands, each sourced from its own file
(its output going to its own file) and followed by its exit status on a pipe. A command
that ends the shell (``exit 1``, ``set -e`` and a failure) fails with that status, as on
CodeBuild, and the next command runs in a new shell started from the state the last one
dumped: every variable (``set -a`` exports every assignment), bash's functions, and the
working directory.

The commands run on this machine, as the user running bluegreen, in the build's own
directory (the source under ``src``, ``HOME`` and ``TMPDIR`` inside it too): they are the
repository's own build commands, run like a local ``make``. Each is bounded in real time
(:data:`COMMAND_TIMEOUT`); what a command leaves running (``nohup x &``) runs on until
the build ends, when every process group of the session is killed.

While a command runs, the thread running it answers the build's ``aws`` and ``docker``
stand-ins (:class:`~bluegreen.emulator.standins.server.Listener`).

``sleep`` is a stand-in too (:mod:`bluegreen.emulator.standins.sleep`). Played through
:meth:`Shell.steps` (what the emulated CodeBuild does), a command that sleeps hands its
build's process a :class:`~bluegreen.emulator.clock.Wait` of that many simulated seconds
and resumes when the clock has moved on: the real-time limit counts only the time the
command runs, not the time it sleeps. A command may not sleep past ``budget`` (the
build's timeout): then it is killed as timed out. :meth:`Shell.run` (no clock) answers a
``sleep`` at once.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from bluegreen.emulator.clock import Wait
from bluegreen.emulator.standins.client import ENVIRONMENT, PYTHON_SCRIPT, SCRIPT
from bluegreen.emulator.standins.server import Listener

COMMAND_TIMEOUT = 120.0
"""Real seconds one buildspec command may run before the emulator kills it (a limit of
the emulator, not CodeBuild's: a build's own timeout is minutes of simulated time)."""

_SETTLE_SECONDS = 0.002
"""Real seconds a build's shell is watched, once a ``sleep`` is parked, for anything else
it does before its sleep is taken as what the command waits on."""

SHELLS = {"bash": "bash", "/bin/sh": "/bin/sh"}
"""The Linux shells a buildspec's ``env/shell`` may name (buildspec reference, env/shell:
"bash" and "/bin/sh"; ``sh`` is the default)."""

_BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class Ran:
    """How a command ended."""

    status: int
    """Its exit status (a signal N that killed the shell: 128 + N)."""
    output: list[str]
    """Its output lines (standard output and error, interleaved as written)."""
    timed_out: bool = False
    """Killed after :data:`COMMAND_TIMEOUT` real seconds."""
    out_of_budget: bool = False
    """Killed because it would have slept past its budget of simulated time."""


class Shell:
    """The shell session of one build, rooted at ``root`` (its ``src`` is the source)."""

    def __init__(
        self,
        root: Path,
        shell: str,
        env: dict[str, str],
        listener: Listener,
        isolated: bool = False,
    ) -> None:
        self.root = root
        self.isolated = isolated
        """Buildspec version 0.1: "each build command in a separate instance of the default
        shell" (buildspec reference, Buildspec versions): every command starts from the
        build's initial environment and directory."""
        self.src = root / "src"
        self.listener = listener
        self.bash = shell == "bash"
        self._shell = _which("bash") if self.bash else "/bin/sh"
        self._state = root / "state"
        self._bin = root / "bin"
        for directory in (self.src, self._state, self._bin, root / "home", root / "tmp"):
            directory.mkdir(parents=True, exist_ok=True)
        self._groups: list[int] = []
        self._closed = False
        self._count = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._commands: IO[bytes] | None = None
        self._pending = b""
        self._write_standins()
        initial = dict(env)
        initial["PATH"] = f"{self._bin}:{_BASE_PATH}"
        initial["HOME"] = str(root / "home")
        initial["TMPDIR"] = str(root / "tmp")
        self._state_file = self._state / "env.sh"
        """The session's variables and functions, as the shell reads them back."""
        self._state_file.write_text(
            "".join(f"export {k}={_quote(v)}\n" for k, v in initial.items() if _name_ok(k)),
            encoding="utf-8",
        )
        self._cwd_file = self._state / "cwd"
        self.cwd = str(self.src)
        # Each command's exit status comes back through a FIFO the shell opens by name
        # (no file descriptor of the session's to clobber); the reader keeps a writer of
        # its own open, so the FIFO never reads as ended.
        self._fifo = self._state / "status"
        os.mkfifo(self._fifo, 0o600)
        self._status = os.open(self._fifo, os.O_RDONLY | os.O_NONBLOCK)
        self._keep = os.open(self._fifo, os.O_WRONLY)

    # -- running ---------------------------------------------------------------------------
    def run(self, command: str, set_after: dict[str, str], timeout: float | None = None) -> Ran:
        """Run ``command`` in the session; ``set_after`` are exported first (CodeBuild's
        own variables, such as CODEBUILD_BUILD_SUCCEEDING). No clock here: a ``sleep``
        is answered at once."""
        steps = self.steps(command, set_after, timeout)
        try:
            while True:
                next(steps)
        except StopIteration as done:
            ran: Ran = done.value
            return ran

    def steps(
        self,
        command: str,
        set_after: dict[str, str],
        timeout: float | None = None,
        budget: float = float("inf"),
    ) -> Generator[Wait, Any, Ran]:
        """Run ``command`` as :meth:`run` does, yielding a Wait for each ``sleep`` (see the
        module docstring); ``budget``: the simulated seconds it may sleep in all."""
        if self._closed:
            raise RuntimeError("the build's shell is closed")
        if self.isolated or self._process is None or self._process.poll() is not None:
            self._start()
        assert self._process is not None and self._commands is not None
        self._count += 1
        script = self._state / f"command.{self._count}"
        out = self._state / f"output.{self._count}"
        script.write_text(command + "\n", encoding="utf-8")
        exports = "".join(f"export {k}={_quote(v)}; " for k, v in set_after.items())
        line = (
            f"__bluegreen_n={self._count}; {exports}. {_quote(str(script))} </dev/null "
            f">{_quote(str(out))} 2>&1; __bluegreen_done $?\n"
        )
        try:
            self._commands.write(line.encode())
            self._commands.flush()
        except OSError:
            pass  # the shell is gone: its exit status is the command's
        status, timed_out, out_of_budget = yield from self._wait(
            COMMAND_TIMEOUT if timeout is None else timeout, budget
        )
        text = out.read_bytes().decode("utf-8", "replace") if out.exists() else ""
        with contextlib.suppress(OSError):
            out.unlink()
            script.unlink()
        self._keep_latest_state()
        return Ran(status, text.splitlines(), timed_out, out_of_budget)

    def _keep_latest_state(self) -> None:
        """The session's state is the last dump (``env.N``, ``cwd.N``); older ones go."""
        dumped = self._state / f"env.{self._count}"
        if self.isolated or not dumped.exists():
            return
        previous = self._state_file
        self._state_file = dumped
        self._cwd_file = self._state / f"cwd.{self._count}"
        if previous.name != "env.sh":
            with contextlib.suppress(OSError):
                previous.unlink()
                (self._state / f"cwd.{previous.name.split('.', 1)[1]}").unlink()

    def values(self, names: list[str]) -> dict[str, str]:
        """The session's current values of ``names`` (unset: absent)."""
        wanted = [n for n in names if _name_ok(n)]
        if not wanted:
            return {}
        checks = " ".join(
            f'if [ "${{{n}+x}}" = x ]; then printf "%s\\0%s\\0" {n} "${n}"; fi;' for n in wanted
        )
        ran = self.run(checks, {}, timeout=30)
        if ran.status != 0:
            return {}
        parts = "\n".join(ran.output).split("\0")
        return dict(zip(parts[0:-1:2], parts[1::2], strict=False))

    def _start(self) -> None:
        """A shell process for the session, started from its last dumped state."""
        self._stop_process()
        cwd_next = self._cwd_file
        if cwd_next.exists():
            moved = cwd_next.read_text(encoding="utf-8").strip()
            if moved and os.path.isdir(moved):
                self.cwd = moved
        command_read, command_write = os.pipe()
        log = open(self._state / "shell.log", "ab")  # noqa: SIM115 - kept by the child only
        try:
            self._process = subprocess.Popen(  # noqa: S603 - the build's own shell
                [self._shell, "-s"],
                cwd=self.cwd if os.path.isdir(self.cwd) else str(self.src),
                env={},
                stdin=command_read,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        finally:
            os.close(command_read)
            log.close()
        self._groups.append(self._process.pid)
        self._pending = b""
        self._commands = os.fdopen(command_write, "wb")
        dump = "export -p; declare -f" if self.bash else "export -p"
        state = _quote(str(self._state / "env"))
        # A new file per dump: rewriting a file in place can cost milliseconds (ext4
        # flushes a truncated file's data on close: its auto_da_alloc heuristic).
        prelude = "\n".join(
            [
                "set -a",
                f". {_quote(str(self._state_file))} 2>/dev/null",
                "__bluegreen_n=0",
                "__bluegreen_done() {",
                "  __bluegreen_status=$1",
                f"  {{ {dump}; }} > {state}.$__bluegreen_n 2>/dev/null",
                f"  pwd > {_quote(str(self._state / 'cwd'))}.$__bluegreen_n 2>/dev/null",
                # The command's number goes with its status: a shell that exits (an
                # `exit` in a command, or the old shell of a version 0.1 build being
                # replaced) reports through its EXIT trap, possibly after the next
                # command was sent; a status of another command is not this one's.
                f'  printf \'%s %s %s\\n\' "$__bluegreen_n" "$__bluegreen_status" '
                f'"${{2:-}}" > {_quote(str(self._fifo))}',
                "}",
                "trap '__bluegreen_done $? exit' EXIT",
                "",
            ]
        )
        self._commands.write(prelude.encode())
        self._commands.flush()

    def _wait(self, timeout: float, budget: float) -> Generator[Wait, Any, tuple[int, bool, bool]]:
        """Serve the stand-ins until the command's status arrives (or the shell ends, or
        the time is up: then the session's processes are killed). While every process of
        the command waits in a ``sleep``, yield the simulated time it sleeps; how it
        ended: (status, timed out in real time, out of its simulated budget)."""
        process = self._process
        assert process is not None
        deadline = time.monotonic() + timeout
        selector = selectors.DefaultSelector()
        selector.register(self.listener, selectors.EVENT_READ)
        selector.register(self._status, selectors.EVENT_READ)
        pidfd = -1
        opener = getattr(os, "pidfd_open", None)
        if opener is not None:
            with contextlib.suppress(OSError):
                pidfd = int(opener(process.pid))
                selector.register(pidfd, selectors.EVENT_READ)
        try:
            while True:
                status = self._read_status()
                if status is not None:
                    return status, False, False
                if process.poll() is not None:
                    status = self._read_status(final=True)
                    code = process.returncode
                    return (
                        (status if status is not None else (128 - code if code < 0 else code)),
                        False,
                        False,
                    )
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return self._killed(process), True, False
                parked = self.listener.parked
                if parked and not self._busy(selector):
                    # The command waits in `sleep`: let simulated time pass.
                    step = min(sleeper.remaining for sleeper in parked)
                    if step > budget:
                        if budget > 0:
                            yield Wait(budget)
                        return self._killed(process), False, True
                    paused = time.monotonic()
                    if step > 0:
                        yield Wait(step)
                    budget -= step
                    deadline += time.monotonic() - paused  # sleeping is not running
                    for sleeper in list(parked):
                        sleeper.remaining -= step
                        if sleeper.remaining <= 1e-9:
                            self.listener.wake(sleeper)
                    continue
                wake = remaining if pidfd >= 0 else min(remaining, 0.01)
                for key, _ in selector.select(timeout=wake):
                    if key.fileobj is self.listener:
                        self.listener.serve()
                    elif key.fileobj == self._status:
                        self._fill()
        finally:
            selector.close()
            if pidfd >= 0:
                os.close(pidfd)
            for sleeper in list(self.listener.parked):  # a `sleep &` the command left
                self.listener.wake(sleeper)

    def _busy(self, selector: selectors.BaseSelector) -> bool:
        """Whether the command still does something else than sleep: a request or its
        status arrives within a moment (a `sleep` in a pipeline or in the background
        while the rest runs). Requests that arrived are served."""
        busy = False
        for key, _ in selector.select(timeout=_SETTLE_SECONDS):
            busy = True
            if key.fileobj is self.listener:
                self.listener.serve()
            elif key.fileobj == self._status:
                self._fill()
        return busy

    def _killed(self, process: subprocess.Popen[bytes]) -> int:
        self._kill(process.pid)
        process.wait()
        self._read_status(final=True)
        return 128 + signal.SIGKILL

    def _fill(self) -> None:
        try:
            chunk = os.read(self._status, 4096)
        except (BlockingIOError, OSError):
            return
        self._pending += chunk

    def _read_status(self, final: bool = False) -> int | None:
        if final:
            while True:
                try:
                    chunk = os.read(self._status, 4096)
                except (BlockingIOError, OSError):
                    break
                if not chunk:
                    break
                self._pending += chunk
        while True:
            line, newline, rest = self._pending.partition(b"\n")
            if not newline:
                return None
            self._pending = rest
            number, _, tail = line.strip(b"\0").partition(b" ")
            status, _, how = tail.partition(b" ")
            if number != str(self._count).encode():
                continue  # an earlier command's shell, exiting late
            if how == b"exit" and self._process is not None:
                # The shell is ending: let it end, so the next command starts a new one
                # instead of being written to a shell on its way out.
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._process.wait(timeout=5)
            try:
                return int(status or b"1")
            except ValueError:
                return 1

    def _stop_process(self) -> None:
        if self._commands is not None:
            with contextlib.suppress(OSError):
                self._commands.close()
            self._commands = None
        if self._process is not None:
            if self._process.poll() is None:
                self._kill(self._process.pid)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout=5)
            self._process = None

    # -- the end -----------------------------------------------------------------------------
    def close(self) -> None:
        """Kill every process the session started (and what they left running)."""
        if self._closed:
            return
        self._closed = True
        self._stop_process()
        for group in self._groups:
            self._kill(group)
        for fd in (self._status, self._keep):
            with contextlib.suppress(OSError):
                os.close(fd)

    @staticmethod
    def _kill(group: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)

    def alive(self) -> list[int]:
        """Process groups of the session that still have a process (for tests)."""
        found = []
        for group in self._groups:
            try:
                os.killpg(group, 0)
            except (ProcessLookupError, PermissionError):
                continue
            found.append(group)
        return found

    # -- the stand-ins -------------------------------------------------------------------------
    def _write_standins(self) -> None:
        endpoint = self._bin / ".endpoint"
        fd = os.open(endpoint, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(self.listener.endpoint_text())
        client = Path(__file__).with_name("client.py")
        bash = shutil.which("bash", path=_BASE_PATH)
        for tool in ("aws", "docker", "sleep"):
            path = self._bin / tool
            arguments = {
                "python": _quote(sys.executable),
                "client": _quote(str(client)),
                "endpoint": _quote(str(endpoint)),
                "tool": tool,
            }
            if bash is None:  # no bash here: the Python client (~20 ms more per call)
                text = PYTHON_SCRIPT.format(**arguments)
            else:
                text = SCRIPT.format(names=" ".join(ENVIRONMENT), bash=bash, **arguments)
            path.write_text(text, encoding="utf-8")
            path.chmod(0o700)


def _quote(value: str) -> str:
    """``value`` as one POSIX shell word."""
    return "'" + value.replace("'", "'\\''") + "'"


def _name_ok(name: str) -> bool:
    return bool(name) and (name[0].isalpha() or name[0] == "_") and name.replace("_", "a").isalnum()


def _which(program: str) -> str:
    found = shutil.which(program, path=_BASE_PATH)
    return found or f"/bin/{program}"
