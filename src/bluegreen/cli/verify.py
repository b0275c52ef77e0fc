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
    is committed. Exit 0 when all pass, 2 when a file or setting needs fixing, 1 when a
    template fails cfn-lint.
    """
    config, repo = load_config(config_path)
    err.print(f"verifying {repo} ...", markup=False)
    report = verify(config, repo)
    if output is OutputFormat.json:
        emit_json(report.to_dict())
    else:
        for check in report.checks:
            mark = "ok  " if check.ok else "FAIL"
            out.print(f"{mark} {check.name:<12} {check.description}", markup=False)
            for problem in check.problems:
                out.print(f"       - {problem}", markup=False)
        passed = sum(c.ok for c in report.checks)
        out.print(f"{passed}/{len(report.checks)} checks passed", markup=False)
    if not report.ok:
        raise typer.Exit(report.exit_code)
