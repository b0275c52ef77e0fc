"""Writing the scaffold: all of it, or nothing.

``init`` checks every target path before it writes the first file, so a refusal leaves
the directory exactly as it was (exit 2, "nothing changed", as for every UsageError).
"""

from __future__ import annotations

from pathlib import Path

from bluegreen.appkit._render import render
from bluegreen.config import Config
from bluegreen.errors import OperationError, RepositoryError


def init(target: Path, config: Config | None = None, force: bool = False) -> list[Path]:
    """Write the application repository for ``config`` (default: the seed's) into ``target``.

    Creates ``target`` if needed. Refuses with RepositoryError, writing nothing, when a
    file it would write already exists, unless ``force``. Returns the written paths.
    """
    files = render(config if config is not None else Config())
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise RepositoryError(
            f"{target}: exists and is not a directory",
            hint="pass a new or existing directory to write the repository into",
        )
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
    return _write(target, files, "choose a directory you can write to")


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
    missing).
    """
    target = Path(target)
    files = render(config)
    missing = {rel: text for rel, text in files.items() if not (target / rel).exists()}
    return _write(target, missing, "check the directory's permissions")


def _write(target: Path, files: dict[str, str], hint: str) -> list[Path]:
    """Write ``files`` (repository path -> text) under ``target``, LF line ends."""
    written: list[Path] = []
    try:
        for rel, text in files.items():
            path = target / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
            written.append(path)
    except OSError as exc:
        raise OperationError(
            f"could not write the repository into {target}: {exc.strerror or exc} "
            f"({exc.filename}); {len(written)} of {len(files)} files were written",
            hint=hint,
        ) from None
    return written
