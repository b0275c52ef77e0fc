"""What a container built from a Dockerfile holds and runs: the image the data plane starts.

The emulator records the files an image was built from (``emulator.images[uri]``: its
build context). From the context's ``Dockerfile`` this module works out what the final
stage of the build leaves in the image, as Docker's builder does (Dockerfile reference,
https://docs.docker.com/reference/dockerfile/):

- the files ``COPY``/``ADD`` put in the image from the build context (``.dockerignore``
  applied: https://docs.docker.com/build/concepts/context/#dockerignore-files) or from an
  earlier stage (``COPY --from=<stage>``), at the paths they name, relative ones against
  the ``WORKDIR`` in force;
- ``ENV`` (both ``KEY=value`` and the legacy ``KEY value``), ``ARG`` defaults for
  substitution, ``WORKDIR``, ``USER``, ``EXPOSE``, ``CMD`` and ``ENTRYPOINT`` (exec form
  as a JSON array, shell form run by ``/bin/sh -c``), inherited through ``FROM <stage>``;
- the base image of the final stage (the ``FROM`` chain followed through stages).

What ``RUN`` does cannot be known without running it (no container engine here): files
it writes are missing from the image, and a ``pip install`` is taken to install the
requirements files it names (:attr:`Image.requirements`), which the data plane finds in
its own interpreter or reports as missing. ``ADD`` of a URL or of an archive to unpack is
not followed either.
"""

from __future__ import annotations

import fnmatch
import json
import posixpath
import re
import shlex
from dataclasses import dataclass, field

DOCKERFILE = "Dockerfile"

_PYTHON_IMAGE = re.compile(r"^(?:[^/]+\.[^/]+/)?(?:[\w.-]+/)*python(?::(?P<tag>[^@]+))?(?:@.*)?$")
"""The official Python image under any registry path: ``python:3.12-slim``,
``docker.io/library/python:3.12``, ``public.ecr.aws/docker/library/python:3.12.8-slim``."""


class DockerfileError(ValueError):
    """A Dockerfile Docker's builder would refuse (the build would fail)."""


@dataclass
class Stage:
    """What one build stage holds so far."""

    name: str
    base: str  # the image it starts from ("" when it starts from another stage)
    parent: str = ""  # the stage it starts from
    env: dict[str, str] = field(default_factory=dict)
    args: dict[str, str] = field(default_factory=dict)
    workdir: str = "/"
    user: str = ""
    cmd: list[str] | None = None
    entrypoint: list[str] | None = None
    exposed: list[int] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)  # absolute path -> bytes


@dataclass(frozen=True)
class Image:
    """The final stage of a build: what a container of the image starts with."""

    base: str
    env: dict[str, str]
    workdir: str
    user: str
    cmd: list[str] | None
    entrypoint: list[str] | None
    exposed: tuple[int, ...]
    files: dict[str, bytes]
    requirements: tuple[str, ...]  # requirements files a RUN pip install -r names
    packages: tuple[str, ...]  # packages a RUN pip install names directly
    notes: tuple[str, ...] = ()

    @property
    def python(self) -> bool:
        """Whether the image is built on the official Python image."""
        return is_python_image(self.base)


def is_python_image(reference: str) -> bool:
    return bool(_PYTHON_IMAGE.match(reference.strip()))


def python_base(reference: str) -> Image:
    """A container of the official Python image itself (no Dockerfile of ours): its
    ``CMD ["python3"]`` and ``LANG`` (docker-library/python's Dockerfiles)."""
    match = _PYTHON_IMAGE.match(reference.strip())
    tag = (match["tag"] if match else "") or ""
    env = {"LANG": "C.UTF-8"}
    version = tag.split("-", 1)[0]
    if re.fullmatch(r"\d+\.\d+\.\d+", version):
        env["PYTHON_VERSION"] = version
    return Image(reference, env, "/", "", ["python3"], None, (), {}, (), ())


def image(context: dict[str, bytes], dockerfile: str = DOCKERFILE) -> Image:
    """The image ``docker build`` makes from ``context`` (path -> bytes)."""
    source = context.get(dockerfile)
    if source is None:
        raise DockerfileError(f"the build context has no {dockerfile}")
    visible = _without_ignored(context)
    stages: dict[str, Stage] = {}
    order: list[Stage] = []
    global_args: dict[str, str] = {}
    requirements: list[str] = []
    packages: list[str] = []
    notes: list[str] = []
    current: Stage | None = None
    for keyword, rest in _instructions(source.decode("utf-8", errors="replace")):
        if keyword == "FROM":
            current = _from(rest, stages, order, global_args)
            continue
        if keyword == "ARG" and current is None:
            for name, value in _args(rest).items():
                global_args[name] = value
            continue
        if current is None:
            raise DockerfileError(f"{keyword} before the first FROM")
        _apply(current, keyword, rest, visible, stages, order, requirements, packages, notes)
    if current is None:
        raise DockerfileError(f"{dockerfile} has no FROM instruction")
    base = _root_base(current, stages)
    return Image(
        base=base,
        env=dict(current.env),
        workdir=current.workdir,
        user=current.user,
        cmd=None if current.cmd is None else list(current.cmd),
        entrypoint=None if current.entrypoint is None else list(current.entrypoint),
        exposed=tuple(current.exposed),
        files=dict(current.files),
        requirements=tuple(dict.fromkeys(requirements)),
        packages=tuple(dict.fromkeys(packages)),
        notes=tuple(dict.fromkeys(notes)),
    )


# ----------------------------------------------------------------------------- parsing


def _instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction: comments dropped, continuation lines joined
    (the default escape character, a backslash at the end of a line)."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.rstrip()
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # a comment inside a continued instruction is removed
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        pending += line
        words = pending.strip().split(None, 1)
        if words:
            out.append((words[0].upper(), words[1] if len(words) > 1 else ""))
        pending = ""
    if pending.strip():
        words = pending.strip().split(None, 1)
        out.append((words[0].upper(), words[1] if len(words) > 1 else ""))
    return out


def _from(
    rest: str, stages: dict[str, Stage], order: list[Stage], global_args: dict[str, str]
) -> Stage:
    words = [w for w in rest.split() if not w.startswith("--")]
    if not words:
        raise DockerfileError("FROM needs an image")
    reference = _substitute(words[0], global_args)
    name = str(len(order))
    if len(words) >= 3 and words[1].upper() == "AS":
        name = words[2].lower()
    parent = stages.get(reference.lower())
    if parent is not None:
        stage = Stage(
            name,
            "",
            parent=parent.name,
            env=dict(parent.env),
            args={},
            workdir=parent.workdir,
            user=parent.user,
            cmd=None if parent.cmd is None else list(parent.cmd),
            entrypoint=None if parent.entrypoint is None else list(parent.entrypoint),
            exposed=list(parent.exposed),
            files=dict(parent.files),
        )
    else:
        stage = Stage(name, reference)
        if is_python_image(reference):
            base = python_base(reference)
            stage.env.update(base.env)
            stage.cmd = list(base.cmd or [])
    stages[name] = stage
    stages[str(len(order))] = stage
    order.append(stage)
    return stage


def _root_base(stage: Stage, stages: dict[str, Stage]) -> str:
    seen = 0
    while stage.parent and seen < 100:
        stage = stages[stage.parent]
        seen += 1
    return stage.base


def _apply(
    stage: Stage,
    keyword: str,
    rest: str,
    context: dict[str, bytes],
    stages: dict[str, Stage],
    order: list[Stage],
    requirements: list[str],
    packages: list[str],
    notes: list[str],
) -> None:
    scope = {**stage.args, **stage.env}
    if keyword == "ENV":
        for name, value in _pairs(rest, legacy=True).items():
            stage.env[name] = _substitute(value, scope)
            scope[name] = stage.env[name]
    elif keyword == "ARG":
        for name, value in _args(rest).items():
            stage.args[name] = _substitute(value, scope)
    elif keyword == "WORKDIR":
        path = _substitute(rest.strip(), scope)
        stage.workdir = posixpath.normpath(posixpath.join(stage.workdir, path))
    elif keyword == "USER":
        stage.user = _substitute(rest.strip(), scope)
    elif keyword == "EXPOSE":
        for word in rest.split():
            port = _substitute(word, scope).split("/", 1)[0]
            if port.isdigit():
                stage.exposed.append(int(port))
    elif keyword in ("CMD", "ENTRYPOINT"):
        command = _command(rest)
        if keyword == "CMD":
            stage.cmd = command
        else:
            stage.entrypoint = command
            # "If CMD is defined from the base image, setting ENTRYPOINT will reset CMD to
            # an empty value" (Dockerfile reference, ENTRYPOINT).
            stage.cmd = None
    elif keyword in ("COPY", "ADD"):
        _copy(stage, keyword, rest, scope, context, stages, notes)
    elif keyword == "RUN":
        requirements.extend(_pip_requirements(rest))
        packages.extend(_pip_packages(rest))


def _command(rest: str) -> list[str]:
    text = rest.strip()
    if text.startswith("["):
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return list(value)
    # The shell form: "the command is run in a shell, which by default is /bin/sh -c".
    return ["/bin/sh", "-c", text]


def _pairs(rest: str, legacy: bool) -> dict[str, str]:
    text = rest.strip()
    try:
        words = shlex.split(text, posix=True)
    except ValueError:
        words = text.split()
    if legacy and words and "=" not in words[0]:
        # The legacy form: ENV KEY value (the rest of the line is the value).
        name, _, value = text.partition(" ")
        return {name: value.strip()}
    out: dict[str, str] = {}
    for word in words:
        name, _, value = word.partition("=")
        if name:
            out[name] = value
    return out


def _args(rest: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for word in rest.split():
        name, _, value = word.partition("=")
        out[name] = value.strip('"').strip("'")
    return out


_VARIABLE = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


def _substitute(text: str, scope: dict[str, str]) -> str:
    """``$VAR``, ``${VAR}`` and ``${VAR:-default}`` (Dockerfile reference, "Environment
    replacement")."""

    def one(match: re.Match[str]) -> str:
        name = match["braced"] or match["bare"]
        value = scope.get(name, "")
        if match["default"] is not None and not value:
            return match["default"]
        return value

    return _VARIABLE.sub(one, text)


def _copy(
    stage: Stage,
    keyword: str,
    rest: str,
    scope: dict[str, str],
    context: dict[str, bytes],
    stages: dict[str, Stage],
    notes: list[str],
) -> None:
    text = rest.strip()
    words: list[str]
    if text.startswith("["):
        try:
            loaded = json.loads(text)
            words = [str(w) for w in loaded] if isinstance(loaded, list) else []
        except json.JSONDecodeError:
            words = text.split()
    else:
        flags_and_paths = text.split()
        words = flags_and_paths
    origin: str | None = None
    paths: list[str] = []
    for word in words:
        if word.startswith("--from="):
            origin = word.split("=", 1)[1].lower()
        elif word.startswith("--"):
            continue
        else:
            paths.append(_substitute(word, scope))
    if len(paths) < 2:
        raise DockerfileError(f"{keyword} needs a source and a destination: {rest!r}")
    *sources, destination = paths
    if origin is not None:
        other = stages.get(origin)
        if other is None:
            notes.append(
                f"{keyword} --from={origin}: files of another image are not in the build "
                "context; left out"
            )
            return
        available = other.files
        sources = [posixpath.normpath(posixpath.join(other.workdir, s)) for s in sources]
        sources = [s.lstrip("/") for s in sources]
        available = {k.lstrip("/"): v for k, v in available.items()}
    else:
        available = context
    target = destination
    if not target.startswith("/"):
        target = posixpath.join(stage.workdir, target)
    target = posixpath.normpath(target)
    # A destination ending in "/", or one that is a directory already (".", the WORKDIR,
    # a directory copied before), takes the file inside it; otherwise it names the file.
    is_dir_target = (
        destination.endswith("/")
        or len(sources) > 1
        or target == posixpath.normpath(stage.workdir)
        or any(p.startswith(target + "/") for p in stage.files)
    )
    for source in sources:
        if keyword == "ADD" and re.match(r"^[a-z]+://", source):
            notes.append(f"ADD {source}: a download is not followed; left out")
            continue
        clean = posixpath.normpath(source).lstrip("/")
        clean = "" if clean == "." else clean
        matched = False
        for path in sorted(available):
            relative = _relative(path, clean)
            if relative is None:
                continue
            matched = True
            if relative == "":
                # A file copied by name.
                name = posixpath.basename(path)
                where = posixpath.join(target, name) if is_dir_target else target
            else:
                # The contents of a directory (or of the context), not the directory itself.
                where = posixpath.join(target, relative)
            stage.files[posixpath.normpath(where)] = available[path]
        if not matched and origin is None:
            raise DockerfileError(f'{keyword} failed: "{source}" not found in the build context')


def _relative(path: str, source: str) -> str | None:
    """Where ``path`` lands below a copy of ``source``: "" for the file itself, its path
    inside a copied directory, or None when the copy does not take it."""
    if any(ch in source for ch in "*?["):
        if fnmatch.fnmatchcase(path, source):
            return ""
        parts = path.split("/")
        for i in range(1, len(parts)):
            if fnmatch.fnmatchcase("/".join(parts[:i]), source):
                return "/".join(parts[i - 1 :])
        return None
    if source == "":
        return path
    if path == source:
        return ""
    if path.startswith(source + "/"):
        return path[len(source) + 1 :]
    return None


def _without_ignored(context: dict[str, bytes]) -> dict[str, bytes]:
    """The context without what ``.dockerignore`` excludes (its last matching line wins;
    ``!`` re-includes; a pattern also excludes what is below a matched directory)."""
    ignore = context.get(".dockerignore")
    if ignore is None:
        return dict(context)
    rules: list[tuple[bool, str]] = []
    for raw in ignore.decode("utf-8", errors="replace").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keep = line.startswith("!")
        pattern = posixpath.normpath(line[1:].strip() if keep else line).lstrip("/")
        rules.append((keep, pattern))
    out: dict[str, bytes] = {}
    for path, data in context.items():
        excluded = False
        for keep, pattern in rules:
            if _ignored(path, pattern):
                excluded = not keep
        # Docker always sends the Dockerfile and .dockerignore to the builder.
        if not excluded or path in (DOCKERFILE, ".dockerignore"):
            out[path] = data
    return out


def _ignored(path: str, pattern: str) -> bool:
    parts = path.split("/")
    return any(_match("/".join(parts[: i + 1]), pattern) for i in range(len(parts)))


def _match(path: str, pattern: str) -> bool:
    if "**" in pattern:
        regex = (
            "^"
            + re.escape(pattern)
            .replace(r"\*\*/", "(?:.*/)?")
            .replace(r"\*\*", ".*")
            .replace(r"\*", "[^/]*")
            .replace(r"\?", "[^/]")
            + "$"
        )
        return re.match(regex, path) is not None
    if path.count("/") != pattern.count("/"):
        return False
    return fnmatch.fnmatchcase(path, pattern)


def _pip_segments(command: str) -> list[list[str]]:
    """The words of each ``pip`` command of a RUN (split at ``&&``, ``||``, ``;``, ``|``),
    from the word after ``pip`` on."""
    try:
        words = shlex.split(command)
    except ValueError:
        words = command.split()
    segments: list[list[str]] = [[]]
    for word in words:
        if word in ("&&", "||", ";", "|"):
            segments.append([])
        else:
            segments[-1].append(word)
    out = []
    for segment in segments:
        for i, word in enumerate(segment):
            if re.fullmatch(r"(?:.*/)?pip(?:3(?:\.\d+)?)?", word) or (
                word == "pip" and i > 0 and segment[i - 1] == "-m"
            ):
                out.append(segment[i + 1 :])
                break
    return out


def _pip_requirements(command: str) -> list[str]:
    """The requirements files ``pip install|wheel|download -r FILE`` names in a RUN."""
    found = []
    for words in _pip_segments(command):
        for i, word in enumerate(words):
            if word in ("-r", "--requirement") and i + 1 < len(words):
                found.append(words[i + 1])
            elif word.startswith("--requirement="):
                found.append(word.split("=", 1)[1])
            elif word.startswith("-r") and len(word) > 2:
                found.append(word[2:])
    return found


_PIP_VALUE_OPTIONS = frozenset(
    (
        "-r",
        "--requirement",
        "-c",
        "--constraint",
        "-t",
        "--target",
        "-i",
        "--index-url",
        "--extra-index-url",
        "-f",
        "--find-links",
        "--prefix",
        "--root",
        "--wheel-dir",
        "-w",
    )
)


def _pip_packages(command: str) -> list[str]:
    """Packages ``pip install NAME...`` names directly (not files, paths or options)."""
    out: list[str] = []
    for words in _pip_segments(command):
        if not words or words[0] != "install":
            continue
        skip = False
        for arg in words[1:]:
            if skip:
                skip = False
                continue
            if arg.startswith("-"):
                skip = arg in _PIP_VALUE_OPTIONS
                continue
            if "/" in arg or arg.startswith(".") or arg.endswith((".whl", ".tar.gz", ".zip")):
                continue
            name = re.split(r"[<>=!~\[; ]", arg, maxsplit=1)[0]
            if name:
                out.append(name)
    return out
