"""``bluegreen synth``: write the CloudFormation templates and deploy plan, offline.

Loads and validates bluegreen.toml first (a bad config exits 2 before anything is
written), writes the three templates plus deploy.json and deploy.sh. With ``--lint`` it
then checks each template with cfn-lint; any finding fails the command (exit 1) after
listing it. Linting is opt-in here because it costs about a second of cfn-lint start-up
and the templates are lint-clean by construction (the test suite lints every config
shape); ``bluegreen verify`` always lints.
The heavy imports (troposphere, cfn-lint) happen inside the command so other commands
start fast.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from bluegreen.cli.app import app
from bluegreen.cli.common import (
    ConfigOpt,
    OutputFormat,
    OutputOpt,
    emit_json,
    emit_result,
    err,
    json_with_error,
    load_config,
    out,
)
from bluegreen.errors import OperationError, UsageError

DEFAULT_OUT = Path(".bluegreen") / "synth"

_DESCRIPTIONS = {
    "deploy.json": "deploy order, parameters and capabilities",
    "deploy.sh": "aws cloudformation deploy, in order",
}


def _check_out(target: Path) -> None:
    """Refuse (exit 2, nothing written) an output path that cannot be a directory: a
    file, a path through a file, or under a directory this user cannot write to."""
    problem = ""
    if target.exists() and not target.is_dir():
        problem = "it exists and is not a directory"
    else:
        existing = target
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir():
            problem = f"{existing} is a file, not a directory"
        elif not os.access(existing, os.W_OK | os.X_OK):
            problem = f"{existing} is not writable"
    if problem:
        raise UsageError(
            f"--out {target}: {problem}",
            hint="pass --out with a directory you can write to, or a path where one can be made",
        )


@app.command()
def synth(
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Directory to write to (default: .bluegreen/synth next to bluegreen.toml).",
            file_okay=False,
        ),
    ] = None,
    config_path: ConfigOpt = None,
    output: OutputOpt = OutputFormat.text,
    lint: Annotated[
        bool,
        typer.Option(
            "--lint/--no-lint",
            help="Also check the templates with cfn-lint (bluegreen verify always does).",
        ),
    ] = False,
) -> None:
    """Write the CloudFormation templates, deploy.json and deploy.sh (offline)."""
    config, root = load_config(config_path)
    target = out_dir if out_dir is not None else root / DEFAULT_OUT

    from bluegreen.synth import synthesize

    _check_out(target)
    err.print(f"synthesizing into {target}", markup=False)
    if lint:
        err.print(f"checking templates with cfn-lint ({config.project.region})", markup=False)
    result = synthesize(config, target, lint=lint)

    error: OperationError | None = None
    if not result.ok:
        count = len(result.findings)
        error = OperationError(
            f"cfn-lint reported {count} finding{'s' if count != 1 else ''} in the synthesized "
            "templates",
            hint="this is a bluegreen bug unless the config asks for something AWS rejects; "
            "report it with the findings above (the files are in place for inspection)",
        )
    if output is OutputFormat.json:
        if error is None:
            emit_result(result.to_dict())
        else:
            emit_json(json_with_error(result.to_dict(), error))
    else:
        out.print(f"wrote {len(result.files)} files to {result.out_dir}", markup=False)
        width = max(len(p.name) for p in result.files)
        stacks = {s.filename: s for s in result.stacks}
        for path in result.files:
            stack = stacks.get(path.name)
            if stack is not None:
                what = f"{stack.name} ({stack.resource_count} resources)"
            else:
                what = _DESCRIPTIONS.get(path.name, "")
            out.print(f"  {path.name:<{width}}  {what}", markup=False)
        if lint:
            from bluegreen.lint import cfn_lint_version

            label = f"cfn-lint {cfn_lint_version()} ({result.region})"
            if result.ok:
                out.print(f"{label}: no errors or warnings", markup=False)
            else:
                out.print(f"{label}: {len(result.findings)} findings", markup=False)
                for finding in result.findings:
                    out.print(f"  {finding}", markup=False)

    if error is not None:
        raise error
