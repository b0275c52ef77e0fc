"""``bluegreen deploy``: create or update the three stacks through change sets.

Also holds the stack-progress renderer ``destroy`` reuses: on a terminal the resources
of the stack being changed are redrawn in place (rich Live) with their latest status;
otherwise each new event is one plain line, so CI logs stay readable.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.live import Live
from rich.table import Table

from bluegreen.aws import deploy as deploy_mod
from bluegreen.aws import release as release_mod
from bluegreen.aws.cfn import Change, StackEvent
from bluegreen.cli import common
from bluegreen.cli.app import app
from bluegreen.cli.common import (
    ConfigOpt,
    OutputFormat,
    OutputOpt,
    ProfileOpt,
    RegionOpt,
    YesOpt,
    err,
    out,
)
from bluegreen.config import Config
from bluegreen.errors import OperationError, UsageError


class StackProgress:
    """Per-resource progress of a stack operation, live on a TTY, plain lines otherwise."""

    def __init__(self, live: bool) -> None:
        self._live_enabled = live
        self._live: Live | None = None
        self._rows: dict[tuple[str, str], StackEvent] = {}

    def step(self, message: str) -> None:
        self._stop()
        err.print(message, markup=False)

    def event(self, event: StackEvent) -> None:
        if not self._live_enabled:
            line = f"  {event.stack}  {event.logical_id}  {event.resource_type}  {event.status}"
            if event.reason:
                line += f"  {event.reason}"
            err.print(line, markup=False)
            return
        self._rows[(event.stack, event.logical_id)] = event
        if self._live is None:
            self._live = Live(self._table(), console=err, refresh_per_second=4, transient=False)
            self._live.start()
        else:
            self._live.update(self._table())

    def stack_done(self, stack: str, status: str) -> None:
        self._stop()
        self._rows = {}
        err.print(f"{stack}: {status}", markup=False)

    def _table(self) -> Table:
        table = Table(box=None, show_header=True, header_style="bold")
        for column in ("resource", "type", "status", "reason"):
            table.add_column(column)
        for event in self._rows.values():
            table.add_row(event.logical_id, event.resource_type, event.status, event.reason)
        return table

    def _stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None


class DeployConsole(StackProgress):
    """The deploy's UI: change sets to stdout (text) or stderr (json), prompts on stderr."""

    def __init__(self, live: bool, assume_yes: bool, output: OutputFormat) -> None:
        super().__init__(live)
        self._yes = assume_yes
        self._output = output

    def changes(self, stack: str, change_set_type: str, changes: list[Change]) -> None:
        self._stop()
        target = out if self._output == OutputFormat.text else err
        for line in change_lines(stack, change_set_type, changes):
            target.print(line, markup=False)

    def confirm(self, stack: str) -> bool:
        if self._yes:
            return True
        return typer.confirm(f"Execute the change set for {stack}?", default=False, err=True)


def change_lines(stack: str, change_set_type: str, changes: list[Change]) -> list[str]:
    """A change set as aligned text: action, logical id, type, replacement."""
    count = f"{len(changes)} change{'s' if len(changes) != 1 else ''}"
    lines = [f"{stack}: {change_set_type} {count}"]
    if not changes:
        return lines
    wa = max(len(c.action) for c in changes)
    wl = max(len(c.logical_id) for c in changes)
    wt = max(len(c.resource_type) for c in changes)
    for c in changes:
        line = f"  {c.action:<{wa}}  {c.logical_id:<{wl}}  {c.resource_type:<{wt}}"
        if c.replacement:
            line += f"  replacement: {c.replacement}"
        lines.append(line.rstrip())
    return lines


def result_lines(result: deploy_mod.DeployResult) -> list[str]:
    """The final summary: each stack's outcome, failures with reasons, then the links."""
    lines = []
    words = {
        "create": "created",
        "update": "updated",
        "no-changes": "no changes",
        "would-create": "would be created",
        "would-update": "would be updated",
        "declined": "declined (change set deleted)",
        "failed": "FAILED",
    }
    for s in result.stacks:
        text = f"{s.stack}: {words.get(s.action, s.action)}"
        if s.action == "failed":
            text += f" ({s.status})" if s.status and s.status != "FAILED" else ""
            if s.reason:
                text += f": {s.reason}"
        lines.append(text)
        for f in s.failures:
            lines.append(f"  {f.logical_id} ({f.resource_type}) {f.status}: {f.reason}")
    commit = result.first_commit
    if commit is not None and commit.commits:
        lines.append(
            f"{commit.repository}: first commit {commit.commits[-1][:8]} on {commit.branch} "
            f"({commit.files} files)"
        )
    if result.would_commit:
        lines.append(f"first commit: would push {result.would_commit} files")
    if result.links is not None and result.ok:
        links = result.links
        lines += [
            f"production  {links.production_url}",
            f"test        {links.test_url}",
            f"pipeline    {links.pipeline}",
            f"deployments {links.deployments}",
        ]
    return lines


def _first_release_hint(cfg: Config) -> str:
    """What happens next when deploy does not follow the first release (--no-follow)."""
    hint = "the first release is running: follow it with `bluegreen status --watch`"
    if cfg.deployment.reroute == "manual":
        hint += (
            f"; when green answers on :{cfg.listeners.test_port}, run `bluegreen promote` "
            f'within {cfg.deployment.wait_minutes} min (deployment.reroute = "manual")'
        )
    return hint


@app.command()
def deploy(
    config: ConfigOpt = None,
    yes: YesOpt = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Show what would change (UPDATE change sets are created, shown and deleted; "
            "stacks that would be new are listed from their templates) and change nothing.",
        ),
    ] = False,
    no_follow: Annotated[
        bool,
        typer.Option(
            "--no-follow",
            help="After the first commit, do not follow the first release (and do not "
            "promote it); return once the stacks are deployed.",
        ),
    ] = False,
    output: OutputOpt = OutputFormat.text,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
) -> None:
    """Create or update the source, service and pipeline stacks through change sets.

    Each change set is shown and must be confirmed (or pass --yes). Before the pipeline
    exists the application repository's files are committed to the empty CodeCommit
    branch, so the first pipeline run succeeds; deploy then follows that first release
    until production serves it, promoting it if it waits for reroute (production only
    served the bootstrap placeholder). Ends with the production and test URLs and the
    pipeline and CodeDeploy console links.
    """
    cfg, root = common.load_config(config)
    if not dry_run and not yes and not common.interactive():
        raise UsageError(
            "deploy needs confirmation but no terminal is attached",
            hint="pass --yes to execute the change sets without asking, or --dry-run",
        )
    clients = common.make_clients(cfg, profile, region)
    ui = DeployConsole(err.is_terminal, yes, output)
    result = deploy_mod.deploy(clients, cfg, root, ui, dry_run=dry_run, sleep=common.sleep)
    made_first_commit = bool(result.first_commit and result.first_commit.commits)
    follow_first = result.ok and not dry_run and made_first_commit and not no_follow
    first: release_mod.ReleaseResult | None = None
    if output == OutputFormat.json:
        if follow_first:
            first = release_mod.first_release(clients, cfg, ui, sleep=common.sleep)
        data = result.to_dict()
        data["first_release"] = first.to_dict() if first is not None else None
        common.emit_json(data)
    else:
        # The stacks' outcome is shown before following, so a problem while following
        # never hides what was deployed.
        for line in result_lines(result):
            out.print(line, markup=False)
        if follow_first:
            first = release_mod.first_release(clients, cfg, ui, sleep=common.sleep)
            out.print(_first_release_line(first), markup=False)
        elif result.ok and not dry_run and made_first_commit:
            err.print(_first_release_hint(cfg), markup=False)
    if result.failed:
        names = ", ".join(s.stack for s in result.failed)
        raise OperationError(
            f"deploy failed: {names}",
            hint="the reasons are listed above; fix them and run `bluegreen deploy` again",
        )
    if result.declined:
        raise OperationError("deploy cancelled: a change set was declined; later stacks untouched")
    if first is not None and first.failed:
        raise OperationError(
            f"the first release failed at {first.failed_action or 'the pipeline'}: "
            f"{first.error or first.status}",
            hint=f"the stacks are deployed; fix the cause, push, and `bluegreen release` "
            f"({first.link})",
        )


def _first_release_line(first: release_mod.ReleaseResult) -> str:
    if first.failed:
        return f"first release {first.status}: {first.failed_action} {first.error}".rstrip()
    state = "promoted" if first.promoted else (first.deployment_phase or first.status)
    return f"first release {first.execution_id[:8]}: {state}"
