"""What every command module shares: option types, config loading, output rendering.

Results go to stdout (text or ``--output json``); logs and progress go to stderr.
"""

from __future__ import annotations

import json
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from bluegreen import config as config_mod
from bluegreen.config import Config

if TYPE_CHECKING:
    from bluegreen.aws.session import Clients

# stdout carries results; stderr carries progress, warnings and errors.
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


OutputOpt = Annotated[
    OutputFormat,
    typer.Option("--output", "-o", help="Result format: text for people, json for scripts."),
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


def emit_json(data: Any) -> None:
    """Write one JSON document to stdout."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


# --- AWS seams (operating commands) -------------------------------------------------
# Commands get clients and sleep through these two module attributes only, so tests
# monkeypatch them (stubbed clients, no real sleeping) without touching a command.


def make_clients(config: Config, profile: str | None, region: str | None) -> Clients:
    """The AWS clients for a command: --profile/--region, default region from the config."""
    from bluegreen.aws.session import Clients

    return Clients(region=region or config.project.region, profile=profile)


def sleep(seconds: float) -> None:
    """How commands wait between polls (replaced by a no-op in tests)."""
    time.sleep(seconds)


def interactive() -> bool:
    """Whether a person can answer a prompt (stdin and stderr are terminals)."""
    return sys.stdin.isatty() and err.is_terminal
