"""Bare git repositories: the storage of the emulated CodeCommit.

Each CodeCommit repository is a real bare repository under the emulator's work
directory, so commit and tree ids are git's own ids and a person can ``git push`` to it
(:meth:`bluegreen.emulator.services.codecommit.CodeCommit.local_remote`).

Objects the API writes (CreateCommit: blobs, trees, a commit) are written here as loose
objects: git's object format is fixed (``<type> <size>\\0<content>``, zlib-compressed,
named by its SHA-1), and writing them directly keeps a 20-file commit to microseconds.
Objects are read the same way, with ``git cat-file`` as the fallback for objects a push
stored in a pack. Git itself runs as a subprocess for what must be atomic against a
concurrent push (``update-ref`` with the expected old value) and to create repositories.

Every git process runs in an isolated environment: no system or global configuration,
no hooks, a private HOME, no terminal prompts (the same isolation as the rehearsal's
``bluegreen.rehearse.repository``). Dates come from the caller (the simulated clock),
so the same calls give the same commit ids.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ZERO = "0" * 40

# Tree entry modes (git's own; ``40000`` is written without a leading zero).
NORMAL = "100644"
EXECUTABLE = "100755"
SYMLINK = "120000"
TREE = "40000"
GITLINK = "160000"


class GitError(Exception):
    """A git command failed, or an object is missing or malformed."""


class RefConflict(GitError):
    """A ref was not at the expected old value (someone else moved it)."""


@dataclass(frozen=True)
class Entry:
    """One entry of a tree: a file (blob), a folder (tree) or a submodule (commit)."""

    mode: str
    sha: str

    @property
    def kind(self) -> str:
        if self.mode == TREE:
            return "tree"
        if self.mode == GITLINK:
            return "commit"
        return "blob"


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    seconds: int
    offset: str = "+0000"

    def line(self) -> str:
        return f"{self.name} <{self.email}> {self.seconds} {self.offset}"

    @property
    def date(self) -> str:
        """CodeCommit's UserInfo date: ``"<unix seconds> <offset>"`` (GetCommit)."""
        return f"{self.seconds} {self.offset}"


@dataclass(frozen=True)
class Commit:
    sha: str
    tree: str
    parents: tuple[str, ...]
    author: Person
    committer: Person
    message: str


def git_environment(home: Path) -> dict[str, str]:
    """The environment every git process runs in: nothing from the user's setup."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
        "LC_ALL": "C",
    }


def require_git() -> None:
    if shutil.which("git") is None:
        raise GitError("the emulated CodeCommit needs git and git is not on PATH")


class Repository:
    """A bare git repository."""

    def __init__(self, path: Path, home: Path) -> None:
        self.path = path
        self.home = home
        self._env = git_environment(home)

    # -- git as a subprocess --------------------------------------------------------------
    def run(self, *args: str, stdin: bytes | None = None) -> bytes:
        command = ["git", "-c", "core.hooksPath=/dev/null", *args]
        done = subprocess.run(
            command,
            cwd=self.path,
            env=self._env,
            input=stdin,
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            message = done.stderr.decode(errors="replace").strip()
            raise GitError(f"git {' '.join(args)}: {message}")
        return done.stdout

    @classmethod
    def create(cls, path: Path, home: Path) -> Repository:
        """A new empty bare repository (what CreateRepository makes)."""
        require_git()
        home.mkdir(parents=True, exist_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["git", "init", "--bare", "--quiet", str(path)],
            env=git_environment(home),
            capture_output=True,
            check=True,
        )
        repo = cls(path, home)
        # Pushed objects stay loose (readable without git), and nothing repacks them
        # behind the emulator's back; git-config(1) receive.unpackLimit, gc.auto.
        for key, value in (
            ("receive.unpackLimit", "1000000"),
            ("gc.auto", "0"),
            ("receive.autogc", "false"),
            ("core.logAllRefUpdates", "false"),
        ):
            repo.run("config", key, value)
        return repo

    # -- objects ------------------------------------------------------------------------------
    def _object_path(self, sha: str) -> Path:
        return self.path / "objects" / sha[:2] / sha[2:]

    def write(self, kind: str, data: bytes) -> str:
        """Store an object (loose) and return its id."""
        raw = f"{kind} {len(data)}\0".encode() + data
        sha = hashlib.sha1(raw, usedforsecurity=False).hexdigest()
        target = self._object_path(sha)
        if not target.exists():
            target.parent.mkdir(exist_ok=True)
            temporary = target.with_name(f"tmp_{sha[2:]}_{os.getpid()}")
            temporary.write_bytes(zlib.compress(raw))
            os.replace(temporary, target)
        return sha

    def read(self, sha: str) -> tuple[str, bytes]:
        """An object's type and content."""
        path = self._object_path(sha)
        if path.is_file():
            raw = zlib.decompress(path.read_bytes())
            header, _, data = raw.partition(b"\0")
            kind, _, _size = header.decode().partition(" ")
            return kind, data
        return self._read_packed(sha)

    def _read_packed(self, sha: str) -> tuple[str, bytes]:
        out = self.run("cat-file", "--batch", stdin=f"{sha}\n".encode())
        header, _, rest = out.partition(b"\n")
        fields = header.decode().split()
        if len(fields) != 3 or fields[1] == "missing":
            raise GitError(f"object {sha} does not exist")
        size = int(fields[2])
        return fields[1], rest[:size]

    def has(self, sha: str) -> bool:
        try:
            self.read(sha)
        except GitError:
            return False
        return True

    def blob_id(self, data: bytes) -> str:
        """git's id of a blob with this content (without storing it)."""
        raw = f"blob {len(data)}\0".encode() + data
        return hashlib.sha1(raw, usedforsecurity=False).hexdigest()

    # -- commits and trees --------------------------------------------------------------------
    def commit(self, sha: str) -> Commit:
        kind, data = self.read(sha)
        if kind != "commit":
            raise GitError(f"{sha} is a {kind}, not a commit")
        head, _, message = data.decode("utf-8", errors="replace").partition("\n\n")
        tree, parents = "", []
        author = committer = Person("", "", 0)
        for line in head.splitlines():
            key, _, value = line.partition(" ")
            if key == "tree":
                tree = value
            elif key == "parent":
                parents.append(value)
            elif key in ("author", "committer"):
                person = _person(value)
                if key == "author":
                    author = person
                else:
                    committer = person
        return Commit(sha, tree, tuple(parents), author, committer, message)

    def write_commit(
        self,
        tree: str,
        parents: Iterable[str],
        author: Person,
        committer: Person,
        message: str,
    ) -> str:
        lines = [f"tree {tree}"]
        lines += [f"parent {parent}" for parent in parents]
        lines += [f"author {author.line()}", f"committer {committer.line()}"]
        text = "\n".join(lines) + "\n\n" + message
        return self.write("commit", text.encode("utf-8"))

    def tree(self, sha: str) -> dict[str, Entry]:
        """The entries of one tree: name -> entry."""
        kind, data = self.read(sha)
        if kind != "tree":
            raise GitError(f"{sha} is a {kind}, not a tree")
        entries: dict[str, Entry] = {}
        index = 0
        while index < len(data):
            space = data.index(b" ", index)
            nul = data.index(b"\0", space)
            mode = data[index:space].decode()
            name = data[space + 1 : nul].decode("utf-8", errors="surrogateescape")
            entries[name] = Entry(mode, data[nul + 1 : nul + 21].hex())
            index = nul + 21
        return entries

    def files(self, tree: str, prefix: str = "") -> dict[str, Entry]:
        """Every non-folder entry under a tree, by full path."""
        out: dict[str, Entry] = {}
        for name, entry in self.tree(tree).items():
            path = f"{prefix}{name}"
            if entry.mode == TREE:
                out.update(self.files(entry.sha, f"{path}/"))
            else:
                out[path] = entry
        return out

    def folder(self, tree: str, path: str) -> Entry | None:
        """The tree entry at ``path`` ('' is the root), or None."""
        entry = Entry(TREE, tree)
        for part in [p for p in path.split("/") if p]:
            if entry.mode != TREE:
                return None
            found = self.tree(entry.sha).get(part)
            if found is None:
                return None
            entry = found
        return entry

    def write_tree(self, files: dict[str, Entry]) -> str:
        """Write the trees holding ``files`` (full path -> entry); the root tree's id."""
        children: dict[str, dict[str, Entry]] = {}
        here: dict[str, Entry] = {}
        for path, entry in files.items():
            first, slash, rest = path.partition("/")
            if slash:
                children.setdefault(first, {})[rest] = entry
            else:
                here[first] = entry
        for name, sub in children.items():
            here[name] = Entry(TREE, self.write_tree(sub))
        return self.write("tree", _tree_bytes(here))

    # -- refs -----------------------------------------------------------------------------------
    def refs(self, prefix: str = "refs/heads/") -> dict[str, str]:
        """Refs under ``prefix`` (full name -> commit id), read without running git."""
        found: dict[str, str] = {}
        packed = self.path / "packed-refs"
        if packed.is_file():
            for line in packed.read_text(encoding="utf-8").splitlines():
                if not line or line[0] in "#^":
                    continue
                sha, _, name = line.partition(" ")
                if name.startswith(prefix):
                    found[name] = sha
        base = self.path / prefix
        for path in _walk(base):
            try:
                text = path.read_text(encoding="utf-8").strip()
            except (FileNotFoundError, UnicodeDecodeError):
                continue
            if len(text) == 40 and not text.startswith("ref:"):
                found[prefix + path.relative_to(base).as_posix()] = text
        return found

    def update_ref(self, ref: str, new: str, old: str | None) -> None:
        """Move ``ref`` to ``new`` if it is at ``old`` (None: it must not exist)."""
        try:
            self.run("update-ref", ref, new, old or ZERO)
        except GitError as exc:
            raise RefConflict(str(exc)) from None

    def delete_ref(self, ref: str, old: str) -> None:
        try:
            self.run("update-ref", "-d", ref, old)
        except GitError as exc:
            raise RefConflict(str(exc)) from None

    def set_head(self, branch: str) -> None:
        """Point HEAD (what a clone checks out) at ``branch``."""
        (self.path / "HEAD").write_text(f"ref: refs/heads/{branch}\n", encoding="utf-8")


def _tree_bytes(entries: dict[str, Entry]) -> bytes:
    def key(item: tuple[str, Entry]) -> bytes:
        name, entry = item
        # git sorts a folder as if its name ended with "/" (fsck's tree order).
        return name.encode() + (b"/" if entry.mode == TREE else b"")

    out = bytearray()
    for name, entry in sorted(entries.items(), key=key):
        out += f"{entry.mode} {name}\0".encode() + bytes.fromhex(entry.sha)
    return bytes(out)


def _person(value: str) -> Person:
    name, _, rest = value.partition(" <")
    email, _, when = rest.partition("> ")
    seconds, _, offset = when.partition(" ")
    try:
        number = int(seconds)
    except ValueError:
        number = 0
    return Person(name, email, number, offset or "+0000")


def _walk(base: Path) -> Iterator[Path]:
    if not base.is_dir():
        return
    for entry in os.scandir(base):
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(Path(entry.path))
        elif entry.is_file(follow_symlinks=False) and not entry.name.endswith(".lock"):
            yield Path(entry.path)
