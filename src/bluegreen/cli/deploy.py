"""``bluegreen deploy``: create or update the three stacks through change sets.

Also holds the stack-progress renderer ``destroy`` reuses: on a terminal the resources
of the stack being changed are redrawn in place (rich Live) with their latest status;
otherwise each new event is one plain line, so CI logs stay readable. The renderer is a
context manager: the live display is stopped (and the cursor shown again) however the
command ends, before any error is printed.

When the run stops early (Ctrl-C, an AWS error, a failure while following the first
release) the command says what was done, what was left in flight and the command that
continues; with ``--output json`` the result document is printed all the same, with an
``error`` (or ``interrupted``) member. Ctrl-C exits 130. These are local to deploy and
destroy (:func:`stopped_lines`; :func:`bluegreen.cli.common.json_with_error` builds the
stopped run's document) until the CLI has a shared mechanism for every command.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Annotated, Any

import click
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
    json_with_error,
    out,
)
from bluegreen.config import Config
from bluegreen.errors import AwsError, BluegreenError, Interrupted, OperationError, UsageError
from bluegreen.names import Names

"""The exit code of a command stopped by Ctrl-C (128 + SIGINT), as shells report it."""


class StackProgress:
    """Per-resource progress of a stack operation, live on a TTY, plain lines otherwise."""

    def __init__(self, live: bool) -> None:
        self._live_enabled = live
        self._live: Live | None = None
        self._rows: dict[tuple[str, str], StackEvent] = {}

    def __enter__(self) -> StackProgress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop()  # the cursor is shown again whatever ended the command

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

    def ask(self, question: str) -> bool:
        """A yes/no question; Ctrl-C or end of input at the prompt is a no."""
        self._stop()
        try:
            return typer.confirm(question, default=False, err=True)
        except click.exceptions.Abort:
            err.print("(no answer: treated as no)", markup=False)
            return False

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

    def __init__(
        self,
        live: bool,
        assume_yes: bool,
        output: OutputFormat,
        where: Callable[[], str] = lambda: "",
    ) -> None:
        super().__init__(live)
        self._yes = assume_yes
        self._output = output
        self._where = where
        self._where_text: str | None = None

    def where(self) -> str:
        """`` in <region> (account <id>)``: said with every change set and prompt, so
        nobody confirms a change in the wrong account (ops-live P10)."""
        if self._where_text is None:
            self._where_text = self._where()
        return self._where_text

    def __enter__(self) -> DeployConsole:
        return self

    def changes(self, stack: str, change_set_type: str, changes: list[Change]) -> None:
        self._stop()
        target = out if self._output == OutputFormat.text else err
        for line in change_lines(stack, change_set_type, changes, self.where()):
            target.print(line, markup=False)

    def confirm(self, stack: str) -> bool:
        if self._yes:
            return True
        return self.ask(f"Execute the change set for {stack}{self.where()}?")


def change_lines(
    stack: str, change_set_type: str, changes: list[Change], where: str = ""
) -> list[str]:
    """A change set as aligned text: action, logical id, type, replacement."""
    count = f"{len(changes)} change{'s' if len(changes) != 1 else ''}"
    lines = [f"{stack}{where}: {change_set_type} {count}"]
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
        if s.hint:
            lines.append(f"  hint: {s.hint}")
    if result.service_linked_role in ("created", "would-create"):
        verb = "created" if result.service_linked_role == "created" else "would be created"
        lines.append(f"ECS service-linked role AWSServiceRoleForECS: {verb}")
    commit = result.first_commit
    if commit is not None and commit.commits:
        lines.append(
            f"{commit.repository}: first commit {commit.commits[-1][:8]} on {commit.branch} "
            f"({commit.files} files)"
        )
    if result.would_commit:
        lines.append(f"first commit: would push {len(result.would_commit)} files:")
        lines += [f"  {path}" for path in result.would_commit]
    for change in result.out_of_band:
        verb = "set" if change.applied else "would set"
        lines.append(f"{verb} {change.change} with ecs:UpdateService")
    if result.links is not None and result.ok:
        links = result.links
        lines += [
            f"production  {links.production_url}",
            f"test        {links.test_url}",
            f"pipeline    {links.pipeline}",
            f"deployments {links.deployments}",
        ]
    return lines


def stopped_lines(
    in_flight: deploy_mod.InFlight | None,
    command: str,
    interrupted: bool,
    resume: str = deploy_mod.RESUME,
    changed: bool = True,
) -> list[str]:
    """What a stopped run left in flight and the command that continues (stderr)."""
    lines: list[str] = []
    if in_flight is not None:
        word = "interrupted" if interrupted else "stopped"
        lines.append(f"{word}: {in_flight.subject}: {in_flight.state}")
        lines.append(f"to continue: {with_command(in_flight.resume, command)}")
    elif interrupted and not changed:
        lines.append("interrupted before anything was changed")
    elif interrupted:
        lines.append(f"interrupted; to continue: {with_command(resume, command)}")
    return lines


def with_command(text: str, command: str) -> str:
    """``text`` with `bluegreen <command>` given the options of the run that stopped."""
    base = " ".join(command.split(" ", 2)[:2])
    options = command[len(base) :]
    return text.replace(f"`{base}", f"`{base}{options}") if options else text


def resume_command(
    name: str, config: Any, profile: str | None, region: str | None, yes: bool = False
) -> str:
    """``bluegreen <name>`` with the options that chose the config, account and region
    (and ``--yes`` when the run had it)."""
    parts = ["bluegreen", name] + (["--yes"] if yes else [])
    if config is not None:
        parts += ["--config", str(config)]
    if profile:
        parts += ["--profile", profile]
    if region:
        parts += ["--region", region]
    return " ".join(parts)


def _first_release_hint(cfg: Config) -> str:
    """What happens next when deploy does not follow the first release (--no-follow)."""
    hint = "the first release is running: follow it with `bluegreen status --watch`"
    if cfg.deployment.reroute == "manual":
        # Without --no-follow deploy promotes the first release itself (production only
        # served the placeholder); with it, the reroute wait is the user's.
        hint += (
            f"; when green answers on :{cfg.listeners.test_port}, run `bluegreen promote` "
            f'within {cfg.deployment.wait_minutes} min (deployment.reroute = "manual"), '
            "or run `bluegreen deploy` again: it follows the first release and promotes it"
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
            "stacks that would be new are listed from their templates; the files of the "
            "first commit are listed) and change nothing.",
        ),
    ] = False,
    no_follow: Annotated[
        bool,
        typer.Option(
            "--no-follow",
            help="Do not follow the first release (and do not promote it); return once the "
            "stacks are deployed.",
        ),
    ] = False,
    allow_secret_files: Annotated[
        bool,
        typer.Option(
            "--allow-secret-files",
            help="Let the first commit include files that look like secrets (.env*, *.pem, "
            "*.key, id_rsa*, .aws/, ...); refused by default.",
        ),
    ] = False,
    connection_arn: Annotated[
        str | None,
        typer.Option(
            "--connection-arn",
            envvar="BLUEGREEN_CONNECTION_ARN",
            help="With source.provider github, gitlab or bitbucket: the ARN of the AWS "
            "CodeConnections connection to the provider (made once in the console, and "
            "AVAILABLE: its handshake completed). Never written to a file; when omitted, "
            "the one the deployed pipeline stack holds is used.",
        ),
    ] = None,
    output: OutputOpt = OutputFormat.text,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
) -> None:
    """Create or update the source, service and pipeline stacks through change sets.

    Each change set is shown and must be confirmed (or pass --yes). Before the pipeline
    exists the application repository's files are committed to the empty CodeCommit
    branch (the files git would commit: .gitignore is honoured), so the first pipeline
    run succeeds; with a GitHub, GitLab or Bitbucket source (--connection-arn) nothing is
    committed: push the repository there first, the first run reads its branch. Deploy
    then follows that first release until production serves it, promoting it if it
    waits for reroute (production only served the bootstrap placeholder). With
    deployment.engine = "ecs" the service's creation is itself a deployment that the
    PAUSE hook holds: deploy continues it (nothing serves production yet). Ends with the
    production and test URLs and the console links of the pipeline and of the
    deployments (CodeDeploy's deployment group, or the ECS service's Deployments tab).
    Ctrl-C says what was left and how to continue (exit 130).
    """
    cfg, root = common.load_config(config)
    if not dry_run and not yes and not common.interactive():
        raise UsageError(
            "deploy needs confirmation but no terminal is attached",
            hint="pass --yes to execute the change sets without asking, or --dry-run",
        )
    clients = common.make_clients(cfg, profile, region)
    command = resume_command("deploy", config, profile, region, yes=yes and not dry_run)
    result = deploy_mod.DeployResult(dry_run=dry_run)
    state = _Deploy(cfg, output, result)
    try:
        with DeployConsole(err.is_terminal, yes, output, lambda: _where(clients)) as ui:
            deploy_mod.deploy(
                clients,
                cfg,
                root,
                ui,
                dry_run=dry_run,
                allow_secrets=allow_secret_files,
                result=result,
                sleep=common.sleep,
                connection_arn=connection_arn,
            )
            state.summarize()
            first_run = (
                result.ok
                and not dry_run
                and (
                    result.created(Names.of(cfg).pipeline_stack)
                    or bool(result.first_commit and result.first_commit.commits)
                    or _first_run_pending(clients, cfg, ui)
                )
            )
            if first_run and no_follow:
                err.print(_first_release_hint(cfg), markup=False)
            elif first_run:
                result.in_flight = _following(cfg)
                ui.step("following the first release (its run can take a minute to appear)")
                state.first = release_mod.first_release(clients, cfg, ui, sleep=common.sleep)
                result.in_flight = None
                state.summarize_first()
    except (KeyboardInterrupt, Interrupted):
        state.stopped(None, command)
        raise Interrupted(reported=True) from None
    except BluegreenError as exc:
        state.stopped(exc, command)
        raise
    state.finish()


class _Deploy:
    """What the deploy command has printed, and how it reports the end of the run."""

    def __init__(self, cfg: Config, output: OutputFormat, result: deploy_mod.DeployResult):
        self.cfg = cfg
        self.output = output
        self.result = result
        self.first: release_mod.ReleaseResult | None = None
        self.printed = False

    def document(self) -> dict[str, Any]:
        data = self.result.to_dict()
        data["first_release"] = self.first.to_dict() if self.first is not None else None
        return data

    def summarize(self) -> None:
        """The stacks' outcome, shown before following (text), so a problem while
        following never hides what was deployed."""
        if self.output == OutputFormat.text:
            for line in result_lines(self.result):
                out.print(line, markup=False)
            self.printed = True

    def summarize_first(self) -> None:
        if self.output == OutputFormat.text and self.first is not None:
            out.print(_first_release_line(self.first), markup=False)

    def stopped(self, error: BluegreenError | None, command: str) -> None:
        """Say what was done and what was left; the JSON document all the same."""
        result = self.result
        if self.output == OutputFormat.json:
            common.emit_json(json_with_error(self.document(), error))
        elif not self.printed and result.changed_anything:
            for line in result_lines(result):
                out.print(line, markup=False)
        for line in stopped_lines(
            result.in_flight, command, error is None, changed=result.changed_anything
        ):
            err.print(line, markup=False)
        if error is not None and result.changed_anything and result.in_flight is None:
            resume = with_command(deploy_mod.RESUME, command)
            error.hint = f"{error.hint}; {resume}" if error.hint else resume

    def finish(self) -> None:
        error = self._error()
        if self.output == OutputFormat.json:
            document = self.document()
            common.emit_json(json_with_error(document, error) if error else document)
        if error is not None:
            raise error

    def _error(self) -> OperationError | None:
        result, first = self.result, self.first
        if result.failed:
            names = ", ".join(s.stack for s in result.failed)
            return OperationError(
                f"deploy failed: {names}",
                hint="the reasons are listed above; fix them and run `bluegreen deploy` again",
            )
        if result.declined:
            return OperationError(
                "deploy cancelled: a change set was declined; later stacks untouched"
            )
        if first is not None and first.failed:
            return OperationError(
                f"the first release failed at {first.failed_action or 'the pipeline'}: "
                f"{first.error or first.status}",
                hint="the stacks are deployed; fix the cause and push it to the repository "
                f"(a push starts the pipeline), or `bluegreen release` to run it again "
                f"({first.link})",
            )
        return None


def _first_run_pending(clients: Any, cfg: Config, ui: DeployConsole) -> bool:
    """Whether the pipeline's first run is still going; a failure to look is said, and
    the deploy (its stacks are done) still succeeds."""
    try:
        return deploy_mod.first_release_pending(clients, cfg)
    except AwsError as exc:
        ui.step(f"could not look for the pipeline's first run, so not following it: {exc.message}")
        return False


def _following(cfg: Config) -> deploy_mod.InFlight:
    names = Names.of(cfg)
    state = "its first release keeps running on AWS without bluegreen"
    if cfg.deployment.reroute == "manual":
        state += (
            f"; once green answers on :{cfg.listeners.test_port} it waits "
            f"{cfg.deployment.wait_minutes} min for `bluegreen promote`"
        )
    return deploy_mod.InFlight(
        names.pipeline,
        state,
        "`bluegreen status --watch` shows it; run `bluegreen deploy` again to follow and "
        "promote it",
    )


def _first_release_line(first: release_mod.ReleaseResult) -> str:
    if first.failed:
        return f"first release {first.status}: {first.failed_action} {first.error}".rstrip()
    state = "promoted" if first.promoted else (first.deployment_phase or first.status)
    return f"first release {first.execution_id[:8]}: {state}"


def _where(clients: Any) -> str:
    """`` in <region> (account <id>)``; the account from STS GetCallerIdentity, which
    needs no permission ("No permissions are required to perform this operation", STS API
    reference, GetCallerIdentity); left out if the call fails (the next call reports why)."""
    try:
        account = str(clients.sts.get_caller_identity()["Account"])
    except Exception:  # noqa: BLE001 - only an embellishment of the prompt
        return f" in {clients.region}"
    return f" in {clients.region} (account {account})"
