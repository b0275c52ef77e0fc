"""The app build's substitution of the stack-derived placeholders in taskdef.json.

The app's buildspec.yml does this with ``sed`` in CodeBuild; the rehearsal calls
:func:`render_taskdef` to play the same build offline. The two must agree byte for byte
(a test runs the buildspec's sed line and compares), so this function replaces exactly
what sed replaces: each placeholder, literally, everywhere. Values that sed's
replacement syntax would change (``&``, ``\\``, the ``|`` delimiter) or that would break
the JSON (``"``, control characters) are refused instead; no valid ARN or region holds
them.
"""

from __future__ import annotations

from collections.abc import Mapping

from bluegreen import names
from bluegreen.errors import RepositoryError

# environment variable -> placeholder it replaces, in the buildspec's sed order
SUBSTITUTIONS: tuple[tuple[str, str], ...] = (
    ("TASK_ROLE_ARN", names.TASK_ROLE_PLACEHOLDER),
    ("EXECUTION_ROLE_ARN", names.EXECUTION_ROLE_PLACEHOLDER),
    ("AWS_REGION", names.REGION_PLACEHOLDER),
)

_UNSAFE = frozenset('&\\|"') | frozenset(chr(code) for code in range(32)) | {"\x7f"}


def render_taskdef(text: str, env: Mapping[str, str]) -> str:
    """taskdef.json with the role ARNs and region filled in from ``env``.

    ``<IMAGE1_NAME>`` and ``<IMAGE2_NAME>`` stay: CodeDeployToECS fills them from the
    builds' imageDetail.json. Raises RepositoryError naming a missing (or empty) key, as
    the buildspec's pre_build check fails the build for it.
    """
    missing = [key for key, _ in SUBSTITUTIONS if not env.get(key)]
    if missing:
        raise RepositoryError(
            f"taskdef.json: cannot fill in the placeholders: {', '.join(missing)} not set",
            hint="the app's CodeBuild project sets TASK_ROLE_ARN and EXECUTION_ROLE_ARN from "
            "the service stack's outputs, and CodeBuild sets AWS_REGION; deploy the service "
            "stack before the pipeline stack",
        )
    for key, _ in SUBSTITUTIONS:
        bad = sorted({char for char in env[key] if char in _UNSAFE})
        if bad:
            raise RepositoryError(
                f"taskdef.json: {key}={env[key]!r} contains {', '.join(map(repr, bad))}, "
                "which the build's sed substitution would not copy literally",
                hint=f"{key} must be an ARN or region code as AWS writes it",
            )
    for key, placeholder in SUBSTITUTIONS:
        text = text.replace(placeholder, env[key])
    return text
