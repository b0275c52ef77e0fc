"""The ``bluegreen`` command: a thin shell over the library.

Each command lives in its own module (``bluegreen.cli.<command>``) and registers itself
on :data:`app`. This module adds the global options and turns every way a run can end
into an exit code and a message: 0 ok, 2 bad input (nothing changed), 1 a failed
operation, 130 interrupted (Ctrl-C, or SIGTERM: ``kill`` or a process manager stops a
command as Ctrl-C does, with the same clean-up and message; the sandbox already did, and
one exit code for "stopped from outside" keeps scripts simple), no traceback unless
``--debug``. With ``--output
json`` a failure also prints a JSON document; Ctrl-C and errors inside
:func:`bluegreen.cli.common.in_flight` say what was left behind and how to resume (see
:mod:`bluegreen.cli.common`).
"""

from __future__ import annotations

import importlib
import signal
import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from bluegreen.cli import common
from bluegreen.cli.common import err
from bluegreen.errors import BluegreenError, Interrupted, OperationError

# typer 0.29 vendors click as typer._click, older versions use click itself: take the
# base class of usage errors from typer's own BadParameter, whichever it is.
_ClickError: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"
)


class _Commands(TyperGroup):
    """The root group. A Ctrl-C while a command runs becomes :class:`Interrupted` here,
    before typer sees it: typer 0.29 turns a KeyboardInterrupt into a silent
    ``Exit(130)``, older versions into "Aborted!" and exit 1. A click prompt turns Ctrl-C
    into ``Abort`` (``raise Abort() from None``, the KeyboardInterrupt kept as context);
    that is an interrupt too."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:
            raise _interrupted(exc) from exc
        except typer.Abort as exc:
            if _by_ctrl_c(exc):
                raise _interrupted(exc) from exc
            raise


def _by_ctrl_c(exc: BaseException) -> bool:
    """Whether ``exc`` was raised because of a KeyboardInterrupt (cause or context)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _interrupted(exc: BaseException) -> Interrupted:
    entry = common.left_behind(exc)
    return Interrupted(entry.left, entry.resume) if entry else Interrupted()


app = typer.Typer(
    cls=_Commands,
    name="bluegreen",
    help=(
        "One config file (bluegreen.toml) becomes an ECS Fargate blue/green CI/CD system: "
        "CodeCommit, CodeBuild, CodeDeploy, CodePipeline, an ALB with production and test "
        "listeners. Synthesize it offline, rehearse a release on an embedded AWS emulator, "
        "deploy it and operate releases."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)

_state = {"debug": False}

# One module per command, registered in the order `--help` lists them.
COMMANDS = (
    "init",
    "synth",
    "verify",
    "rehearse",
    "deploy",
    "destroy",
    "release",
    "status",
    "promote",
    "finish",
    "rollback",
    "logs",
    "builds",
    "sandbox",
)


def _version(value: bool) -> None:
    if value:
        from bluegreen import __version__

        typer.echo(f"bluegreen {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks and AWS request details.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_version, is_eager=True
        ),
    ] = False,
) -> None:
    _state["debug"] = debug


def _register(command: str | None) -> None:
    """Import the module of ``command`` only, or every command module for help and errors.

    Command modules pull in heavy libraries (boto3, moto, troposphere); importing only the
    one being run keeps start-up short. Commands stay listed in the order of COMMANDS.
    """
    for name in (command,) if command in COMMANDS else COMMANDS:
        importlib.import_module(f"bluegreen.cli.{name}")
    app.registered_commands.sort(key=_position)


def _position(info: typer.models.CommandInfo) -> int:
    name = info.name or getattr(info.callback, "__name__", "")
    return COMMANDS.index(name) if name in COMMANDS else len(COMMANDS)


def _command_in(args: list[str]) -> str | None:
    """The command named on the command line (global options take no values)."""
    return next((arg for arg in args if not arg.startswith("-")), None)


@contextmanager
def sigterm_as_ctrl_c() -> Iterator[None]:
    """While a command runs, SIGTERM raises KeyboardInterrupt as Ctrl-C (SIGINT) does, so
    every ``finally`` and context manager runs (rehearse removes its temporary directory,
    in-flight work is reported) and the run ends as interrupted (exit 130). Signal
    handlers can only be set in the main thread (Python's signal module): elsewhere,
    nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    with sigterm_as_ctrl_c():
        return _main(argv)


def _main(argv: list[str] | None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    common.begin(args)
    try:
        _register(_command_in(args))
        # Not standalone: every ending comes back here, whatever the typer version does
        # in standalone mode.
        code = app(args=args, prog_name="bluegreen", standalone_mode=False)
    except SystemExit as exc:  # typer's exit after a broken pipe (EPIPE)
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except _ClickError as exc:  # a bad flag, option value or command
        usage: Any = exc
        usage.show()
        code = int(usage.exit_code)
        common.emit_failure(_document("usage", usage.format_message(), _usage_hint(args), code))
        return code
    except typer.Abort as exc:  # a prompt got end of input (Ctrl-C is above)
        if _by_ctrl_c(exc):
            return _report(_interrupted(exc), debug)
        aborted = OperationError(
            "aborted: the prompt got no answer (end of input)",
            hint="answer on a terminal, or pass --yes where the command offers it",
        )
        return _report(aborted, debug, cause=exc, kind="aborted")
    except BluegreenError as exc:
        return _report(exc, debug)
    except KeyboardInterrupt as exc:  # before a command ran (loading it)
        return _report(_interrupted(exc), debug)
    except Exception as exc:  # a bug: one line, the traceback with --debug
        bug = OperationError(
            f"internal error: {type(exc).__name__}: {exc}",
            hint="this is a bug in bluegreen: run again with --debug and report the traceback",
        )
        return _report(bug, debug, cause=exc, kind="internal")
    if code == 130:  # newer typer turned a Ctrl-C outside the command into Exit(130)
        return _report(Interrupted(), debug)
    return code if isinstance(code, int) else 0


def _usage_hint(args: list[str]) -> str:
    command = _command_in(args)
    return f"see `bluegreen {command} --help`" if command else "see `bluegreen --help`"


def _document(kind: str, error: str, hint: str | None, exit_code: int) -> dict[str, Any]:
    return {
        "ok": False,
        "kind": kind,
        "error": error,
        "hint": hint,
        "exit_code": exit_code,
        "code": None,
        "action": None,
        "problems": [],
        "left": None,
        "resume": None,
    }


def _report(
    exc: BluegreenError,
    debug: bool,
    *,
    cause: BaseException | None = None,
    kind: str | None = None,
) -> int:
    """Tell the user how the run ended (stderr, and the JSON failure document)."""
    entry = common.left_behind(cause or exc)
    if isinstance(exc, Interrupted):
        kind = "interrupted"
        text = str(exc)
    else:
        kind = kind or ("usage" if exc.exit_code == 2 else "operation")
        text = f"error: {exc}"
        if entry is not None:
            text += f"\n  left: {entry.left}"
            text += f"; resume with: {entry.resume}" if entry.resume else ""
    if debug:
        traceback.print_exception(cause or exc)
    if isinstance(exc, Interrupted) and exc.reported:
        common.emit_failure(_document("interrupted", exc.message, None, exc.exit_code))
        return exc.exit_code
    err.print("\n".join(common.printable(line) for line in text.splitlines()), markup=False)
    document = _document(kind, exc.message, exc.hint, exc.exit_code)
    if isinstance(exc, Interrupted):
        document["hint"] = f"resume with: {exc.resume}" if exc.resume else None
    code, action = getattr(exc, "code", None), getattr(exc, "action", None)
    document["code"] = code if isinstance(code, str) else None
    document["action"] = action if isinstance(action, str) else None
    problems = getattr(exc, "problems", None) or []
    document["problems"] = [{"key": key, "message": message} for key, message in problems]
    if entry is not None:
        document["left"], document["resume"] = entry.left, entry.resume or None
    common.emit_failure(document)
    return exc.exit_code


def run() -> None:
    sys.exit(main())
