"""``bluegreen rehearse``: the whole system and real releases on the emulated AWS.

A thin shell over :func:`bluegreen.rehearse.story.run`: pick the repository (a fresh
scaffold, or the user's) and the scenario, run, render the timeline. Progress goes to
stderr, the timeline tables (or ``--output json``) to stdout. The exit code says whether
the story played as designed: 0 when every release ended as its scenario plays it (a
release rolled back by the scenario's own `bluegreen rollback` included), 1 when a
release failed or was rolled back unexpectedly (after the timeline, with the cause on
stderr; with ``--output json`` the document carries ``ok``/``kind``/``error``/``hint``/
``exit_code``, and nothing else goes to stdout). SIGTERM ends it as Ctrl-C does,
removing its temporary directory (bluegreen.cli.app: exit 130).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from bluegreen.aws.status import ROLES
from bluegreen.cli.app import app
from bluegreen.cli.common import (
    OutputFormat,
    OutputOpt,
    emit_json,
    emit_result,
    err,
    json_with_error,
    out,
)
from bluegreen.config import CONFIG_FILE, Config
from bluegreen.errors import RehearsalError, RepositoryError, UsageError
from bluegreen.rehearse.model import Rehearsal, Step, TaskSetState
from bluegreen.rehearse.recorder import role_and_name

_SCENARIO_HELP = (
    "What to rehearse after deploying: releases (the default: the scaffold's two releases, "
    "or your repository's one), rollback-in-termination-wait (the last release promoted, "
    "then `bluegreen rollback` while blue is still kept: exit 0 when it rolls back), "
    "rollback-after-success (`bluegreen rollback` once the last release succeeded: a new "
    "deployment of the previous revision). Both rollbacks need two releases: the "
    "scaffold's (no PATH or --config). config-change (task.desired_count 1 -> 3 deployed "
    "to the running system, then a listener port change that deploy refuses). "
    'engine-switch (the running CodeDeploy system switched to deployment.engine = "ecs": '
    "deploy refuses it, exit 2, changing nothing, and names the ways to move)."
)

SCAFFOLD_PROVIDERS = ("github", "gitlab", "bitbucket")
SCAFFOLD_REPOSITORY = "example/webapp"
SCAFFOLD_IGNORED = ("docs/**", "*.md")
"""The scaffold's repository with ``--provider``: an owner/name of the emulated provider,
and the globs bluegreen.toml's comment gives as its example."""

_FAULT_HELP = (
    "Inject a failure into the last release (the second one on the scaffold): "
    "green-unhealthy (the new tasks fail their health check: rolled back before any "
    "traffic), test-traffic-fails (the pushed app answers 500 on /: [verify]'s checks "
    "fail it on the test listener, in CodeDeploy's AfterAllowTestTraffic hook, or with "
    "engine ecs the hook after TEST_TRAFFIC_SHIFT; rolled back; needs a check, which the "
    "scaffold has), build-fails (the app build fails: nothing "
    "deployed), fails-under-load (the new app answers the checks on the test listener "
    "well, then 500 to production traffic; rehearsed with verify.alarms enabled, whose "
    "5xx alarm rolls it back in the termination wait). Exits 1 naming the cause."
)


@app.command()
def rehearse(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="Application repository to rehearse (its bluegreen.toml and files; it is "
            "copied, never changed). Default: a fresh `bluegreen init` scaffold.",
            file_okay=False,
            exists=True,
            metavar="PATH",
        ),
    ] = None,
    config_path: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="bluegreen.toml of the repository to rehearse (its directory is the "
            "repository). Default: none, a fresh scaffold.",
            dir_okay=False,
            exists=True,
        ),
    ] = None,
    fault: Annotated[
        str | None,
        typer.Option(
            "--fault",
            help=_FAULT_HELP,
            metavar="green-unhealthy|test-traffic-fails|build-fails|fails-under-load",
        ),
    ] = None,
    scenario: Annotated[
        str,
        typer.Option(
            "--scenario",
            help=_SCENARIO_HELP,
            metavar="releases|rollback-in-termination-wait|rollback-after-success|"
            "config-change|engine-switch",
        ),
    ] = "releases",
    no_promote: Annotated[
        bool,
        typer.Option(
            "--no-promote",
            help='With deployment.reroute = "manual": promote no release after the first '
            "(deploy still promotes the first one, as it does on AWS: production only "
            "served the bootstrap placeholder), so the second release's reroute wait "
            "(deployment.wait_minutes) runs out and CodeDeploy stops that deployment and "
            "rolls it back; production stays on release 1 (exit 0: played as designed). "
            "Needs two releases: the scaffold's (no PATH or --config).",
        ),
    ] = False,
    provider: Annotated[
        str | None,
        typer.Option(
            "--provider",
            help="Rehearse the scaffold with its repository on GitHub, GitLab or Bitbucket "
            "through an AWS CodeConnections connection (source.provider; the repository "
            f'"{SCAFFOLD_REPOSITORY}", source.ignored_paths {json.dumps(SCAFFOLD_IGNORED)}) '
            "instead of CodeCommit. The scaffold's only (no PATH or --config: theirs says "
            "source.provider).",
            metavar="github|gitlab|bitbucket",
        ),
    ] = None,
    reroute: Annotated[
        str | None,
        typer.Option(
            "--reroute",
            help='The scaffold\'s deployment.reroute: "auto" rehearses its two releases '
            "with production moving as soon as init's check passes (the README's lead "
            'time of "auto"), "manual" (what init writes) waits for `bluegreen promote`. '
            "The scaffold's only (no PATH or --config: theirs says deployment.reroute).",
            metavar="auto|manual",
        ),
    ] = None,
    output: OutputOpt = OutputFormat.text,
) -> None:
    """Rehearse the whole system offline, through the same code as the commands: deploy
    the stacks on an emulated AWS (bluegreen deploy), then push releases (git push; the
    pipeline builds, blue/green on :8080, promote, :80 switched, old tasks terminated),
    reading the system with the code of bluegreen status, on a simulated clock. Each
    release's lead time (push to production, push to done) is printed under its timeline
    and in the summary; --output json lists the parts it is made of, with their sources.

    With no PATH: two releases on a fresh scaffold, the second being the seed's change
    of the greeting ("Hello, 網走" -> "こんにちは、あばしり"), then a push to a feature
    branch (built and tested, not deployed); with --provider the repository is on GitHub,
    GitLab or Bitbucket (a CodeConnections connection, whose handshake a person completes
    once in the console on AWS) and a push of ignored files starts nothing. With PATH or
    --config: one release of that repository's current files.
    """
    from bluegreen import config as config_mod
    from bluegreen.rehearse.story import FAULTS, SCENARIOS, Options, run

    if fault is not None and fault not in FAULTS:
        raise typer.BadParameter(f"choose one of {', '.join(FAULTS)}", param_hint="--fault")
    if scenario not in SCENARIOS:
        raise typer.BadParameter(f"choose one of {', '.join(SCENARIOS)}", param_hint="--scenario")
    repository: Path | None = None
    if config_path is not None and path is not None:
        raise typer.BadParameter(
            "give the repository as PATH or its bluegreen.toml as --config, not both",
            param_hint="--config",
        )
    if provider is not None and (path is not None or config_path is not None):
        raise typer.BadParameter(
            "applies to the scaffold's rehearsal; a repository's own bluegreen.toml says "
            "source.provider",
            param_hint="--provider",
        )
    if reroute is not None and (path is not None or config_path is not None):
        raise typer.BadParameter(
            "applies to the scaffold's rehearsal; a repository's own bluegreen.toml says "
            "deployment.reroute",
            param_hint="--reroute",
        )
    if reroute is not None and reroute not in ("auto", "manual"):
        raise typer.BadParameter("choose auto or manual", param_hint="--reroute")
    if provider is not None and provider not in SCAFFOLD_PROVIDERS:
        raise typer.BadParameter(
            f"choose one of {', '.join(SCAFFOLD_PROVIDERS)}", param_hint="--provider"
        )
    if config_path is not None:
        config = config_mod.load(config_path)
        repository = config_path.resolve().parent
    elif path is not None:
        if not (path / CONFIG_FILE).is_file():
            raise UsageError(
                f"{path} has no {CONFIG_FILE}: it is not a bluegreen application repository",
                hint=f"run `bluegreen init {path}` to write one there, or `bluegreen rehearse` "
                "(no PATH) to rehearse a fresh scaffold",
            )
        config = config_mod.load(path / CONFIG_FILE)
        repository = path.resolve()
    else:
        # What `bluegreen init` writes: the defaults and the scaffold's check.
        edits: dict[str, Any] = {}
        if provider is not None:
            edits["source"] = {
                "provider": provider,
                "full_repository_id": SCAFFOLD_REPOSITORY,
                "ignored_paths": list(SCAFFOLD_IGNORED),
            }
        if reroute is not None:
            edits["deployment"] = {"reroute": reroute}
        config = config_mod.scaffold(edits) if edits else config_mod.scaffold()
        if Path(CONFIG_FILE).is_file():
            err.print(
                "rehearsing a fresh scaffold; to rehearse the repository here, run "
                "`bluegreen rehearse .`",
                markup=False,
            )
    if no_promote and config.deployment.reroute != "manual":
        raise typer.BadParameter(
            f'applies only with deployment.reroute = "manual"; this config has '
            f'"{config.deployment.reroute}", where there is no promote to withhold',
            param_hint="--no-promote",
        )
    if repository is not None:
        _one_release_only(scenario, no_promote, path, config_path)
        _check_repository(repository, config)
    what = f"{repository}" if repository else "a fresh scaffold"
    err.print(f"rehearsing {what} on an emulated AWS", markup=False)
    result = run(
        Options(
            config,
            repository=repository,
            fault=fault,
            promote=not no_promote,
            scenario=scenario,
        ),
        progress=lambda message: err.print(f"  {message}", markup=False),
    )

    failed = result.failed_release
    error = (
        RehearsalError(
            f"release {failed.number} ({failed.commit[:8]}) {failed.outcome}: {failed.cause}",
            hint=_hint(failed.fault, repository is not None),
        )
        if failed is not None
        else None
    )
    if output is OutputFormat.json:
        document = result.to_dict()
        if error is None:
            emit_result(document)
        else:
            emit_json(json_with_error(document, error))
    else:
        _render(result, config)
    if error is not None:
        raise error


_TWO_RELEASES = {
    "rollback-in-termination-wait": "--scenario rollback-in-termination-wait",
    "rollback-after-success": "--scenario rollback-after-success",
}


def _one_release_only(
    scenario: str, no_promote: bool, path: Path | None, config_path: Path | None
) -> None:
    """Refuse (exit 2) what needs a second release when the story has one: a repository
    given as PATH or --config is rehearsed as one release (its files as they are), and a
    rollback needs a release before it, --no-promote a release after the first (deploy
    promotes the first one)."""
    wanted = _TWO_RELEASES.get(scenario) or ("--no-promote" if no_promote else "")
    if not wanted:
        return
    given = f"PATH {path}" if path is not None else f"--config {config_path}"
    raise UsageError(
        f"{wanted} needs two releases, but a repository given as {given} is rehearsed as "
        "one release (its files as they are)",
        hint=f"drop {'PATH' if path is not None else '--config'} to rehearse the scaffold's "
        f"two releases: `bluegreen rehearse {wanted}`",
    )


def _check_repository(repository: Path, config: Config) -> None:
    """Refuse (exit 2) a repository whose files `bluegreen verify` would reject: the
    rehearsal would only fail later, at a step far from the mistake."""
    from bluegreen.appkit import check

    problems = check(repository, config)
    if problems:
        raise RepositoryError(
            f"{repository}: {len(problems)} problem{'s' if len(problems) > 1 else ''} in the "
            "repository files:\n" + "\n".join(f"  {p}" for p in problems),
            hint="fix them and rehearse again; `bluegreen verify` runs every pre-flight check",
            problems=RepositoryError.pairs(problems),
        )


def _hint(fault: str | None, user_repository: bool) -> str:
    shown = "the timeline above shows the step that failed and the state it left"
    if fault:
        return f"this failure was injected with --fault; {shown}"
    if user_repository:
        return f"{shown}; `bluegreen verify` checks the repository's files against the config"
    return shown


# --------------------------------------------------------------------------- rendering


def _render(result: Rehearsal, config: Config) -> None:
    # Not a terminal (CI logs, a pipe): wide enough for the full names of the target
    # groups, task definitions and change sets.
    console = out if out.is_terminal else Console(highlight=False, width=200)
    for release in result.releases:
        header = Text()
        header.append(f"Release {release.number}", style="bold")
        header.append(f"  {release.commit[:8]}  ", style="cyan")
        header.append(release.message)
        console.print(header)
        if len(release.changed) > 6:
            console.print(Text(f"  changed: {len(release.changed)} files", style="dim"))
        elif release.changed:
            console.print(Text(f"  changed: {', '.join(release.changed)}", style="dim"))
        if release.images:
            images = ", ".join(
                f"{name}={image.rsplit('/', 1)[-1]}" for name, image in release.images.items()
            )
            console.print(Text(f"  images:  {images}", style="dim"))
        if release.builds:
            done = ", ".join(
                " ".join(
                    part for part in (b["action"], b["result"], str(b["tag"] or "")[:16]) if part
                )
                + f" ({b['seconds']} s)"
                for b in release.builds
            )
            console.print(Text(f"  builds:  {done}", style="dim"))
        if release.checks:
            console.print(_checks(release.checks))
        if release is result.releases[0]:
            # once: the roles the columns show are not the target groups' names (U6)
            console.print(Text(f"  roles:   {ROLES}; the target groups keep their names"))
        console.print(_table(release.steps, result))
        if release.load is not None:
            console.print(_load_line(release.load))
        console.print(_outcome(release.outcome, release.cause, release.as_designed))
        if release.lead_time:
            console.print(Text(f"  lead time: {lead_time(release.lead_time)}", style="dim"))
        console.print()
    for run in result.branch_runs:
        _branch_run(console, run)
    _summary(console, result)


def _branch_run(console: Console, run: dict[str, Any]) -> None:
    """A push to builds.branches: the branch-check build's results, no deployment. Or
    (kind "ignored") a push of source.ignored_paths only: no pipeline run."""
    header = Text()
    ignored = run.get("kind") == "ignored"
    header.append(f"{'Push' if ignored else 'Branch'} {run['branch']}", style="bold")
    header.append(f"  {str(run['commit'])[:8]}  ", style="cyan")
    header.append(str(run["message"]))
    console.print(header)
    if ignored:
        console.print(Text(f"  changed: {', '.join(run['changed_files'])}", style="dim"))
        started = run["pipeline_started"]
        console.print(
            Text(
                "  pipeline: started (unexpected)"
                if started
                else "  pipeline: not started (every changed file matches source.ignored_paths "
                f"{', '.join(run['ignored_paths'])}: the push trigger excludes them)",
                style="red" if started else "dim",
            )
        )
        console.print()
        return
    build = run.get("build")
    if not build:
        console.print(Text("  no branch-check build started", style="red"))
        console.print()
        return
    found = build["variables"]
    console.print(
        Text(
            f"  build:   {build['build_id'].split(':', 1)[0]} #{build['number']} "
            f"{build['status']} in {build['seconds']} s",
            style="dim",
        )
    )
    console.print(
        Text(
            f"  checks:  app tests {found.get('APP_TESTS', '?')}, bluegreen checks "
            f"{found.get('CHECKS', '?')}, images: app {found.get('APP_IMAGE', '?')} "
            f"{str(found.get('APP_TAG', ''))[:16]}, router {found.get('ROUTER_IMAGE', '?')} "
            f"{str(found.get('ROUTER_TAG', ''))[:16]}",
            style="dim",
        )
    )
    if build.get("reason"):
        console.print(Text(f"  failed:  {build['reason']}", style="red"))
    deployed = "the pipeline started (unexpected)" if run["pipeline_started"] else "none"
    console.print(Text(f"  deployment: {deployed}", style="dim"))
    console.print()


def _checks(checks: list[dict[str, Any]]) -> Text:
    """The release's checks in one line: how many passed, and each check's request (or
    the one that failed and what came back)."""
    from bluegreen.verification.checks import failure

    passed = [c for c in checks if c["result"] == "pass"]
    failed = [c for c in checks if c["result"] == "fail"]
    requests = sorted({str(c["request"]) for c in passed})
    text = f"  checks:  {len(passed)} passed"
    if requests:
        text += f" ({', '.join(requests)})"
    if failed:
        text += f", 1 failed: {failure({**failed[0], 'ok': False})}"
    return Text(text, style="red" if failed else "dim")


def _table(steps: list[Step], result: Rehearsal) -> Table:
    table = Table(show_edge=False, pad_edge=False, header_style="bold", expand=False)
    table.add_column("time", no_wrap=True, style="dim")
    table.add_column("event", ratio=3, min_width=48, overflow="fold")  # names never cut
    table.add_column(f":{result.production_port} →", no_wrap=True)
    table.add_column(f":{result.test_port} →", no_wrap=True)
    table.add_column("task sets", no_wrap=True)
    table.add_column("requests", no_wrap=True)
    roles: dict[str, str] = {}
    previous: Step | None = None
    for step in steps:
        command = step.kind == "operation" and step.event.startswith(("bluegreen ", "git "))
        same = previous is not None and (previous.kind, previous.event) == (step.kind, step.event)
        if command and same:
            # the same command's next step, right under it: the step alone (review U16)
            event = Text("  ↳ ", style="cyan")
            event.append(step.detail or "", style="dim")
        else:
            style = "bold cyan" if command else "bold"  # a command the user runs
            event = Text(f"$ {step.event}" if command else step.event, style=style)
            if step.detail:
                event.append("\n" + step.detail, style="dim")
        previous = step
        table.add_row(
            step.time,
            event,
            _forwards(step.production, step.roles),
            _forwards(step.test, step.roles),
            _task_sets(step.task_sets),
            _requests(step, roles or step.roles),
        )
        roles = step.roles
    return table


def _requests(step: Step, roles: dict[str, str]) -> Text:
    """The load run's requests since the row before: served by each target group, named
    by the role it had meanwhile (the row before's: roles swap when a release ends), and
    the failed ones."""
    text = Text()
    for index, (name, count) in enumerate(sorted(step.served.items())):
        if index:
            text.append("\n")
        role = roles.get(name, "")
        text.append(f"{role or name} {count}", style=_colour(role))
    if step.failed:
        if step.served:
            text.append("\n")
        text.append(f"{step.failed} failed", style="bold red")
    return text


def _forwards(weights: dict[str, int], roles: dict[str, str]) -> Text:
    live = {name: weight for name, weight in weights.items() if weight}
    if len(live) == 1:
        name = next(iter(live))
        return Text(role_and_name(name, roles), style=_colour(roles.get(name, "")))
    text = Text()
    for index, (name, weight) in enumerate(weights.items()):
        if index:
            text.append("\n")
        text.append(f"{role_and_name(name, roles)} {weight}%", style=_colour(roles.get(name, "")))
    return text


def _task_sets(sets: tuple[TaskSetState, ...]) -> Text:
    text = Text()
    for index, task_set in enumerate(sets):
        if index:
            text.append("\n")
        text.append(f"{task_set.status:<8} ", style="bold" if task_set.status == "PRIMARY" else "")
        text.append(task_set.task_definition)
        roles = {task_set.target_group: task_set.role} if task_set.role else {}
        text.append(" on ")
        text.append(role_and_name(task_set.target_group, roles), style=_colour(task_set.role))
        tasks = "task" if task_set.running == 1 else "tasks"
        text.append(f" ({task_set.running} {tasks})", style="dim")
    return text


def _colour(role: str) -> str:
    return role if role in ("blue", "green") else ""


def _load_line(load: dict[str, Any]) -> Text:
    """A release's load run: requests, by target group, failed, and its bound if hit."""
    served = ", ".join(f"{name} {n}" for name, n in sorted(load["served"].items()))
    text = Text(
        f"  requests: {load['requests']} through production ({load['rate_per_minute']} a "
        f"simulated minute from {load['started_at']}, then GET /): {served or 'none served'}; ",
        style="dim",
    )
    failed = int(load["failed"])
    text.append(f"{failed} failed", style="bold red" if failed else "green")
    if load.get("stopped"):
        text.append(f" ({load['stopped']})", style="yellow")
    return text


def _outcome(outcome: str, cause: str | None, as_designed: bool) -> Text:
    if outcome == "succeeded":
        return Text("  ✓ succeeded", style="green")
    if as_designed:
        return Text(f"  ✓ {outcome}, as the scenario asked: {cause}", style="green")
    return Text(f"  ✗ {outcome}: {cause}", style="red")


def lead_time(found: dict[str, Any]) -> str:
    """``push → production 5 min 23 s, push → done 20 min 36 s`` (bluegreen.rehearse.
    leadtime: each the sum of the parts --output json lists). A release made by deploy
    (the first) counts from deploy's first commit: said so, with the stacks' creation
    it includes (review U7)."""
    from bluegreen.rehearse.clock import span

    shown = []
    for key, label in (("push_to_production", "production"), ("push_to_done", "done")):
        figure = found.get(key)
        value = span(int(round(figure["seconds"]))) if figure else "not reached"
        shown.append(f"push → {label} {value}")
    text = ", ".join(shown)
    figure = found.get("push_to_done") or found.get("push_to_production")
    first = (figure or {}).get("parts") or [{}]
    if str(first[0].get("what", "")).startswith("deploy creates the stacks"):
        text += (
            " (counted from deploy's first commit: includes creating the stacks, "
            f"{span(int(round(first[0]['seconds'])))})"
        )
    return text


_FAULT_OUTCOMES = {"build-fails": "failed"}
"""How a --fault ends its release (the others: rolled back, production never on it)."""


def _faulted(release: Any) -> bool:
    """The release ended as its --fault makes it end."""
    return bool(release.fault) and release.outcome == _FAULT_OUTCOMES.get(
        release.fault, "rolled back"
    )


def _summary(console: Console, result: Rehearsal) -> None:
    from bluegreen.rehearse.clock import span, stamp

    done = sum(1 for r in result.releases if r.as_designed)
    if all(r.succeeded for r in result.releases):
        verdict = Text("all succeeded", style="green")
    elif result.succeeded:
        verdict = Text("all played as designed", style="green")
    elif all(r.as_designed or _faulted(r) for r in result.releases):
        # What --fault asked for (review U17): the release it broke failed or was rolled
        # back, which is the designed outcome; the exit code stays 1 (the README: faults
        # exit 1), but the rehearsal itself did not go wrong.
        said = []
        for r in result.releases:
            if r.as_designed:
                continue
            text = f"release {r.number} {r.outcome} as --fault {r.fault} intended"
            if r.outcome == "rolled back" and r.number > 1:
                text += f"; production stayed on release {r.number - 1}"
            elif r.outcome == "failed" and r.number > 1:
                text += f"; nothing deployed, production stayed on release {r.number - 1}"
            said.append(text)
        verdict = Text("; ".join(said), style="yellow")
    else:
        verdict = Text(f"{done} of {len(result.releases)} played as designed", style="red")
    line = Text(
        f"Rehearsed {len(result.releases)} release{'s' if len(result.releases) != 1 else ''}: "
    )
    line.append_text(verdict)
    console.print(line)
    stacks = ", ".join(f"{s['file']} {s['resources']}" for s in result.stacks)
    rows = [
        (
            "emulator",
            f"emulated AWS in this process (moto and bluegreen's services), {result.region}: "
            "nothing left behind",
        ),
        ("resources", stacks),
        ("deployment", f"{result.deployment_group}, {result.deployment_config}"),
        ("simulated", f"{span(result.simulated_seconds)} ({stamp(result.simulated_seconds)})"),
        *(
            ("lead time", f"release {r.number}: {lead_time(r.lead_time)}")
            for r in result.releases
            if r.lead_time
        ),
        ("wall time", f"{result.wall_seconds:.1f} s"),
    ]
    # What the data plane could not check for real (health derived statically) and its
    # caveats: what a succeeded rehearsal does not prove.
    requests = [r.load for r in result.releases if r.load is not None]
    if requests:
        served = sum(sum(load["served"].values()) for load in requests)
        failed = sum(int(load["failed"]) for load in requests)
        per = "; ".join(
            f"release {r.number} {r.load['requests']} ({r.failed_requests} failed)"
            for r in result.releases
            if r.load is not None
        )
        rows.append(("requests", f"{served} served, {failed} failed through production: {per}"))
    metrics = result.metrics.get("target_groups") or {}
    if metrics:
        sums = "; ".join(
            f"{name} RequestCount {m['sum']['RequestCount']}, 5XX "
            f"{m['sum']['HTTPCode_Target_5XX_Count']}"
            for name, m in sorted(metrics.items())
        )
        rows.append(("cloudwatch", f"{result.metrics['namespace']} (Sum): {sums}"))
    rows += [("note", note) for note in result.notes]
    for label, value in rows:
        console.print(Text(f"  {label:<11} {value}"))
