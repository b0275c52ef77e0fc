"""CodeConnections: connections to GitHub, GitLab or Bitbucket, and the provider's
repositories as local bare git repositories.

What AWS documents and the emulator does:

- CreateConnection makes a connection in status ``PENDING``: "A connection created
  through AWS CloudFormation, the CLI, or the SDK is in PENDING status by default. You
  can make its status AVAILABLE by updating the connection in the console"
  (CodeConnections API reference, Connection,
  https://docs.aws.amazon.com/codeconnections/latest/APIReference/API_Connection.html).
  The console's handshake with the provider (Developer Tools console user guide,
  "Workflow to create or update connections": "You then use the console to complete
  the handshake and move the connection to an available state by choosing Complete
  connection", https://docs.aws.amazon.com/dtconsole/latest/userguide/welcome-connections-workflow.html)
  has no API; :meth:`CodeConnections.complete_handshake` is the emulator's stand-in for
  that person, the only way a connection becomes ``AVAILABLE``;
- statuses are the model's ConnectionStatus (PENDING, AVAILABLE, ERROR); "A connection
  that has an error state ... cannot be used until it is available" (same workflow
  page);
- one connection store serves both APIs: ``codeconnections`` and its former name
  ``codestar-connections`` ("The service prefix codestar-connections ... changed to
  codeconnections"; existing connections keep their ARNs and both API endpoints serve
  them: CodeConnections user guide, "Service prefix update"). A connection made through
  either API gets an ARN of that API's prefix;
- the provider's repositories: :meth:`CodeConnections.provider_repository` is the bare git
  repository standing for ``owner/name`` on the provider (a person pushes to it with plain
  git, as to GitHub). A push is noticed by comparing refs whenever the clock runs, as the
  emulated CodeCommit does, and delivered to CodePipeline (its V2 triggers: the
  provider's webhook to CodePipeline) through
  :meth:`bluegreen.emulator.services.codepipeline.CodePipeline.provider_push`.

Error texts: the botocore model's descriptions of each error (ResourceNotFoundException:
"Resource not found. Verify the connection resource ARN and try again.").
"""

from __future__ import annotations

import os
import re
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bluegreen.emulator import artifacts, internal, timing
from bluegreen.emulator.clock import Until, Wait
from bluegreen.emulator.core import Emulator
from bluegreen.emulator.git import GITLINK, Commit, Entry, GitError, Repository
from bluegreen.emulator.owned import OwnedService
from bluegreen.emulator.service import Call, Params, Result, ServiceError, operation

STATUSES = ("PENDING", "AVAILABLE", "ERROR")
"""The model's ConnectionStatus enum."""

CONNECTION_ARN = re.compile(
    r"arn:aws(-[\w]+)*:(codestar-connections|codeconnections):[a-z0-9\-]+:[0-9]{12}:"
    r"connection/[\w\-]+"
)
"""The codeconnections model's ConnectionArn pattern (2023-12-01 API)."""

NOT_FOUND = "Resource not found. Verify the connection resource ARN and try again."


@dataclass
class Connection:
    arn: str
    name: str
    provider: str
    owner: str
    status: str = "PENDING"
    tags: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The model's Connection shape."""
        return {
            "ConnectionName": self.name,
            "ConnectionArn": self.arn,
            "ProviderType": self.provider,
            "OwnerAccountId": self.owner,
            "ConnectionStatus": self.status,
        }


@dataclass(frozen=True)
class Push:
    """A branch moved in a provider repository (what the provider's webhook says)."""

    repository: str  # owner/name
    branch: str
    before: str | None
    after: str | None
    changed: tuple[str, ...]  # paths whose content differs from ``before`` (or the parent)


@dataclass
class _Provided:
    full_id: str
    git: Repository
    known: dict[str, str] = field(default_factory=dict)
    stamp: tuple[int, ...] = ()


class _Store:
    """The connections and provider repositories of one emulator (both APIs share it)."""

    def __init__(self) -> None:
        self.connections: dict[str, Connection] = {}
        self.repositories: dict[str, _Provided] = {}
        self.count = 0


def _store(emulator: Emulator) -> _Store:
    found = getattr(emulator, "_connections_store", None)
    if not isinstance(found, _Store):
        found = _Store()
        setattr(emulator, "_connections_store", found)  # noqa: B010 - one per emulator
    return found


class CodeConnections(OwnedService):
    name = "codeconnections"

    def __init__(self, emulator: Emulator) -> None:
        super().__init__(emulator)
        self.store = _store(emulator)
        self._watcher = (
            emulator.clock.spawn("codeconnections: watch provider pushes", self._watch())
            if type(self) is CodeConnections
            else None
        )

    # ==================================================================== Python API
    def connection(self, arn: str) -> Connection | None:
        """The connection named by ``arn`` (either service prefix), or None."""
        return self.store.connections.get(_key(arn))

    def complete_handshake(self, arn: str) -> Connection:
        """What a person does once in the console ("Update pending connection", then
        "Complete connection"): the connection becomes AVAILABLE."""
        found = self.connection(arn)
        if found is None:
            raise KeyError(arn)
        found.status = "AVAILABLE"
        self.emulator.record("codeconnections.handshake", arn=arn)
        return found

    def replay_event(self, name: str, data: dict[str, Any]) -> None:
        """A resumed sandbox plays the journal again: the handshake is replayed. (Pushes
        to a provider repository are recorded but not replayed: the sandbox's story uses
        CodeCommit.)"""
        if name == "codeconnections.handshake":
            found = self.connection(str(data.get("arn", "")))
            if found is not None:
                found.status = "AVAILABLE"

    def provider_repository(self, full_id: str) -> Path:
        """The bare repository standing for ``owner/name`` on the provider (made empty on
        first use): a git remote a person pushes to."""
        return self._provided(full_id).git.path

    def head(self, full_id: str, branch: str) -> str | None:
        provided = self.store.repositories.get(full_id)
        if provided is None:
            return None
        self.check_pushes()
        return provided.git.refs().get(f"refs/heads/{branch}")

    def commit(self, full_id: str, sha: str) -> Commit:
        return self._provided(full_id).git.commit(sha)

    def archive(self, full_id: str, sha: str) -> bytes:
        """The commit's files as a ZIP (the CODE_ZIP output artifact)."""
        git = self._provided(full_id).git
        commit = git.commit(sha)
        files: dict[str, bytes] = {}
        modes: dict[str, int] = {}
        for path, entry in git.files(commit.tree).items():
            if entry.mode == GITLINK:
                continue
            _, data = git.read(entry.sha)
            files[path] = data
            modes[path] = 0o755 if entry.mode == "100755" else 0o644
        return artifacts.zip_files(
            files, datetime.fromtimestamp(commit.committer.seconds, UTC), modes
        )

    def check_pushes(self) -> None:
        """Deliver the pushes made since the last look (branch moves, creations,
        deletions) to CodePipeline."""
        pushes: list[Push] = []
        for provided in list(self.store.repositories.values()):
            stamp = _stamp(provided.git.path)
            if stamp == provided.stamp:
                continue
            provided.stamp = stamp
            now = provided.git.refs("refs/heads/")
            old, provided.known = provided.known, now
            for ref in sorted(set(old) | set(now)):
                before, after = old.get(ref), now.get(ref)
                if before != after:
                    branch = ref.removeprefix("refs/heads/")
                    changed = _changed(provided.git, before, after)
                    pushes.append(Push(provided.full_id, branch, before, after, changed))
        if not pushes:
            return
        pipelines = self.emulator.services.get("codepipeline")
        deliver = getattr(pipelines, "provider_push", None)
        for push in pushes:
            self.emulator.record(
                "codeconnections.push",
                repository=push.repository,
                branch=push.branch,
                after=push.after,
            )
            if deliver is not None:
                deliver(push)

    # ==================================================================== operations
    @operation("CreateConnection")
    def create_connection(self, params: Params, call: Call) -> Result:
        name = str(params.get("ConnectionName") or "")
        provider = params.get("ProviderType")
        if params.get("HostArn"):
            # Installed providers (GitHub Enterprise Server, GitLab self-managed) need a
            # host; bluegreen's providers are the cloud ones.
            raise ServiceError(
                "UnsupportedProviderTypeException",
                "the emulated AWS serves connections to cloud providers only (no hosts)",
            )
        if provider not in ("GitHub", "GitLab", "Bitbucket"):
            raise ServiceError(
                "InvalidInputException",
                f"ProviderType {provider!r}: the emulated AWS serves GitHub, GitLab and "
                "Bitbucket connections",
            )
        if any(c.name == name for c in self.store.connections.values()):
            # "Connection names must be unique in an AWS account" (model, ConnectionName);
            # the error code AWS gives is not documented: InvalidInputException is the
            # model's error for a request that is not valid.
            raise ServiceError(
                "InvalidInputException",
                f"A connection named {name} already exists in this account",
            )
        self.store.count += 1
        uuid = internal.stable_uuid("codeconnections", self.account_id, name, self.store.count)
        arn = self.arn(f"connection/{uuid}")
        tags = {t["Key"]: t["Value"] for t in params.get("Tags") or []}
        self.store.connections[_key(arn)] = Connection(
            arn, name, str(provider), self.account_id, tags=tags
        )
        result: Result = {"ConnectionArn": arn}
        if tags:
            result["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(tags.items())]
        return result

    @operation("GetConnection")
    def get_connection(self, params: Params, call: Call) -> Result:
        found = self.connection(str(params.get("ConnectionArn") or ""))
        if found is None:
            raise ServiceError("ResourceNotFoundException", NOT_FOUND)
        return {"Connection": found.to_dict()}

    @operation("ListConnections")
    def list_connections(self, params: Params, call: Call) -> Result:
        wanted = params.get("ProviderTypeFilter")
        items = [
            c.to_dict()
            for c in self.store.connections.values()
            if wanted is None or c.provider == wanted
        ]
        return {"Connections": items}

    @operation("DeleteConnection")
    def delete_connection(self, params: Params, call: Call) -> Result:
        key = _key(str(params.get("ConnectionArn") or ""))
        if self.store.connections.pop(key, None) is None:
            raise ServiceError("ResourceNotFoundException", NOT_FOUND)
        return {}

    # ==================================================================== helpers
    def _provided(self, full_id: str) -> _Provided:
        found = self.store.repositories.get(full_id)
        if found is None:
            root = self.emulator.work_dir / "providers"
            try:
                git = Repository.create(root / f"{full_id}.git", root / ".home")
            except (GitError, OSError) as exc:
                raise ServiceError("InternalFailure", f"cannot create {full_id}: {exc}") from None
            found = _Provided(full_id, git, {}, _stamp(git.path))
            self.store.repositories[full_id] = found
        return found

    def _watch(self) -> Generator[Wait | Until, Any, None]:
        """The provider's webhook: a push reaches CodePipeline within seconds
        (modelled as CodeCommit's event delay)."""
        # Nothing to watch until a provider repository exists (a CodeCommit system never
        # makes one: its clock pays nothing for this service).
        yield Until(lambda: bool(self.store.repositories))
        while True:
            yield Wait(timing.CODECOMMIT_PUSH_POLL)
            self.check_pushes()

    def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()


class CodeStarConnections(CodeConnections):
    """The same connections through the API's former name (codestar-connections)."""

    name = "codestar-connections"


def _key(arn: str) -> str:
    """A connection's identity whatever the service prefix of its ARN."""
    return arn.replace(":codestar-connections:", ":codeconnections:", 1)


def _stamp(path: Path) -> tuple[int, ...]:
    """Modification times of the ref folders and packed-refs (a ref move changes one)."""
    times: list[int] = []
    heads = path / "refs" / "heads"
    folders = [heads] + [Path(d) for d, _, _ in os.walk(heads) if Path(d) != heads]
    for folder in folders:
        try:
            times.append(os.stat(folder).st_mtime_ns)
        except FileNotFoundError:
            times.append(-1)
        for child in folder.iterdir() if folder.is_dir() else ():
            if child.is_file():
                times.append(os.stat(child).st_ino)
    try:
        times.append(os.stat(path / "packed-refs").st_mtime_ns)
    except FileNotFoundError:
        times.append(-1)
    return tuple(times)


def _changed(git: Repository, before: str | None, after: str | None) -> tuple[str, ...]:
    """Paths whose content differs between ``before`` and ``after``; for a new branch,
    between the pushed commit and its first parent (what the push brought; the
    emulator's reading: AWS does not say which base a new branch's paths compare to)."""
    if after is None:
        return ()
    new = git.commit(after)
    base = before if before is not None else (new.parents[0] if new.parents else None)
    old: dict[str, Entry] = git.files(git.commit(base).tree) if base else {}
    now = git.files(new.tree)
    return tuple(sorted(p for p in set(old) | set(now) if old.get(p) != now.get(p)))
