"""cfn-lint as a library: check a synthesized template against the AWS resource schemas.

``lint_template(text, filename, regions)`` returns cfn-lint's findings as
:class:`Finding` values. It runs cfn-lint's default rule set (errors and warnings, as
the ``cfn-lint`` command does), optionally with the informational rules too.

Speed: importing cfn-lint takes about half a second and loading its rules another
quarter; both happen lazily on the first call (so commands that never lint never pay)
and the rule collection is reused by every later call in the process. A
``.cfnlintrc`` in the working directory or home is deliberately *not* consulted: the
same template must get the same verdict wherever ``bluegreen`` runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any, Literal

from bluegreen.errors import UsageError

Level = Literal["error", "warning", "informational"]

_LEVELS: dict[str, Level] = {
    "error": "error",
    "warning": "warning",
    "informational": "informational",
    "info": "informational",
}

DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class Finding:
    """One cfn-lint finding: where, which rule, how severe, what it says."""

    filename: str
    line: int
    column: int
    level: Level
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.filename}:{self.line}:{self.column}: {self.level} {self.rule} {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def cfn_lint_version() -> str:
    """The installed cfn-lint version (shown next to lint results)."""
    from cfnlint.version import __version__

    return str(__version__)


def _options(regions: list[str], include_informational: bool) -> Any:
    """cfn-lint's configuration for one run, from our arguments only (no .cfnlintrc)."""
    from cfnlint.config import ConfigMixIn

    options = ConfigMixIn(regions=regions, include_checks=["I"] if include_informational else [])
    options.file_args = {}  # ignore any .cfnlintrc (see the module docstring)
    return options


@lru_cache(maxsize=1)
def _rules() -> Any:
    """cfn-lint's built-in rules, loaded once per process the way its CLI loads them.

    Which rules apply (errors, warnings, informational) is decided per run from the
    run's configuration, so one loaded set serves every call.
    """
    from cfnlint.runner import Runner

    return Runner(_options([DEFAULT_REGION], False)).rules


def check_regions(regions: Sequence[str]) -> None:
    """Raise UsageError unless cfn-lint has resource schemas for every region."""
    from cfnlint.helpers import REGIONS

    unknown = [r for r in regions if r not in REGIONS]
    if unknown:
        raise UsageError(
            f"cfn-lint {cfn_lint_version()} has no resource schemas for region "
            f"{', '.join(unknown)}",
            hint="check project.region in bluegreen.toml (a typo?), or skip the check "
            "with --no-lint if the region is newer than cfn-lint",
        )


def lint_template(
    text: str,
    filename: str,
    regions: Sequence[str] | None = None,
    *,
    include_informational: bool = False,
) -> list[Finding]:
    """cfn-lint's findings for template ``text`` (YAML or JSON) in ``regions``.

    ``filename`` only labels the findings. ``regions`` defaults to us-east-1; pass the
    regions the template is deployed to, since resource schemas differ by region.
    A template that does not parse yields a single error finding (rule E0000). A
    region cfn-lint has no schemas for raises :class:`~bluegreen.errors.UsageError`.
    """
    from cfnlint.decode.decode import decode_str
    from cfnlint.runner import run_template_by_data

    region_list = list(regions) if regions else [DEFAULT_REGION]
    check_regions(region_list)
    template, matches = decode_str(text)
    if not matches and template is not None:
        options = _options(region_list, include_informational)
        matches = list(run_template_by_data(template, options, _rules()))
    findings = [
        Finding(
            filename=filename,
            line=int(match.linenumber),
            column=int(match.columnnumber),
            level=_LEVELS.get(str(match.rule.severity).lower(), "error"),
            rule=str(match.rule.id),
            message=str(match.message),
        )
        for match in matches
    ]
    return sorted(findings, key=lambda f: (f.line, f.column, f.rule, f.message))
