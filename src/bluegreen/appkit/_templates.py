"""Template files in package data and the one substitution rule applied to them.

Templates live in ``bluegreen/appkit/files/`` with a ``.tmpl`` suffix, so that neither
Python tooling nor git treats them as live files of this package (a template
``.gitignore`` would otherwise apply to this repository). A placeholder is
``{{name}}``: a syntax that none of the generated file kinds (shell, YAML, JSON, TOML,
Dockerfile, Fluent Bit, Python) use, so no escaping is needed in the templates. Every
placeholder must have a value and no braces may be left over: a typo in a template is
a bug and fails loudly instead of shipping ``{{nmae}}`` to a user's repository.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from importlib import resources

_PLACEHOLDER = re.compile(r"\{\{([a-z][a-z0-9_]*)\}\}")


def load(name: str) -> str:
    """The text of template ``name`` (a path under ``files/``, without ``.tmpl``)."""
    *folders, file = name.split("/")
    path = resources.files("bluegreen.appkit").joinpath("files", *folders, file + ".tmpl")
    return path.read_text(encoding="utf-8")


def fill(text: str, values: Mapping[str, str], name: str = "template") -> str:
    """Replace every ``{{key}}`` in ``text`` with ``values[key]``.

    Raises KeyError for a placeholder without a value and ValueError when ``{{`` or
    ``}}`` survive (a malformed placeholder); both are bugs in bluegreen, not user errors.
    """

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise KeyError(f"{name}: no value for placeholder {{{{{key}}}}}")
        return values[key]

    # Values are inserted verbatim (a greeting may well contain braces), so look for
    # malformed markers in the template's own text, with the good placeholders removed.
    for marker in ("{{", "}}"):
        if marker in _PLACEHOLDER.sub("", text):
            raise ValueError(f"{name}: malformed placeholder near {marker!r}")
    return _PLACEHOLDER.sub(replace, text)
