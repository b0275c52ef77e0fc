"""``bluegreen sandbox``: the emulated AWS on loopback, for the unchanged commands.

``bluegreen sandbox`` serves until Ctrl-C (a thin shell over
:class:`bluegreen.emulator.sandbox.Sandbox`): it prints what to export in another
terminal, then one line per notable change (a stack, a pipeline execution, a deployment
waiting for reroute, the git remote of a new repository). ``bluegreen sandbox advance
10m`` and ``bluegreen sandbox status`` talk to a running sandbox through its control path.
Ctrl-C (or SIGTERM) stops it: exit 130 and ``interrupted: ...`` as for every command
(:mod:`bluegreen.cli.app`), after the server, the clock and the emulator have stopped
and its temporary files are gone.
"""

from __future__ import annotations

import os
import re
import shlex
import threading
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bluegreen.cli import common
from bluegreen.cli.app import app, sigterm_as_ctrl_c
from bluegreen.cli.common import ConfigOpt, OutputFormat, OutputOpt, RegionOpt, emit_result, out
from bluegreen.emulator.sandbox import (
    DEFAULT_PORT,
    DEFAULT_SPEED,
    MAX_ADVANCE,
    Remote,
    Sandbox,
    Settings,
    loopback_port,
)
from bluegreen.errors import UsageError

if TYPE_CHECKING:
    from bluegreen.config import Config

DEFAULT_REGION = "ap-northeast-1"

sandbox_app = typer.Typer(
    name="sandbox",
    help=(
        "Run an emulated AWS of the whole system on loopback, for the unchanged commands "
        "(deploy, git push, status, promote, finish, rollback, logs) and the AWS CLI in "
        "another terminal. Its clock runs --speed times real time; `bluegreen sandbox "
        "advance 10m` moves it now. Ctrl-C stops it and leaves nothing behind; --state DIR "
        "keeps its state and resumes it next time."
    ),
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(sandbox_app)

PortOpt = Annotated[
    int | None,
    typer.Option(
        "--port",
        help=f"Port of the running sandbox (default: AWS_ENDPOINT_URL's, else {DEFAULT_PORT}).",
        min=1,
        max=65535,
    ),
]


@sandbox_app.callback(invoke_without_command=True)
def sandbox(
    ctx: typer.Context,
    port: Annotated[
        int,
        typer.Option("--port", help="Port to listen on (0: any free port).", min=0, max=65535),
    ] = DEFAULT_PORT,
    speed: Annotated[
        float,
        typer.Option(
            "--speed",
            help="Simulated seconds per real second: at 60 the seed's 10-minute reroute wait "
            "passes in 10 s. 1 is real time.",
        ),
    ] = DEFAULT_SPEED,
    state: Annotated[
        Path | None,
        typer.Option(
            "--state",
            help="Keep the state in DIR (a journal of what happened, the pushes' bundles) "
            "and resume it when DIR holds one. Default: nothing kept.",
            metavar="DIR",
        ),
    ] = None,
    region: RegionOpt = None,
    host: Annotated[
        str, typer.Option("--host", help="Loopback address to listen on.")
    ] = "127.0.0.1",
    config: ConfigOpt = None,
) -> None:
    """Start the sandbox (without a subcommand) and serve until Ctrl-C."""
    ctx.obj = {"port": port if _given(ctx, "port") else None, "host": host}
    if ctx.invoked_subcommand is not None:
        return
    found = _config(config)
    settings = Settings(
        port=port,
        speed=speed,
        state=state,
        region=region,
        default_region=region or (found.project.region if found else DEFAULT_REGION),
        host=host,
    )
    common.invocation().region = settings.region or settings.default_region
    from bluegreen.engine.watch import DeploymentWatch

    box = Sandbox(settings, progress=_say, deployments=DeploymentWatch().lines)
    # SIGTERM (`kill`, a process manager) stops it as Ctrl-C does, cleanly: the console
    # script's handler (cli.app); kept here for a sandbox started through the app object.
    with sigterm_as_ctrl_c():
        box.open()
        try:
            _introduce(box, found.deployment.engine if found else None)
            kept = box.state
            resume = f"bluegreen sandbox --state {shlex.quote(str(kept))}" if kept else ""
            with common.in_flight("the sandbox stopped", resume) as entry:
                try:
                    box.watch(_say, threading.Event())
                finally:
                    at = box.close()
                    stopped = "the sandbox stopped" + (
                        f" at {at.strftime('%Y-%m-%d %H:%M:%S UTC')} (simulated)" if at else ""
                    )
                    entry.update(
                        left=f"{stopped}; its state is kept in {kept}"
                        if kept
                        else f"{stopped} and left nothing behind (--state DIR keeps its state)"
                    )
        finally:
            box.close()


def _given(ctx: typer.Context, name: str) -> bool:
    """Whether option ``name`` was given on the command line (not defaulted)."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name == "COMMANDLINE"


def _config(config: Path | None) -> Config | None:
    """The bluegreen.toml (--config, or found here or above), None when there is none.
    An invalid config is bad input: deploy would refuse it too."""
    from bluegreen import config as config_mod
    from bluegreen.errors import ConfigError

    if config is not None:
        return config_mod.load(config)
    try:
        path = config_mod.find()
    except ConfigError:
        return None
    return config_mod.load(path)


def _say(line: str) -> None:
    out.print(common.printable(line), markup=False)


def _operating(engine: str | None) -> list[str]:
    """The banner's commands that end a release's waits, for the configured engine only
    (the engine's own list: no `finish` under ECS, which has no call that ends a bake).
    Without a bluegreen.toml, the default engine's, saying so."""
    from bluegreen import engine as engine_mod

    lines = [
        f"  bluegreen {command:<24}{what}"
        for command, what in engine_mod.commands_of(engine or "codedeploy")
    ]
    if engine is None:
        lines.append(
            '                                    (finish: engine "codedeploy" only; the default)'
        )
    return lines


def _introduce(box: Sandbox, engine: str | None = None) -> None:
    status = box.status()
    clock = datetime.fromisoformat(status["clock"])
    minutes = 600 / box.speed
    state = (
        f"kept in {box.state} (resume: bluegreen sandbox --state {shlex.quote(str(box.state))})"
        if box.state
        else "not kept (--state DIR keeps it, and resumes it next time)"
    )
    lines = [
        f"bluegreen sandbox: an emulated AWS on {box.url} "
        f"(account {status['account']}, {status['region']})",
        f"  clock  {clock.strftime('%Y-%m-%d %H:%M:%S UTC')}, {box.speed:g}x real time "
        f"(10 minutes pass in {_real(minutes)})",
        f"  state  {state}",
        "",
        "In another terminal:",
        "",
        f"  export AWS_ENDPOINT_URL={box.url}",
        "  export AWS_ACCESS_KEY_ID=sandbox AWS_SECRET_ACCESS_KEY=sandbox",
        f"  export AWS_DEFAULT_REGION={status['region']}",
        "  unset AWS_PROFILE AWS_SESSION_TOKEN",
    ]
    if any(os.environ.get(k) for k in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy")):
        lines.append("  export NO_PROXY=127.0.0.1,localhost,::1   # a proxy must not carry it")
    repositories = status["repositories"]
    remote = next(iter(repositories.values()), "<the path it prints once deploy made it>")
    lines += [
        "",
        "then, in an application repository (bluegreen init myapp && cd myapp):",
        "",
        "  bluegreen deploy --yes            the stacks, then the first release on :80",
        "  bluegreen status                  pipeline, deployment, listeners, task sets",
        *_operating(engine),
        "  bluegreen logs --follow           the app's logs",
        "  aws cloudformation describe-stacks",
        "  bluegreen sandbox advance 10m     let 10 minutes pass now",
        "",
        "A release is a git push to the emulated CodeCommit repository:",
        "",
        f"  git init -b main && git remote add sandbox {remote}",
        "  git fetch sandbox && git reset sandbox/main     deploy's first commit, as yours",
        '  git commit -am "..." && git push sandbox HEAD:main',
    ]
    if len(repositories) > 1:
        lines += [f"  (repository {name}: {path})" for name, path in repositories.items()]
    lines += ["", "Ctrl-C stops the sandbox.", ""]
    for line in lines:
        _say(line)


def _real(seconds: float) -> str:
    if seconds >= 120:
        return f"{seconds / 60:g} min"
    return f"{seconds:.3g} s"


# ----------------------------------------------------------------- the running sandbox


@sandbox_app.command()
def advance(
    ctx: typer.Context,
    duration: Annotated[
        str, typer.Argument(help="How long: 90s, 10m, 2h, 1d or 1h30m (a number alone: seconds).")
    ],
    port: PortOpt = None,
    output: OutputOpt = OutputFormat.text,
) -> None:
    """Let DURATION of simulated time pass now in the running sandbox (timers fire: a
    reroute wait runs out, a termination wait ends)."""
    seconds = parse_duration(duration)
    remote = _remote(ctx, port)
    found = remote.advance(seconds)
    if output is OutputFormat.json:
        emit_result(found)
        return
    clock = datetime.fromisoformat(found["clock"])
    out.print(
        f"the clock moved {duration}: it is {clock.strftime('%Y-%m-%d %H:%M:%S UTC')} "
        f"in the sandbox on {remote.url}",
        markup=False,
    )


@sandbox_app.command("status")
def status_command(
    ctx: typer.Context,
    port: PortOpt = None,
    output: OutputOpt = OutputFormat.text,
) -> None:
    """The running sandbox: its endpoint, clock, speed, state and git remotes."""
    remote = _remote(ctx, port)
    found = remote.status()
    if output is OutputFormat.json:
        emit_result(found)
        return
    clock = datetime.fromisoformat(found["clock"])
    out.print(
        f"sandbox  {found['endpoint']} ({found['region']}, process {found['pid']})", markup=False
    )
    out.print(
        f"clock    {clock.strftime('%Y-%m-%d %H:%M:%S UTC')}, {found['speed']:g}x real time",
        markup=False,
    )
    out.print(f"state    {found['state'] or 'not kept'}", markup=False)
    for name, path in found["repositories"].items():
        out.print(f"remote   git remote add sandbox {path}   # {name}", markup=False)


def _remote(ctx: typer.Context, port: int | None) -> Remote:
    parent = (ctx.parent.obj if ctx.parent is not None else None) or {}
    host = str(parent.get("host") or "127.0.0.1")
    chosen = port if port is not None else parent.get("port")
    if chosen is not None:
        return Remote(host, int(chosen))
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "").strip()
    if endpoint:
        found = loopback_port(endpoint)
        if found is None:
            raise UsageError(
                f"AWS_ENDPOINT_URL={endpoint} is not a sandbox on loopback (http://127.0.0.1:N)",
                hint="pass the sandbox's --port, or export the AWS_ENDPOINT_URL it printed",
            )
        return Remote(*found)
    return Remote(host, DEFAULT_PORT)


_DURATION = re.compile(r"(\d{1,9})([smhd])")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """``90s``, ``10m``, ``2h``, ``1d``, ``1h30m`` or a number of seconds -> seconds, from
    1 s up to :data:`MAX_ADVANCE`; anything else is a UsageError."""
    raw = text.strip().lower()
    seconds: float | None = None
    if re.fullmatch(r"\d{1,9}", raw):
        seconds = float(raw)
    elif raw and re.fullmatch(f"(?:{_DURATION.pattern})+", raw):
        seconds = float(sum(int(n) * _UNIT[u] for n, u in _DURATION.findall(raw)))
    if seconds is None or not 1 <= seconds <= MAX_ADVANCE:
        raise UsageError(
            f"{text!r} is not a duration from 1s to {MAX_ADVANCE / 86400:g}d",
            hint="use a number and a unit: 90s, 10m, 2h, 1d (or 1h30m)",
        )
    return seconds
