"""``bluegreen init DIR``: write bluegreen.toml and an application repository scaffold.

The flags only set the few values people change first (project, environment, region);
everything else is documented in the written bluegreen.toml. The config is validated
before anything is written, and so are the target paths: a bad flag or an existing
file exits 2 with nothing changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from bluegreen import appkit
from bluegreen import config as config_mod
from bluegreen.cli.app import app
from bluegreen.cli.common import OutputFormat, OutputOpt, emit_result, err, out
from bluegreen.config import Config
from bluegreen.errors import ConfigError


@app.command()
def init(
    directory: Annotated[
        Path,
        typer.Argument(
            help="Directory to write the repository into (created if missing).", metavar="DIR"
        ),
    ],
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite files that already exist.")
    ] = False,
    restore: Annotated[
        bool,
        typer.Option(
            "--restore",
            help="Write only the files missing from DIR, from DIR's own bluegreen.toml; "
            "existing files are left as they are.",
        ),
    ] = False,
    project: Annotated[
        str | None,
        typer.Option("--project", help="project.name: prefixes every AWS resource name."),
    ] = None,
    environment: Annotated[
        str | None,
        typer.Option("--environment", help="project.environment, such as dev or prod."),
    ] = None,
    region: Annotated[
        str | None,
        typer.Option("--region", help="project.region, such as ap-northeast-1."),
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option(
            "--engine",
            help='deployment.engine: "codedeploy" (CodeDeploy blue/green, the default) or '
            '"ecs" (Amazon ECS built-in blue/green).',
        ),
    ] = None,
    output: OutputOpt = OutputFormat.text,
) -> None:
    """Write bluegreen.toml and the application repository (web app, log router,
    buildspecs, taskdef.json, and appspec.yml for the CodeDeploy engine) into DIR."""
    if restore:
        given = _flags_set(
            force=force, project=project, environment=environment, region=region, engine=engine
        )
        if given:
            raise typer.BadParameter(
                f"--restore takes its settings from DIR/bluegreen.toml; drop {', '.join(given)}",
                param_hint="--restore",
            )
        config = config_mod.load(directory / config_mod.CONFIG_FILE)
        written = appkit.restore(directory, config)
    else:
        config = build_config(
            project=project, environment=environment, region=region, engine=engine
        )
        written = appkit.init(directory, config, force=force)
    steps = next_steps(directory)
    if output is OutputFormat.json:
        emit_result(
            {
                "directory": str(directory),
                "project": config.project.name,
                "environment": config.project.environment,
                "region": config.project.region,
                "engine": config.deployment.engine,
                "files": [path.relative_to(directory).as_posix() for path in written],
                "next_steps": steps,
            }
        )
        return
    what = "restored the missing files" if restore else "wrote the repository"
    err.print(
        f"{what} for {config.project.name}-{config.project.environment} ({config.project.region})",
        markup=False,
    )
    out.print(f"wrote {len(written)} files to {directory}", markup=False)
    for path in written:
        out.print(f"  {path.relative_to(directory).as_posix()}", markup=False)
    out.print("next steps:", markup=False)
    for step in steps:
        out.print(f"  {step}", markup=False)


def _flags_set(**flags: object) -> list[str]:
    """The --flags among ``flags`` that were given."""
    return [f"--{name}" for name, value in flags.items() if value]


def build_config(
    project: str | None = None,
    environment: str | None = None,
    region: str | None = None,
    engine: str | None = None,
) -> Config:
    """The default config with the flags applied and the scaffold's check
    (config.SCAFFOLD_CHECK), validated like a bluegreen.toml (a bad value raises
    ConfigError naming the key, e.g. project.name)."""
    section: dict[str, Any] = {}
    for key, value in (("name", project), ("environment", environment), ("region", region)):
        if value is not None:
            section[key] = value
    data: dict[str, Any] = {"project": section} if section else {}
    if engine is not None:
        data["deployment"] = {"engine": engine}
    try:
        return config_mod.scaffold(data, source="init")
    except ConfigError as exc:
        # Name the flag next to the key it sets, so the message points at what was typed.
        problems = [(_with_flag(key), message) for key, message in exc.problems]
        lines = "\n".join(f"  {key}: {message}" for key, message in problems)
        raise ConfigError(
            f"init: {len(problems)} invalid flag value{'s' if len(problems) > 1 else ''}:\n{lines}",
            hint="fix the flags above; nothing was written",
            problems=problems,
        ) from None


_FLAGS = {
    "project.name": "--project",
    "project.environment": "--environment",
    "project.region": "--region",
    "deployment.engine": "--engine",
}


def _with_flag(key: str) -> str:
    flags = [flag for name, flag in _FLAGS.items() if name in key]
    return f"{key} ({', '.join(flags)})" if flags else key


def next_steps(directory: Path) -> list[str]:
    """What to run after init, in order."""
    return [
        f"cd {directory}",
        "bluegreen verify     # offline pre-flight: cfn-lint, these files vs bluegreen.toml",
        "bluegreen rehearse . # a release of this repository on an embedded AWS emulator",
    ]
