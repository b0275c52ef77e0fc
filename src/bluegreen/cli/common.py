"""What every command module shares: option types, config loading, output rendering,
and the two mechanisms the top-level handler (:func:`bluegreen.cli.app.main`) reads.

Results go to stdout (text or ``--output json``); logs and progress go to stderr.

**In flight** (:func:`in_flight`). A command that starts something on AWS which outlives
it (a pipeline execution, a stack operation, a change set) wraps that part in::

    with common.in_flight(f"execution {eid} of {pipeline} keeps running on AWS: {link}",
                          resume="bluegreen status --watch") as state:
        ...                          # state.update(left=..., resume=...) as it progresses

If Ctrl-C or an error passes through the block, the handler tells the user what was
left behind and how to resume: ``interrupted: <left>; resume with: <resume>`` (exit 130)
or, after the error, ``  left: <left>; resume with: <resume>`` (the error's own exit
code). Blocks nest; the innermost one the exception passed through is reported. Ctrl-C
outside any block prints ``interrupted`` (exit 130). This works on every typer version
the project allows: the root command group turns the KeyboardInterrupt into
:class:`bluegreen.errors.Interrupted` before typer sees it (typer 0.29 would turn it
into a silent exit 130, older versions into "Aborted!" and exit 1), and a click prompt's
Abort caused by Ctrl-C counts as an interrupt too.

**JSON results** (``--output json``). Whatever happens, stdout carries a result:
:func:`emit_json` writes the command's one document, :func:`emit_json_line` one record of
a JSON Lines stream (``status --watch``, ``logs --follow``). If the command fails before
its document was written, the handler writes a failure document instead, one line::

    {"ok": false, "kind": "operation", "error": "...", "hint": "...", "exit_code": 1,
     "code": "AccessDenied", "action": "ecs:DescribeServices", "problems": [],
     "region": "ap-northeast-1", "left": null, "resume": null, "result": null}

``kind`` is usage (exit 2), operation (1), interrupted (130), aborted (1) or internal
(1); ``code``/``action`` are AWS's error code and the IAM action for a failed AWS call;
``problems`` lists bluegreen.toml problems as ``{"key", "message"}``; ``left``/``resume``
come from :func:`in_flight`; ``result`` is what the command registered with
:func:`result_so_far` (for example the stacks deploy created before following the first
release failed). After a JSON Lines stream the failure document is appended as its last
line. A command that already wrote its one document (and then exits non-zero) gets no
second one: that document is the result.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from bluegreen import config as config_mod
from bluegreen.config import Config
from bluegreen.errors import BluegreenError, StateError

if TYPE_CHECKING:
    from bluegreen.aws.session import Clients

# stdout carries results; stderr carries progress, warnings and errors.
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


# --- one invocation's state (reset by bluegreen.cli.app.main for every run) ----------


@dataclass
class InFlight:
    """What a command leaves behind if it stops now, and the command that resumes it."""

    left: str
    resume: str = ""

    def update(self, left: str | None = None, resume: str | None = None) -> None:
        if left is not None:
            self.left = left
        if resume is not None:
            self.resume = resume


@dataclass
class Invocation:
    json: bool = False  # --output json was asked for
    emitted: str = ""  # what stdout carries already: "", "document" or "lines"
    result: Any = None  # what the command did so far (result_so_far)
    region: str | None = None  # the region the command's AWS clients use


_invocation = Invocation()
_IN_FLIGHT = "_bluegreen_in_flight"


def begin(args: list[str]) -> Invocation:
    """Fresh state for one run of the CLI with ``args``."""
    global _invocation
    _invocation = Invocation(json=json_requested(args))
    return _invocation


def invocation() -> Invocation:
    return _invocation


def json_requested(args: list[str]) -> bool:
    """Whether ``args`` ask for ``--output json``: a first guess, read before click parses
    them, so that even an invalid flag gets a JSON failure document. The option's own
    callback settles it once click has parsed it."""
    wanted = False
    for number, arg in enumerate(args):
        if arg in ("--output", "-o"):
            wanted = number + 1 < len(args) and args[number + 1] == "json"
        elif arg.startswith("--output="):
            wanted = arg.split("=", 1)[1] == "json"
        elif arg.startswith("-o") and not arg.startswith("--"):
            wanted = arg[2:] == "json"
    return wanted


def _output(value: OutputFormat) -> OutputFormat:
    _invocation.json = value == OutputFormat.json
    return value


@contextmanager
def in_flight(left: str, resume: str = "") -> Iterator[InFlight]:
    """Mark a block whose interruption or failure leaves ``left`` behind (module docstring).

    The entry travels with the exception, so it is reported even if the exception is
    wrapped into another one on its way out (``raise OperationError(...) from exc``).
    A StateError is not marked: it reports the state as it is (a refusal made before
    anything changed, or an operation AWS ended), so nothing is left in flight.
    """
    entry = InFlight(left, resume)
    try:
        yield entry
    except StateError:
        raise
    except BaseException as exc:
        if left_behind(exc) is None:  # the innermost block wins
            setattr(exc, _IN_FLIGHT, entry)
        raise


def left_behind(exc: BaseException) -> InFlight | None:
    """The in-flight entry an exception (or one it was raised from) passed through."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        entry = getattr(current, _IN_FLIGHT, None)
        if isinstance(entry, InFlight):
            return entry
        # ``raise ... from None`` says the new error is unrelated: stop there.
        if current.__cause__ is not None:
            current = current.__cause__
        elif current.__suppress_context__:
            current = None
        else:
            current = current.__context__
    return None


def result_so_far(data: Any) -> None:
    """Register what the command has done so far; a JSON failure document carries it as
    ``result`` (nothing is printed now)."""
    _invocation.result = data


OutputOpt = Annotated[
    OutputFormat,
    typer.Option(
        "--output",
        "-o",
        help="Result format: text for people, json for scripts (a failure also prints a "
        "JSON document, with ok=false).",
        callback=_output,
    ),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="Path to bluegreen.toml (default: found in the current directory or a parent).",
        dir_okay=False,
    ),
]
ProfileOpt = Annotated[
    str | None,
    typer.Option("--profile", help="AWS named profile (default: the standard credential chain)."),
]


def _region(value: str | None) -> str | None:
    if value is not None and not config_mod.is_region(value):
        raise typer.BadParameter(f"{value!r} is not an AWS region code such as ap-northeast-1")
    return value


RegionOpt = Annotated[
    str | None,
    typer.Option(
        "--region",
        help="AWS region (default: project.region from bluegreen.toml).",
        callback=_region,
    ),
]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]


def load_config(path: Path | None) -> tuple[Config, Path]:
    """The validated config and the repository root it lives in."""
    found = path if path is not None else config_mod.find()
    return config_mod.load(found), found.resolve().parent


# DEL and the C1 controls are legal raw in JSON strings; escaped, they cannot act on a
# terminal (U+009B is CSI) and the value stays exact. JSON escapes C0 itself (RFC 8259 §7).
_RAW_CONTROLS = re.compile("[\x7f-\x9f]")


def _dumps(data: Any, indent: int | None) -> str:
    text = json.dumps(data, indent=indent, ensure_ascii=False, default=str)
    return _RAW_CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def emit_json(data: Any) -> None:
    """Write the command's one JSON document to stdout."""
    sys.stdout.write(_dumps(data, 2) + "\n")
    sys.stdout.flush()
    _invocation.emitted = "document"


def emit_result(data: dict[str, Any], ok: bool = True) -> None:
    """Write the command's result document with ``ok`` first (every ``--output json``
    document has it: true here, false in a failure document)."""
    emit_json({"ok": ok, **{k: v for k, v in data.items() if k != "ok"}})


def json_with_error(data: dict[str, Any], error: BluegreenError | None) -> dict[str, Any]:
    """The result document of a run that stopped, with the members every failure
    document has (``ok``, ``kind``, ``error``, ``hint``, ``exit_code``: module
    docstring) and ``interrupted``; ``error`` None means interrupted."""
    data["ok"] = False
    data["interrupted"] = error is None
    if error is None:
        data.update(kind="interrupted", error="interrupted", hint=None, exit_code=130)
    else:
        kind = "usage" if error.exit_code == 2 else "operation"
        data.update(kind=kind, error=error.message, hint=error.hint, exit_code=error.exit_code)
    return data


def emit_json_line(data: Any) -> None:
    """Write one record of a JSON Lines stream (one compact document per line)."""
    sys.stdout.write(_dumps(data, None) + "\n")
    sys.stdout.flush()
    _invocation.emitted = "lines"


def emit_failure(document: dict[str, Any]) -> None:
    """Write a failure document (one line) if --output json was asked for and stdout does
    not carry the command's document already (module docstring)."""
    if not _invocation.json or _invocation.emitted == "document":
        return
    document = {**document, "region": _invocation.region, "result": _invocation.result}
    with suppress(OSError):  # stdout is gone (a closed pipe): the exit code still tells
        emit_json_line(document)


# C0 and C1 control characters (and DEL) except tab: ESC, CSI, BEL, backspace, carriage
# return... would act on the terminal. A newline inside one record is shown as \n.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` safe to print on a terminal as one line: control characters removed,
    newlines shown as ``\\n``."""
    return _CONTROLS.sub("", text.replace("\r\n", "\n").replace("\n", "\\n"))


# --- AWS seams (operating commands) -------------------------------------------------
# Commands get clients and sleep through these two module attributes only, so tests
# monkeypatch them (stubbed clients, no real sleeping) without touching a command.


def make_clients(config: Config, profile: str | None, region: str | None) -> Clients:
    """The AWS clients for a command: --profile/--region, default region from the config.

    The AWS configuration is read now, so an unknown profile is bad input (exit 2) found
    before any call.
    """
    from bluegreen.aws.session import Clients

    _invocation.region = region or config.project.region
    clients = Clients(region=_invocation.region, profile=profile)
    clients.open()
    return clients


def sleep(seconds: float) -> None:
    """How commands wait between polls (replaced by a no-op in tests)."""
    time.sleep(seconds)


def interactive() -> bool:
    """Whether a person can answer a prompt (stdin and stderr are terminals)."""
    return sys.stdin.isatty() and err.is_terminal
