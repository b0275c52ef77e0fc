"""The ``bluegreen`` command: a thin shell over the library.

Each command lives in its own module (``bluegreen.cli.<command>``) and registers itself
on :data:`app`. This module adds the global options and turns the tool's errors into
exit codes: 2 for bad input (nothing changed), 1 for a failed operation, no traceback
unless ``--debug``.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from typing import Annotated

import typer

from bluegreen.cli.common import err
from bluegreen.errors import BluegreenError

app = typer.Typer(
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


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        _register(_command_in(args))
        app(args=args, prog_name="bluegreen", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except BluegreenError as exc:
        if debug:
            traceback.print_exc()  # the traceback asked for, with the same exit code
        else:
            err.print(f"error: {exc}", markup=False)
        return exc.exit_code
    except KeyboardInterrupt:
        err.print("interrupted", markup=False)
        return 130
    return 0


def run() -> None:
    sys.exit(main())
