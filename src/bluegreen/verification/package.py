"""The hook function's package: hook.py with the config's plan, as reproducible bytes.

The stacks embed :func:`source` inline (AWS::Lambda::Function Code.ZipFile: "CFN places
it in a file named index and zips it to create a deployment package ... the first part
of the handler identifier must be index", the resource schema cfn-lint ships), so the
package needs no S3 bucket and the template stays the one artifact, with no account id.
:func:`archive` is the same file as a zip with fixed timestamps and permissions, for a
function created through the Lambda API (the rehearsal) and for comparing packages.
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import zipfile
from importlib import resources
from typing import Any

from bluegreen.config import Config, VerifyConfig, warmup_seconds

HANDLER = "index.handler"
RUNTIME = "python3.12"
"""A Lambda runtime with boto3 (Lambda developer guide, "Lambda runtimes": python3.12 is
supported until 2028)."""

_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry holds


def plan(config: Config) -> dict[str, Any]:
    """What the function checks, from ``config.verify`` (no resource names or ids: those
    reach the function through environment variables the template fills in)."""
    verify: VerifyConfig = config.verify
    return {
        "checks": [check.model_dump() for check in verify.checks],
        "interval_seconds": verify.interval_seconds,
        "callback_seconds": verify.callback_seconds,
        "port": config.app.port,
        "warmup_seconds": warmup_seconds(config),
    }


def _text(module: str) -> str:
    return resources.files("bluegreen.verification").joinpath(module).read_text("utf-8")


def code_text(prober: bool = False) -> str:
    """The code that runs: checks.py, then hook.py without its import of checks and its
    ``from __future__`` line (the prober's: prober.py); docstrings, comments and blank
    lines left out. Kept small because the service template carries it inline and
    CloudFormation takes a template body of at most 51,200 bytes."""
    if prober:
        return _strip(_text("prober.py"), keep_future=True)
    return _strip(_text("checks.py"), keep_future=True) + _strip(_text("hook.py"), False)


def _strip(text: str, keep_future: bool) -> str:
    lines = text.splitlines()
    drop: set[int] = set()
    for statement in ast.parse(text).body:
        if isinstance(statement, ast.ImportFrom) and (
            statement.module == "bluegreen.verification.checks"
            or (statement.module == "__future__" and not keep_future)
        ):
            drop.update(range(statement.lineno - 1, statement.end_lineno or 0))
    for node in ast.walk(ast.parse(text)):
        body = getattr(node, "body", None)
        if not isinstance(body, list) or not body:
            continue
        for index, statement in enumerate(body):
            # docstrings: a string expression opening a body, or following an assignment
            # (attribute docstrings)
            is_doc = (
                isinstance(statement, ast.Expr)
                and isinstance(statement.value, ast.Constant)
                and isinstance(statement.value.value, str)
                and (index == 0 or isinstance(body[index - 1], ast.Assign | ast.AnnAssign))
            )
            if is_doc and len(body) > 1:  # a body of its docstring alone keeps it
                drop.update(range(statement.lineno - 1, (statement.end_lineno or 0)))
    kept = [
        _indent(line)
        for number, line in enumerate(lines)
        if number not in drop and line.strip() and not line.lstrip().startswith("#")
    ]
    return "\n".join(kept) + "\n"


def _indent(line: str) -> str:
    """One space per level instead of four (ruff formats with four): a fifth of the
    code's size. Lines inside brackets may be indented any way, so the rounding down
    of a continuation line's odd indent changes nothing."""
    text = line.lstrip(" ")
    return " " * ((len(line) - len(text)) // 4) + text


def source(config: Config | None) -> str:
    """index.py: the hook's code followed by the config's plan; with ``None`` the
    prober's (prober.py: one request per invocation, judged by the hook)."""
    if config is None:
        return code_text(prober=True)
    # repr of the JSON text: a single-quoted Python string, so the JSON's double quotes
    # need no escape (the template quotes them once more)
    literal = json.dumps(plan(config), sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return code_text() + f"PLAN.update(json.loads({literal!r}))\n"


def archive(config: Config | None) -> bytes:
    """index.py zipped deterministically: same config, same bytes."""
    return zipped(source(config))


def zipped(text: str) -> bytes:
    """``text`` as index.py in a zip with a fixed timestamp and mode, as CloudFormation
    packages inline code (a file named index)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as package:
        entry = zipfile.ZipInfo("index.py", date_time=_ZIP_DATE)
        entry.external_attr = 0o644 << 16
        entry.compress_type = zipfile.ZIP_DEFLATED
        package.writestr(entry, text)
    return buffer.getvalue()


def digest(config: Config | None) -> str:
    """The package's SHA-256 as hex."""
    return hashlib.sha256(archive(config)).hexdigest()
