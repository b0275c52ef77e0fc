"""Writing the scaffold: all of it, or nothing, and never through a symbolic link.

``init`` checks every target path before it writes the first file, so a refusal leaves
the directory exactly as it was (exit 2, "nothing changed", as for every UsageError).

A repository may come from anywhere (a clone, an archive), and a symbolic link in it can
point anywhere: ``webapp -> /home/you/.ssh`` would make ``init --restore`` write files
there, ``README.md -> ../notes.txt`` would make ``init --force`` overwrite another file.
So no path below the target directory that init would write, nor any directory on the
way to it, may be a symbolic link (dangling or not); init refuses before writing
anything. The writes themselves do not follow links either: new files are created with
``O_CREAT | O_EXCL | O_NOFOLLOW`` (which fails on any existing entry, a link included)
and ``--force`` writes a new file next to the old one and renames it over it, which
replaces the directory entry instead of writing into whatever it pointed to.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from bluegreen.appkit._render import render
from bluegreen.config import Config
from bluegreen.errors import OperationError, RepositoryError

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # not on Windows, which has no such links by default


def init(target: Path, config: Config | None = None, force: bool = False) -> list[Path]:
    """Write the application repository for ``config`` (default: the seed's) into ``target``.

    Creates ``target`` if needed. Refuses with RepositoryError, writing nothing, when a
    file it would write already exists, unless ``force``, and always when a path it would
    write through is a symbolic link. Returns the written paths.
    """
    files = render(config if config is not None else Config())
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise RepositoryError(
            f"{target}: exists and is not a directory",
            hint="pass a new or existing directory to write the repository into",
        )
    _refuse_links(target, files)
    blocked = [rel for rel in files if _blocked(target / rel, force)]
    if blocked:
        listed = "\n".join(f"  {target / rel}" for rel in blocked)
        if force:
            raise RepositoryError(
                f"cannot write {len(blocked)} path(s) that exist as directories:\n{listed}",
                hint="move those directories away; --force only overwrites files",
            )
        raise RepositoryError(
            f"{len(blocked)} file(s) already exist in {target}; nothing was written:\n{listed}",
            hint="pass --force to overwrite them (your changes to them are lost), or choose "
            "another directory",
        )
    return _write(target, files, "choose a directory you can write to", replace=force)


def _blocked(path: Path, force: bool) -> bool:
    """Whether writing ``path`` must be refused: any existing entry, or with ``force`` one
    that is not a plain file (a directory or a parent that is a file)."""
    if not force:
        return path.exists() or path.is_symlink() or _parent_is_file(path)
    return (path.exists() and not path.is_file()) or _parent_is_file(path)


def _parent_is_file(path: Path) -> bool:
    return any(parent.exists() and not parent.is_dir() for parent in path.parents)


def restore(target: Path, config: Config) -> list[Path]:
    """Write the repository files missing from ``target``, rendered from ``config`` (the
    repository's own bluegreen.toml).

    Existing files are never touched; returns the written paths (empty when nothing was
    missing). Refuses, writing nothing, when a path it would write through is a symbolic
    link (a dangling link is not "missing": writing it would create its target).
    """
    target = Path(target)
    files = render(config)
    _refuse_links(target, files)
    missing = {rel: text for rel, text in files.items() if not os.path.lexists(target / rel)}
    return _write(target, missing, "check the directory's permissions", replace=False)


def symbolic_links(target: Path, paths: list[str]) -> list[Path]:
    """The symbolic links among ``paths`` (relative to ``target``) and the directories on
    the way to them, sorted; ``target`` itself is the caller's choice and not checked."""
    found: set[Path] = set()
    for rel in paths:
        here = target
        for part in Path(rel).parts:
            here = here / part
            if os.path.islink(here):
                found.add(here)
                break
            if not here.exists():
                break
    return sorted(found)


def _refuse_links(target: Path, files: dict[str, str]) -> None:
    links = symbolic_links(target, list(files))
    if not links:
        return
    listed = "\n".join(f"  {link} -> {os.readlink(link)}" for link in links)
    raise RepositoryError(
        f"{len(links)} path(s) init would write through are symbolic links; nothing was "
        f"written, because a link can point outside {target}:\n{listed}",
        hint="replace each link with a real file or directory (or delete it), then run the "
        "command again",
    )


def _write(target: Path, files: dict[str, str], hint: str, *, replace: bool) -> list[Path]:
    """Write ``files`` (repository path -> text) under ``target``, LF line ends, never
    through a link: new files with O_EXCL|O_NOFOLLOW; with ``replace``, a temporary file
    renamed over the old one."""
    written: list[Path] = []
    try:
        target.mkdir(parents=True, exist_ok=True)
        for rel, text in files.items():
            path = target / rel
            _make_directories(target, path.parent)
            data = text.encode("utf-8")
            if replace:
                _replace(path, data)
            else:
                _create(path, data)
            written.append(path)
    except OSError as exc:
        raise OperationError(
            f"could not write the repository into {target}: {exc.strerror or exc} "
            f"({exc.filename}); {len(written)} of {len(files)} files were written",
            hint=hint,
        ) from None
    return written


def _make_directories(target: Path, directory: Path) -> None:
    """Create ``directory`` below ``target`` one level at a time, refusing a level that is
    a link (one made after the check, by someone else)."""
    here = target
    for part in directory.relative_to(target).parts:
        here = here / part
        if not os.path.lexists(here):
            here.mkdir()
        if here.is_symlink() or not here.is_dir():
            raise NotADirectoryError(20, "not a directory of the repository", str(here))


def _create(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o666)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _replace(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    _create(temporary, data)
    try:
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)
        raise
