"""The data plane's process starter: one interpreter that forks a process per container.

Started by the emulator (:mod:`bluegreen.emulator.dataplane`) as
``python -P zygote.py <control fd> <shim path> <modules to preload> <emulator pid>``.
It imports the web frameworks the sample app uses once (fastapi, uvicorn: most of an app
process's start-up time), then serves requests on the control socket, one JSON object a
line:

- ``{"op": "spawn", "id": ..., "mode": "python" | "exec", ...}`` forks a fresh process
  for a container: its own session, stdin from /dev/null, stdout and stderr appended to
  the files named, the container's working directory and environment (nothing of the
  emulator's), then either runs Python code as ``python -m``/``-c``/a script would
  (``mode: python``) or executes a command (``mode: exec``, for a shell command line);
- ``{"op": "kill", "id": ..., "signal": N}`` signals a container's process group.

It reports ``{"event": "spawned"|"listen"|"exit", "id": ...}``: the pid, each port the
app listens on (from :mod:`.shim`), and the exit status (``-N`` for a signal N).

No orphans: the zygote and every process it starts ask the kernel (``PR_SET_PDEATHSIG``)
for SIGKILL when their parent dies, and the zygote kills every process group it started
when the control socket closes (the emulator stopped or died).

Standard library only; it never imports bluegreen, whose package directory is not on
its path (``-P``).
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import importlib.util
import io
import json
import os
import runpy
import select
import signal
import socket
import sys
import threading
import types
from typing import Any

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with_parent(parent: int) -> None:
    """SIGKILL when the parent dies (Linux ``prctl(PR_SET_PDEATHSIG)``); elsewhere the
    zygote notices the closed control socket instead."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(0)  # the parent died before the request took effect


def _load_shim(path: str) -> Any:
    spec = importlib.util.spec_from_file_location("_bluegreen_shim", path)
    if spec is None or spec.loader is None:
        raise ImportError(path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Zygote:
    def __init__(self, control: socket.socket, shim: Any) -> None:
        self.control = control
        self.shim = shim
        self.children: dict[int, str] = {}  # pid -> container id
        self.reports: dict[int, tuple[str, bytes]] = {}  # report fd -> (id, partial line)
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)

    def send(self, message: dict[str, Any]) -> None:
        data = (json.dumps(message) + "\n").encode()
        with contextlib.suppress(OSError):
            self.control.sendall(data)

    def serve(self) -> None:
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda _signum, _frame: None)
        pending = b""
        while True:
            watched = [self.control.fileno(), self.wake_r, *self.reports]
            readable, _, _ = select.select(watched, [], [])
            if self.wake_r in readable:
                with contextlib.suppress(BlockingIOError):
                    os.read(self.wake_r, 4096)
            self.reap()
            for fd in readable:
                if fd in self.reports:
                    self.forward(fd)
            if self.control.fileno() in readable:
                data = self.control.recv(65536)
                if not data:
                    return  # the emulator closed the socket (or died)
                pending += data
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    if line.strip():
                        self.handle(json.loads(line))

    def reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            ident = self.children.pop(pid, None)
            if ident is not None:
                # Listen lines written just before the exit come first.
                for fd, (owner, _) in list(self.reports.items()):
                    if owner == ident:
                        self.forward(fd)
                self.send(
                    {"event": "exit", "id": ident, "status": os.waitstatus_to_exitcode(status)}
                )

    def forward(self, fd: int) -> None:
        """Relay the listen lines written to a report pipe so far (closed at its end)."""
        ident, partial = self.reports[fd]
        while True:
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                break
            except OSError:
                data = b""
            if not data:
                os.close(fd)
                del self.reports[fd]
                return
            partial += data
            lines = partial.split(b"\n")
            partial = lines.pop()
            for line in lines:
                words = line.decode("ascii", errors="replace").split()
                if len(words) == 4 and words[0] == "listen":
                    self.send(
                        {
                            "event": "listen",
                            "id": ident,
                            "port": int(words[1]),
                            "host": words[2],
                            "local": int(words[3]),
                        }
                    )
        self.reports[fd] = (ident, partial)

    def handle(self, request: dict[str, Any]) -> None:
        op = request.get("op")
        if op == "spawn":
            self.spawn(request)
        elif op == "kill":
            for pid, ident in list(self.children.items()):
                if ident == request["id"]:
                    with contextlib.suppress(OSError):
                        os.killpg(pid, int(request["signal"]))

    def spawn(self, request: dict[str, Any]) -> None:
        ident = str(request["id"])
        report_r, report_w = os.pipe()
        os.set_blocking(report_r, False)
        me = os.getpid()
        pid = os.fork()
        if pid == 0:  # the container's process
            code = 1
            try:
                code = self.child(request, report_w, me)
            except BaseException:  # noqa: BLE001 - whatever happens, this process ends here
                with contextlib.suppress(BaseException):
                    sys.excepthook(*sys.exc_info())
            finally:
                with contextlib.suppress(BaseException):
                    sys.stdout.flush()
                    sys.stderr.flush()
                os._exit(code)
        os.close(report_w)
        self.children[pid] = ident
        self.reports[report_r] = (ident, b"")
        self.send({"event": "spawned", "id": ident, "pid": pid})

    # -- in the forked process ----------------------------------------------------------------
    def child(self, request: dict[str, Any], report_w: int, zygote: int) -> int:
        os.setsid()  # its own process group: stopping the container signals all of it
        _die_with_parent(zygote)
        signal.set_wakeup_fd(-1)
        for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        keep = {0, 1, 2, report_w}
        for fd in (self.control.fileno(), self.wake_r, self.wake_w, *self.reports):
            if fd not in keep:
                with contextlib.suppress(OSError):
                    os.close(fd)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        for target, path in ((1, request["stdout"]), (2, request["stderr"])):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            os.dup2(fd, target)
            os.close(fd)
        env = {str(k): str(v) for k, v in request["env"].items()}
        os.chdir(request["cwd"])
        if request["mode"] == "exec":
            os.set_inheritable(report_w, True)
            env[self.shim.ENV_FD] = str(report_w)
            argv = [str(a) for a in request["argv"]]
            # As subprocess does before an exec (restore_signals): Python ignores these.
            for signum in (signal.SIGPIPE, signal.SIGXFSZ):
                signal.signal(signum, signal.SIG_DFL)
            try:
                os.execve(argv[0], argv, env)
            except OSError as exc:
                os.write(2, f"exec {argv[0]}: {exc.strerror}\n".encode())
                return 127
        os.environ.clear()
        os.environ.update(env)
        self.shim.set_report_fd(report_w)
        return run_python(request["python"], env)


def _streams(unbuffered: bool, encoding: str) -> None:
    """New sys.stdout/sys.stderr on fds 1 and 2, buffered as Python would be for files:
    stdout block-buffered, stderr line-buffered, both unbuffered with -u/PYTHONUNBUFFERED
    (Python docs, "Command line and environment", -u)."""
    out_raw = io.FileIO(1, "w", closefd=False)
    err_raw = io.FileIO(2, "w", closefd=False)
    if unbuffered:
        sys.stdout = io.TextIOWrapper(out_raw, encoding=encoding, write_through=True)
        sys.stderr = io.TextIOWrapper(
            err_raw,
            encoding=encoding,
            errors="backslashreplace",
            write_through=True,
        )
    else:
        sys.stdout = io.TextIOWrapper(io.BufferedWriter(out_raw), encoding=encoding)
        sys.stderr = io.TextIOWrapper(
            io.BufferedWriter(err_raw),
            encoding=encoding,
            errors="backslashreplace",
            line_buffering=True,
        )
    setattr(sys, "__stdout__", sys.stdout)  # noqa: B010 - a Final name of typeshed's
    setattr(sys, "__stderr__", sys.stderr)  # noqa: B010
    sys.stdin = open(0, encoding=encoding, closefd=False)  # noqa: SIM115 - /dev/null
    setattr(sys, "__stdin__", sys.stdin)  # noqa: B010


def run_python(spec: dict[str, Any], env: dict[str, str]) -> int:
    """Run what ``python [flags] -m MODULE | -c CODE | SCRIPT args`` runs; its exit code."""
    ignore_env = bool(spec.get("ignore_environment"))

    def setting(name: str) -> str:
        # -E and -I: "ignore all PYTHON* environment variables" (Python docs, -E).
        return "" if ignore_env else env.get(name, "")

    unbuffered = bool(spec.get("unbuffered")) or bool(setting("PYTHONUNBUFFERED"))
    sys.dont_write_bytecode = bool(spec.get("dont_write_bytecode")) or bool(
        setting("PYTHONDONTWRITEBYTECODE")
    )
    encoding = (setting("PYTHONIOENCODING") or "utf-8").split(":", 1)[0]
    _streams(unbuffered, encoding)
    kind, target = str(spec["kind"]), str(spec["target"])
    args = [str(a) for a in spec.get("args", [])]
    extra = [p for p in setting("PYTHONPATH").split(os.pathsep) if p]
    extra = [str(spec.get("root", "")) + p if p.startswith("/") else p for p in extra]
    base = [p for p in sys.path if p not in ("", os.getcwd())]
    if kind == "module":
        sys.path[:] = [os.getcwd(), *extra, *base]
        sys.argv = [target, *args]
    elif kind == "code":
        sys.path[:] = ["", *extra, *base]
        sys.argv = ["-c", *args]
    else:
        sys.path[:] = [os.path.dirname(os.path.abspath(target)), *extra, *base]
        sys.argv = [target, *args]
    importlib.invalidate_caches()
    code = 0
    try:
        if kind == "module":
            # What `python -m` runs (Modules/main.c calls runpy._run_module_as_main).
            runner = getattr(runpy, "_run_module_as_main", None)
            if runner is not None:
                runner(target, alter_argv=True)
            else:
                runpy.run_module(target, run_name="__main__", alter_sys=True)
        elif kind == "code":
            main = types.ModuleType("__main__")
            sys.modules["__main__"] = main
            exec(compile(target, "<string>", "exec"), main.__dict__)  # noqa: S102 - the container's own command
        else:
            runpy.run_path(target, run_name="__main__")
    except SystemExit as exc:
        code = _exit_code(exc)
    except BaseException:  # noqa: BLE001 - an uncaught exception ends the interpreter with 1
        sys.excepthook(*sys.exc_info())
        code = 1
    # What the interpreter does before it exits: wait for non-daemon threads, run atexit.
    with contextlib.suppress(BaseException):
        shutdown = getattr(threading, "_shutdown", None)
        if shutdown is not None:
            shutdown()
    with contextlib.suppress(BaseException):
        atexit._run_exitfuncs()
    return code


def _exit_code(exc: SystemExit) -> int:
    value = exc.code
    if value is None:
        return 0
    if isinstance(value, int):
        return value & 0xFF
    with contextlib.suppress(BaseException):
        print(value, file=sys.stderr)
    return 1


def main() -> int:
    control_fd, shim_path, preload, parent = sys.argv[1:5]
    _die_with_parent(int(parent))
    control = socket.socket(fileno=int(control_fd))
    shim = _load_shim(shim_path)
    shim.install()
    loaded = []
    for name in [m for m in preload.split(",") if m]:
        try:
            importlib.import_module(name)
            loaded.append(name)
        except Exception:  # noqa: BLE001 - not installed here: the app imports it itself
            pass
    zygote = Zygote(control, shim)
    zygote.send({"event": "ready", "preloaded": loaded})
    try:
        zygote.serve()
    finally:
        for pid in list(zygote.children):
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
    return 0


if __name__ == "__main__":
    code = main()
    # No interpreter finalization (fastapi, pydantic... torn down module by module): the
    # emulator waits for this exit when it closes, and nothing is left to clean up.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
