"""The hook function's package: hook.py with the config's plan, as reproducible bytes.

The stacks embed :func:`source` inline (AWS::Lambda::Function Code.ZipFile: "CFN places
it in a file named index and zips it to create a deployment package ... the first part
of the handler identifier must be index", the resource schema cfn-lint ships), so the
package needs no S3 bucket and the template stays the one artifact, with no account id.
:func:`archive` is the same file as a zip with fixed timestamps and permissions, for a
function created through the Lambda API (the rehearsal) and for comparing packages.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from importlib import resources
from typing import Any

from bluegreen.config import Config, VerifyConfig

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
    }


def hook_text() -> str:
    """The text of :mod:`bluegreen.verification.hook`, as shipped."""
    return resources.files("bluegreen.verification").joinpath("hook.py").read_text("utf-8")


def source(config: Config) -> str:
    """index.py: the hook's code followed by the config's plan."""
    literal = json.dumps(plan(config), sort_keys=True, ensure_ascii=True)
    return hook_text() + f"\n\nPLAN.update(json.loads({json.dumps(literal)}))\n"


def archive(config: Config) -> bytes:
    """index.py zipped deterministically: same config, same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as package:
        entry = zipfile.ZipInfo("index.py", date_time=_ZIP_DATE)
        entry.external_attr = 0o644 << 16
        entry.compress_type = zipfile.ZIP_DEFLATED
        package.writestr(entry, source(config))
    return buffer.getvalue()


def digest(config: Config) -> str:
    """The package's SHA-256 as hex."""
    return hashlib.sha256(archive(config)).hexdigest()
