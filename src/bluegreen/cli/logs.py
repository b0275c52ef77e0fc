"""``bluegreen logs``: the app's logs (routed by FireLens) or the log router's own."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

import typer

from bluegreen.aws import logs as logs_mod
from bluegreen.aws.logs import LogEvent
from bluegreen.cli import common
from bluegreen.cli.app import app
from bluegreen.cli.common import (
    ConfigOpt,
    OutputFormat,
    OutputOpt,
    ProfileOpt,
    RegionOpt,
    err,
    out,
)
from bluegreen.config import Config
from bluegreen.errors import StateError, UsageError
from bluegreen.names import Names

FOLLOW_INTERVAL = 2.0


def log_group(config: Config, container: str | None) -> str:
    """The log group of ``container``: the app's (default) or the router's."""
    names = Names.of(config)
    if container in (None, "app", config.app.name):
        return names.app_log_group
    if container in ("router", config.router.name):
        return names.router_log_group
    raise UsageError(
        f"--container {container!r} is not a container of this service",
        hint=f"use {config.app.name} (or app) or {config.router.name} (or router)",
    )


def event_line(event: LogEvent) -> str:
    """One event as one terminal-safe line: the app's message may carry terminal escapes
    (an app that logs untrusted input), so control characters are removed and a newline
    inside the message is shown as ``\\n``. ``--output json`` keeps the message exact."""
    stamp = (
        event.timestamp.strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{event.timestamp.microsecond // 1000:03d}Z"
    )
    return common.printable(f"{stamp} {event.stream} {event.message}")


def _moment(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S UTC")


@app.command()
def logs(
    config: ConfigOpt = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new events until Ctrl-C.")
    ] = False,
    since: Annotated[
        str, typer.Option("--since", help="How far back to start: 30s, 10m, 2h, 1d.")
    ] = "10m",
    container: Annotated[
        str | None,
        typer.Option(
            "--container",
            help="Whose logs: the app container (default; its output routed by FireLens) "
            "or the log router (Fluent Bit's own logs). Container name, or app / router.",
        ),
    ] = None,
    output: OutputOpt = OutputFormat.text,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
) -> None:
    """Print CloudWatch Logs of the service: one line per event, oldest first.

    --output json prints a JSON array, or with --follow one JSON object per line (JSON
    Lines). Text output removes control characters (terminal escapes) from messages; JSON
    keeps them, escaped. With no events, stdout stays empty (json: []) and stderr says so.
    --follow runs until Ctrl-C, which exits 130 like every interrupted command.
    """
    cfg, _ = common.load_config(config)
    window = logs_mod.parse_since(since)
    group = log_group(cfg, container)
    client = common.make_clients(cfg, profile, region).logs
    try:
        _logs(client, cfg, group, window, since, follow, output)
    except StateError as exc:
        if exc.message.startswith(f"log group {group} does not exist in "):
            exc.hint = _region_hint(cfg, region)
        raise


def _region_hint(cfg: Config, region: str | None) -> str:
    """Where the region the logs were looked for in came from, and what to do."""
    if region:
        where = (
            f"--region {region} chose it (project.region is {cfg.project.region}); drop "
            "--region or pass the region the stacks are in"
        )
    else:
        where = (
            f"project.region in bluegreen.toml chose it ({cfg.project.region}); pass "
            "--region REGION if the stacks are in another one"
        )
    return (
        f"{where}; in the right region, run `bluegreen deploy` first (the service stack "
        "makes the log group)"
    )


def _logs(
    client: Any,
    cfg: Config,
    group: str,
    window: timedelta,
    since: str,
    follow: bool,
    output: OutputFormat,
) -> None:
    now = logs_mod.service_now(client, group)  # the window by the service's clock
    start = _moment(now - window)
    if not follow:
        events = logs_mod.fetch(client, group, window, now=lambda: now)
        if output == OutputFormat.json:
            common.emit_json([e.to_dict() for e in events])
        else:
            for event in events:
                out.print(event_line(event), markup=False)
        if not events:
            err.print(f"no events in {group} since {start} (--since {since})", markup=False)
        return

    seen = False

    def wait(seconds: float) -> None:
        # Between polls: say once that nothing has come yet, so an empty group does not
        # look like a command that hangs.
        nonlocal seen
        if not seen:
            err.print(f"no events in {group} since {start} yet; waiting for new ones", markup=False)
            seen = True
        common.sleep(seconds)

    with common.in_flight("nothing left running (logs --follow only reads)"):
        for event in logs_mod.follow(
            client, group, window, sleep=wait, interval=FOLLOW_INTERVAL, now=lambda: now
        ):
            seen = True
            if output == OutputFormat.json:
                common.emit_json_line(event.to_dict())
            else:
                out.print(event_line(event), markup=False)
