"""``bluegreen status``: pipeline, deployment, listeners, target groups and task sets."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.live import Live
from rich.text import Text

from bluegreen.aws import status as status_mod
from bluegreen.aws import verification
from bluegreen.aws.status import SystemStatus
from bluegreen.cli import common
from bluegreen.cli.app import app
from bluegreen.cli.common import (
    ConfigOpt,
    OutputFormat,
    OutputOpt,
    ProfileOpt,
    RegionOpt,
    out,
)
from bluegreen.engine import Phase

WATCH_INTERVAL = 5.0
PLAIN_WATCH_POLLS = 3
"""Without a terminal, --watch prints this many snapshots (CI logs must end)."""


def _table(rows: list[list[str]], indent: str = "  ") -> list[str]:
    """Left-aligned columns, two spaces apart, no trailing blanks."""
    if not rows:
        return []
    widths = [max(len(r[i]) for r in rows if i < len(r)) for i in range(max(map(len, rows)))]
    lines = []
    for row in rows:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row)]
        lines.append((indent + "  ".join(cells)).rstrip())
    return lines


def status_lines(status: SystemStatus) -> list[str]:
    """The text form of ``status`` (asserted line by line in the tests)."""
    lines: list[str] = []
    p = status.pipeline
    if p is None:
        lines.append("pipeline: not deployed")
    elif not p.execution_id:
        lines.append(f"pipeline {p.name}: never ran")
    else:
        started = p.started.strftime("%Y-%m-%d %H:%M:%S UTC") if p.started else "?"
        lines.append(f"pipeline {p.name}: {p.status} (execution {p.execution_id}, {started})")
        if p.revision:
            summary = p.revision_summary.splitlines()[0] if p.revision_summary else ""
            lines.append(f"  revision {p.revision[:8]}" + (f" {summary}" if summary else ""))
        rows: list[list[str]] = []
        for stage in p.stages:
            rows.append([stage.name, stage.status])
            for action in stage.actions:
                row = [f"  {action.name}", action.status]
                extra = action.external_id if action.status in ("InProgress", "Failed") else ""
                if action.error:
                    extra = (extra + " " if extra else "") + f"error: {action.error}"
                if extra:
                    row.append(extra)
                rows.append(row)
        lines += _table(rows)

    d = status.deployment
    if d is None and status.deployment_note:
        lines.append(f"deployment: {status.deployment_note}; run `bluegreen deploy`")
    elif d is None:
        lines.append("deployment: none yet")
    else:
        # A rollback deployment says so and names the deployment it rolls back
        # (CodeDeploy's rollbackInfo.rollbackTriggeringDeploymentId, API reference
        # RollbackInfo), and once it succeeded, what production runs again.
        rolls = f" (rollback of {d.rollback_of})" if d.rollback_of else ""
        lines.append(f"deployment {d.id}{rolls}: {d.status} ({d.phase_text})")
        serving = _production_task_definition(status) if rolls else ""
        if serving and d.phase == Phase.SUCCEEDED:
            lines.append(f"  production back on {serving}")
        if d.error:
            lines.append(f"  error: {d.error}")
        if d.alarms:
            # CodeDeploy stops the deployment and a rollback deployment follows it; ECS
            # rolls the service deployment itself back.
            rolled = d.status.startswith("ROLLBACK_") or bool(d.rollback_of)
            verb = "rolled back" if rolled else "stopped"
            lines.append(f"  {verb} by alarm {', '.join(d.alarms)}")
            # Which revision the alarm judged: one on production's target group (the
            # previous revision) stops every release while it lasts (README, "When an
            # alarm stops a release").
            watches = status.verification.watches if status.verification else {}
            for name, watched, whose in verification.alarm_subjects(
                d.alarms, d.new_target_group, watches
            ):
                if watched:
                    lines.append(f"    {verification.subject_text(name, watched, whose)}")
        lines += _table([[step.name, step.status] for step in d.lifecycle])
        if d.bake_ends is not None and d.phase.active:
            # ECS: both revisions run until the bake ends; `rollback` is instant till then.
            left = "" if d.bake_left is None else f", {_span(d.bake_left)} left"
            lines.append(f"  bake: ends about {d.bake_ends:%Y-%m-%d %H:%M:%S} UTC{left}")
        if d.task_sets and d.phase.active:
            shares = ", ".join(
                f"{t.label} {t.weight:g}%" for t in sorted(d.task_sets, key=lambda t: t.label)
            )
            lines.append(f"  traffic: {shares}")

    # A target group is shown with its role wherever it appears: `blue (sample3-dev-green)`
    # (the names are fixed, the roles swap every release), as the rehearsal shows it.
    roles = {group.name: group.label for group in status.target_groups if group.label}
    lines.append("listeners")
    rows = []
    for listener in status.listeners:
        target = (
            ", ".join(f"{_group(name, roles)} {weight}%" for name, weight in listener.forwards)
            or "-"
        )
        rows.append([listener.role, f":{listener.port}", target])
    lines += _table(rows)

    lines.append(f"target groups ({status_mod.ROLES})")
    rows = []
    for group in status.target_groups:
        health = ", ".join(f"{state} {n}" for state, n in group.health.items()) or "no targets"
        rows.append([group.label, group.name, health])
    lines += _table(rows)

    lines.append("task sets")
    rows = []
    for ts in status.task_sets:
        images = " ".join(f"{c}:{tag}" for c, tag in ts.images)
        rows.append(
            [
                _group(ts.target_group, {ts.target_group: ts.label}) if ts.label else "-",
                ts.status,
                ts.task_definition,
                f"{ts.running}/{ts.desired} running",
                images,
            ]
        )
    lines += _table(rows) or ["  none"]
    lines += _verification_lines(status)
    return lines


def _verification_lines(status: SystemStatus) -> list[str]:
    """[verify]'s latest checks (request, result, latency) and each alarm's state."""
    view = status.verification
    if view is None:
        return []
    lines = ["checks (the latest run of the verify hook)"]
    lines += _table([verification.check_line(r) for r in view.checks]) or ["  none yet"]
    if view.alarms:
        lines.append("alarms")
        lines += _table([[state, name] for name, state in view.alarms])
    return lines


def _production_task_definition(status: SystemStatus) -> str:
    """The task definition of the task set behind the production listener's main
    forward ("" when status shows none)."""
    forwards = next((lst.forwards for lst in status.listeners if lst.role == "production"), [])
    if not forwards:
        return ""
    group = max(forwards, key=lambda f: f[1])[0]
    return next(
        (t.task_definition for t in status.task_sets if t.target_group == group and t.running),
        "",
    )


def _span(seconds: float) -> str:
    """``14 min 30 s``, ``45 s``."""
    whole = int(seconds)
    minutes, rest = divmod(whole, 60)
    if minutes and rest:
        return f"{minutes} min {rest} s"
    return f"{minutes} min" if minutes else f"{rest} s"


def _group(name: str, roles: dict[str, str]) -> str:
    """``role (name)``, or the name alone when status gives it no role."""
    role = roles.get(name, "")
    return f"{role} ({name})" if role and name else (name or role)


@app.command()
def status(
    config: ConfigOpt = None,
    watch: Annotated[
        bool,
        typer.Option(
            "--watch",
            "-w",
            help="Redraw every few seconds until Ctrl-C (exit 130) on a terminal; otherwise "
            f"print {PLAIN_WATCH_POLLS} snapshots. With --output json: one JSON document "
            "per snapshot, one per line (JSON Lines).",
        ),
    ] = False,
    output: OutputOpt = OutputFormat.text,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
) -> None:
    """Show the latest pipeline run, the blue/green deployment and where traffic goes.

    Production and test listeners with the target group each forwards to (and weights),
    which target group is blue (serving production) and which green, the ECS task sets
    with task-definition revision, image tags and running counts, and target health.
    """
    cfg, _ = common.load_config(config)
    clients = common.make_clients(cfg, profile, region)

    if not watch:
        snapshot = status_mod.collect(clients, cfg)
        if output == OutputFormat.json:
            common.emit_result(snapshot.to_dict())
        else:
            _print(snapshot)
        return
    with common.in_flight("nothing left running (status --watch only reads)"):
        if output == OutputFormat.text and out.is_terminal:
            with Live(console=out, auto_refresh=False) as live:
                while True:
                    lines = status_lines(status_mod.collect(clients, cfg))
                    live.update(Text("\n".join(map(common.printable, lines))), refresh=True)
                    common.sleep(WATCH_INTERVAL)
        polls = None if out.is_terminal else PLAIN_WATCH_POLLS
        number = 0
        while polls is None or number < polls:
            if number:
                common.sleep(WATCH_INTERVAL)
            snapshot = status_mod.collect(clients, cfg)
            if output == OutputFormat.json:
                common.emit_json_line(snapshot.to_dict())
            else:
                if number:
                    out.print("", markup=False)
                _print(snapshot)
            number += 1


def _print(snapshot: SystemStatus) -> None:
    for line in status_lines(snapshot):
        out.print(common.printable(line), markup=False)
