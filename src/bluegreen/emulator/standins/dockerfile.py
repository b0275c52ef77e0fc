"""A Dockerfile read as BuildKit reads it, and ``.dockerignore`` as the docker CLI applies it.

What the emulated ``docker build`` checks before it records an image (no layer is built
and no ``RUN`` runs: there is no container engine):

- the Dockerfile parses: instructions are the ones of the Dockerfile reference
  (https://docs.docker.com/reference/dockerfile/), line continuations with the escape
  character, comments and parser directives; an unknown instruction is BuildKit's
  ``dockerfile parse error on line N: unknown instruction: X``; a file with no instruction
  is ``file with no instructions``; an instruction before the first ``FROM`` (other than
  ``ARG``) is ``no build stage in current context`` (moby/buildkit
  frontend/dockerfile/instructions/parse.go; the texts users report, e.g. for a missing
  ``FROM``);
- every local source of ``COPY``/``ADD`` exists in the build context once
  ``.dockerignore`` is applied; a missing one is BuildKit's ``failed to compute cache key:
  failed to calculate checksum of ref <ref>: "/<src>": not found`` (moby/buildkit#4128,
  #4426);
- ``--from=<stage>`` names an earlier stage or an image (images are not pulled: see
  :mod:`bluegreen.emulator.standins.docker`).

What the final stage says about running the image (WORKDIR, ENV, ENTRYPOINT, CMD, EXPOSE,
USER, HEALTHCHECK, and the context files its ``COPY``/``ADD`` put into it) becomes the
image's :class:`bluegreen.emulator.images.ImageConfig`.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import posixpath
import re
from dataclasses import dataclass, field

# The instructions of the Dockerfile reference (case-insensitive).
INSTRUCTIONS = frozenset(
    {
        "ADD",
        "ARG",
        "CMD",
        "COPY",
        "ENTRYPOINT",
        "ENV",
        "EXPOSE",
        "FROM",
        "HEALTHCHECK",
        "LABEL",
        "MAINTAINER",
        "ONBUILD",
        "RUN",
        "SHELL",
        "STOPSIGNAL",
        "USER",
        "VOLUME",
        "WORKDIR",
    }
)
_DIRECTIVE = re.compile(r"#\s*([A-Za-z]+)\s*=\s*(\S+)\s*$")
_VARIABLE = re.compile(
    r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))"
)


class DockerfileError(Exception):
    """What BuildKit answers for a Dockerfile it cannot build (the text after ``ERROR: ``)."""


@dataclass(frozen=True)
class Instruction:
    line: int
    """The line the instruction starts on (1-based)."""
    keyword: str
    """Upper case."""
    text: str
    """Everything after the keyword, continuations joined."""


@dataclass
class Stage:
    base: str
    name: str | None
    index: int
    instructions: list[Instruction] = field(default_factory=list)


def parse(text: str) -> list[Instruction]:
    """The instructions of a Dockerfile (``DockerfileError`` when BuildKit refuses it)."""
    escape = "\\"
    lines = text.splitlines()
    directives = True
    instructions: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(lines, start=1):
        stripped = raw.strip()
        if directives:
            found = _DIRECTIVE.match(stripped)
            if found and found.group(1).lower() == "escape":
                escape = found.group(2)
                continue
            if found and found.group(1).lower() in ("syntax", "check"):
                continue
            directives = False
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and (stripped.startswith("#") or not stripped):
            continue  # comments and empty lines inside a continuation are skipped
        if not pending:
            start = number
        if stripped.endswith(escape):
            pending.append(stripped[: -len(escape)])
            continue
        pending.append(stripped)
        instructions.append(_instruction(start, " ".join(p.strip() for p in pending)))
        pending = []
    if pending:
        instructions.append(_instruction(start, " ".join(p.strip() for p in pending)))
    if not instructions:
        raise DockerfileError("failed to solve: file with no instructions")
    return instructions


def _instruction(line: int, text: str) -> Instruction:
    keyword, _, rest = text.partition(" ")
    if keyword.upper() not in INSTRUCTIONS:
        raise DockerfileError(
            f"failed to solve: dockerfile parse error on line {line}: unknown instruction: "
            f"{keyword}"
        )
    return Instruction(line, keyword.upper(), rest.strip())


def stages(instructions: list[Instruction]) -> tuple[dict[str, str], list[Stage]]:
    """The global ``ARG`` defaults and the build stages (``FROM`` to ``FROM``)."""
    global_args: dict[str, str] = {}
    found: list[Stage] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            words = [w for w in instruction.text.split() if not w.startswith("--")]
            if not words:
                raise DockerfileError(
                    f"failed to solve: dockerfile parse error on line {instruction.line}: "
                    "FROM requires either one or three arguments"
                )
            name = None
            if len(words) == 3 and words[1].lower() == "as":
                name = words[2].lower()
            elif len(words) != 1:
                raise DockerfileError(
                    f"failed to solve: dockerfile parse error on line {instruction.line}: "
                    "FROM requires either one or three arguments"
                )
            found.append(Stage(words[0], name, len(found)))
        elif not found:
            if instruction.keyword != "ARG":
                raise DockerfileError("failed to solve: no build stage in current context")
            for name, value in _arg_pairs(instruction.text):
                global_args[name] = value or ""
        else:
            found[-1].instructions.append(instruction)
    if not found:
        raise DockerfileError("failed to solve: no build stage in current context")
    return global_args, found


def substitute(text: str, variables: dict[str, str]) -> str:
    """``$VAR``, ``${VAR}``, ``${VAR:-default}`` and ``${VAR:+alternative}`` (the Dockerfile
    reference, "Environment replacement")."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(4)
        value = variables.get(name, "")
        operator, word = match.group(2), match.group(3) or ""
        if operator == "-":
            return value or word
        if operator == "+":
            return word if value else ""
        return value

    return _VARIABLE.sub(one, text)


def words(text: str) -> list[str]:
    """The arguments of an instruction: a JSON array (exec form), else whitespace-separated
    words with quotes removed."""
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            parsed = json.loads(stripped)
        except ValueError:
            parsed = None
        if isinstance(parsed, list) and all(isinstance(p, str) for p in parsed):
            return list(parsed)
    import shlex

    try:
        return shlex.split(stripped)
    except ValueError:
        return stripped.split()


def exec_form(text: str) -> tuple[str, ...]:
    """CMD/ENTRYPOINT as Docker runs them: the JSON array, or ``/bin/sh -c <text>``."""
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            parsed = json.loads(stripped)
        except ValueError:
            parsed = None
        if isinstance(parsed, list) and all(isinstance(p, str) for p in parsed):
            return tuple(parsed)
    return ("/bin/sh", "-c", stripped)


def _arg_pairs(text: str) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for word in words(text):
        name, sep, value = word.partition("=")
        out.append((name, value if sep else None))
    return out


def env_pairs(text: str) -> list[tuple[str, str]]:
    """``ENV k=v k2="v 2"`` or the legacy ``ENV k v``."""
    parts = words(text)
    if parts and "=" not in parts[0]:
        name, _, value = text.strip().partition(" ")
        return [(name, value.strip())]
    return [(p.partition("=")[0], p.partition("=")[2]) for p in parts if "=" in p]


# ----------------------------------------------------------------------------- .dockerignore


@dataclass(frozen=True)
class _Rule:
    pattern: str
    exclude: bool  # False for a "!" exception


def ignore_rules(text: str) -> list[_Rule]:
    """The rules of a ``.dockerignore`` (docker docs, "Build context: .dockerignore files":
    one pattern per line, ``#`` comments, ``!`` exceptions, Go ``filepath.Match`` patterns
    plus ``**`` for any number of directories; paths are cleaned and relative to the
    context root)."""
    rules: list[_Rule] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclude = not line.startswith("!")
        pattern = line[1:].strip() if not exclude else line
        pattern = posixpath.normpath(pattern.lstrip("/")) if pattern else pattern
        if pattern and pattern != ".":
            rules.append(_Rule(pattern, exclude))
    return rules


def ignored(path: str, rules: list[_Rule]) -> bool:
    """Whether the context file ``path`` is left out (the last matching rule wins; a
    pattern matching a parent directory matches everything under it)."""
    result = False
    parts = path.split("/")
    for rule in rules:
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(_match(rule.pattern, prefix) for prefix in prefixes):
            result = rule.exclude
    return result


def _match(pattern: str, path: str) -> bool:
    """A Go ``filepath.Match`` pattern with ``**`` (matching any number of path parts)."""
    return _match_parts(pattern.split("/"), path.split("/"))


def _match_parts(pattern: list[str], parts: list[str]) -> bool:
    if not pattern:
        return not parts
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_match_parts(rest, parts[i:]) for i in range(len(parts) + 1))
    if not parts:
        return False
    return fnmatch.fnmatchcase(parts[0], head) and _match_parts(rest, parts[1:])


def entries(pattern: str, files: dict[str, bytes]) -> list[tuple[str, bool]]:
    """What a COPY/ADD source names in the context: ``(path, is_directory)`` entries (the
    context root is ``""``); a wildcard may match files and directories (the Dockerfile
    reference, COPY: "Each <src> may contain wildcards and matching will be done using
    Go's filepath.Match rules"). Empty: nothing matches."""
    clean = posixpath.normpath(pattern.lstrip("/"))
    if clean in ("", "."):
        return [("", True)]
    if not any(c in clean for c in "*?["):
        if clean in files:
            return [(clean, False)]
        if any(p.startswith(clean + "/") for p in files):
            return [(clean, True)]
        return []
    depth = clean.count("/") + 1
    found: dict[str, bool] = {}
    for path in sorted(files):
        parts = path.split("/")
        if len(parts) < depth:
            continue
        entry = "/".join(parts[:depth])
        if _match(clean, entry):
            found[entry] = found.get(entry, False) or len(parts) > depth
    return sorted(found.items())


def checksum_ref(context: dict[str, bytes]) -> str:
    """A stable stand-in for BuildKit's ``<session>::<ref>`` of a build context."""
    digest = hashlib.sha256()
    for path in sorted(context):
        digest.update(path.encode() + b"\0" + hashlib.sha256(context[path]).digest())
    text = digest.hexdigest()
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    first = "".join(alphabet[int(text[i : i + 2], 16) % 36] for i in range(0, 50, 2))
    return f"{first[:25]}::{first[5:25]}"
