"""`bluegreen verify`: pre-flight checks, offline, nothing written."""

from __future__ import annotations

import typer

from bluegreen.cli.app import app
from bluegreen.cli.common import (
    ConfigOpt,
    OutputFormat,
    OutputOpt,
    emit_json,
    err,
    load_config,
    out,
)
from bluegreen.verify import verify


@app.command("verify")
def verify_command(
    config_path: ConfigOpt = None,
    output: OutputOpt = OutputFormat.text,
) -> None:
    """Check, offline, that the repository is ready to deploy.

    Lints the three synthesized templates with cfn-lint (zero errors and warnings),
    checks the application repository's files against bluegreen.toml, checks that the
    pipeline finds every file and image placeholder it needs, and that no AWS account id
    is committed. Warns (without failing) when the test listener is open to the whole
    internet. Exit 0 when all pass, 2 when a file or setting needs fixing, 1 when a
    template fails cfn-lint.
    """
    config, repo = load_config(config_path)
    err.print(f"verifying {repo} ...", markup=False)
    report = verify(config, repo)
    if output is OutputFormat.json:
        emit_json(report.to_dict())
    else:
        for check in report.checks:
            mark = "FAIL" if not check.ok else "warn" if check.warnings else "ok  "
            out.print(f"{mark} {check.name:<12} {check.description}", markup=False)
            for problem in check.problems:
                out.print(f"       - {problem}", markup=False)
            for warning in check.warnings:
                out.print(f"       - warning: {warning}", markup=False)
        passed = sum(c.ok for c in report.checks)
        warned = sum(len(c.warnings) for c in report.checks)
        summary = f"{passed}/{len(report.checks)} checks passed"
        if warned:
            summary += f", {warned} warning{'s' if warned > 1 else ''}"
        out.print(summary, markup=False)
    if not report.ok:
        raise typer.Exit(report.exit_code)
