"""CodeCommit: repositories that are real bare git repositories, and their events.

Every repository lives under ``<work_dir>/codecommit/<name>.git``; commit, tree and blob
ids are git's. The API writes commits with the caller's name and the simulated clock's
date, so the same calls give the same ids. A person (or the rehearsal) can also push to
a repository with plain git: :meth:`CodeCommit.local_remote` gives its path, usable as a
git remote URL. Branch moves by any route (CreateCommit, CreateBranch, DeleteBranch, a
push) emit the EventBridge event "CodeCommit Repository State Change"; pushes are seen
by comparing refs, cheaply, whenever the emulator's clock runs (every request, every
tick).

Refusals follow the CodeCommit API reference and its quotas page (user guide, "Quotas
in AWS CodeCommit"); the error texts are the botocore model's descriptions of each error
unless a comment names another source.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bluegreen.emulator import artifacts, internal, timing
from bluegreen.emulator.clock import Wait
from bluegreen.emulator.core import USER_ARN, Emulator
from bluegreen.emulator.git import (
    EXECUTABLE,
    GITLINK,
    NORMAL,
    SYMLINK,
    TREE,
    Entry,
    GitError,
    Person,
    RefConflict,
    Repository,
)
from bluegreen.emulator.owned import OwnedService
from bluegreen.emulator.service import Call, Params, Result, ServiceError, operation

# Quotas (CodeCommit user guide, "Quotas in AWS CodeCommit", and the botocore model's
# FileContentSizeLimitExceededException / FolderContentSizeLimitExceededException texts:
# "The maximum file size is 6 MB, and the combined file content change size is 7 MB";
# "a folder whose contents exceed the limit of 6 MB").
MAX_FILE_BYTES = 6 * 1024 * 1024  # also the model's FileContent max (6291456)
MAX_COMMIT_BYTES = 7 * 1024 * 1024
MAX_FOLDER_BYTES = 6 * 1024 * 1024
MAX_FILE_ENTRIES = 100
"""Files changed by one CreateCommit. AWS documents MaximumFileEntriesExceededException
("exceeds the maximum number of files that can be changed in a single commit. Consider
using a Git client") but no number. The emulator assumes 100, CodeCommit's figure for its
other batch limits (CommitIdsLimitExceededException), so the refusal is reachable: bluegreen
answers it by telling the user to push with git (aws/codecommit.py AWS_REFUSALS). It may
refuse a first commit AWS would accept; never one AWS would refuse for its count."""
MAX_PATH_DEPTH = 20  # "File paths cannot exceed 20 directories in depth" (quotas)
MAX_PATH_LENGTH = 4096
MAX_NAME_LENGTH = 1024  # user names in commits (quotas)
MAX_EMAIL_LENGTH = 256  # email addresses in commits (quotas)
MAX_DESCRIPTION = 1000  # repository descriptions (quotas)

_MODES = {"NORMAL": NORMAL, "EXECUTABLE": EXECUTABLE, "SYMLINK": SYMLINK}
_MODE_NAMES = {v: k for k, v in _MODES.items()}
_REPOSITORY_NAME = re.compile(r"[\w.-]{1,100}")
_COMMIT_ID = re.compile(r"[0-9a-f]{40}")
_BAD_BRANCH_CHARS = set(" ?^*[\\~:") | {chr(c) for c in range(32)} | {"\x7f"}

EVENT_DETAIL_TYPE = "CodeCommit Repository State Change"


@dataclass
class _Repo:
    name: str
    id: str
    arn: str
    git: Repository
    created: datetime
    modified: datetime
    description: str | None = None
    default_branch: str | None = None
    kms_key_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    known: dict[str, str] = field(default_factory=dict)
    """Refs as the emulator last saw them (full name -> commit id)."""
    stamp: tuple[int, ...] = ()
    """Modification times of the ref directories when ``known`` was read."""
    folders: list[Path] = field(default_factory=list)
    """The directories holding refs (``refs/heads/feature`` for ``feature/x``)."""


class CodeCommit(OwnedService):
    name = "codecommit"

    def __init__(self, emulator: Emulator) -> None:
        super().__init__(emulator)
        self.repos: dict[str, _Repo] = {}
        self._count = 0
        self._watcher = emulator.clock.spawn("codecommit: watch for pushes", self._watch())

    # ==================================================================== Python API
    def local_remote(self, name: str) -> Path:
        """The bare repository of ``name``: a git remote a person can push to.

        ``git push <path> main`` updates the repository as a push to CodeCommit would,
        and emits the same EventBridge events (seen on the next request or tick).
        """
        return self._repo(name).git.path

    def head(self, name: str, branch: str) -> str | None:
        """The commit a branch points at, or None (no such branch or repository)."""
        repo = self.repos.get(name)
        if repo is None:
            return None
        self.check_pushes()
        return repo.git.refs().get(f"refs/heads/{branch}")

    def commit(self, name: str, commit: str) -> Any:
        """A commit of repository ``name`` (:class:`bluegreen.emulator.git.Commit`)."""
        return self._repo(name).git.commit(commit)

    def files(self, name: str, commit: str) -> dict[str, tuple[bytes, int]]:
        """The files of a commit: path -> (content, permission bits)."""
        repo = self._repo(name).git
        out: dict[str, tuple[bytes, int]] = {}
        for path, entry in repo.files(repo.commit(commit).tree).items():
            if entry.mode == GITLINK:
                continue
            _, data = repo.read(entry.sha)
            out[path] = (data, 0o755 if entry.mode == EXECUTABLE else 0o644)
        return out

    def archive(self, name: str, commit: str) -> bytes:
        """The commit's tree as a ZIP: what a CodeCommit source action stores as its
        CODE_ZIP output artifact (the archive CodeCommit uploads for CodePipeline)."""
        files = self.files(name, commit)
        when = datetime.fromtimestamp(self._repo(name).git.commit(commit).committer.seconds, UTC)
        return artifacts.zip_files(
            {path: data for path, (data, _) in files.items()},
            when,
            {path: mode for path, (_, mode) in files.items()},
        )

    def repository_arn(self, name: str) -> str:
        return self._repo(name).arn

    def check_pushes(self) -> None:
        """Emit the events of refs moved outside the API (a ``git push``).

        The push is kept in the emulator's journal as a git bundle of the new refs, so a
        resumed sandbox replays it (the repository is made again from the journal, and
        the pushed objects come from the bundle)."""
        for name, repo in list(self.repos.items()):
            if self._stamp(repo) != repo.stamp:
                if self.emulator.journal is not None and not self.emulator.journal.replaying:
                    refs = repo.git.refs("refs/heads/") | repo.git.refs("refs/tags/")
                    bundle = self._bundle(repo, refs)
                    self.emulator.record(
                        "codecommit.push", repository=name, refs=refs, bundle=bundle
                    )
                self._sync(repo, USER_ARN)

    def _bundle(self, repo: _Repo, refs: dict[str, str]) -> str:
        folder = self.emulator.work_dir.parent / "pushes"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{len(list(folder.iterdir())) + 1:04d}.bundle"
        if refs:
            repo.git.run("bundle", "create", "-q", str(path), *sorted(refs))
        return str(path)

    def replay_event(self, name: str, data: dict[str, Any]) -> None:
        """Play a journaled push again: fetch its objects, move the refs, emit events."""
        if name != "codecommit.push":
            return
        repo = self.repos.get(str(data["repository"]))
        if repo is None:
            return
        bundle = Path(str(data["bundle"]))
        refs: dict[str, str] = dict(data["refs"])
        if refs and bundle.is_file():
            repo.git.run("fetch", "-q", str(bundle), *(f"+{r}:{r}" for r in sorted(refs)))
        for ref, sha in repo.git.refs("refs/heads/").items():
            if ref not in refs:
                repo.git.delete_ref(ref, sha)
        self._sync(repo, USER_ARN)

    # ==================================================================== repositories
    @operation("CreateRepository")
    def create_repository(self, params: Params, call: Call) -> Result:
        name = self._valid_name(params.get("repositoryName"))
        if name in self.repos:
            raise ServiceError(
                "RepositoryNameExistsException", f"Repository named {name} already exists"
            )
        description = params.get("repositoryDescription")
        if description is not None and len(description) > MAX_DESCRIPTION:
            raise ServiceError(
                "InvalidRepositoryDescriptionException",
                "The specified repository description is not valid.",
            )
        for key in params.get("tags") or {}:
            if key.lower().startswith("aws:"):
                raise ServiceError(
                    "InvalidSystemTagUsageException",
                    "The tag key contains a prefix that is reserved for system tags.",
                )
        self._count += 1
        root = self.emulator.work_dir / "codecommit"
        path = root / f"{name}.git"
        if path.exists():
            shutil.rmtree(path)
        try:
            git = Repository.create(path, root / ".home")
        except (GitError, OSError) as exc:
            raise ServiceError("InternalFailure", f"cannot create the repository: {exc}") from None
        now = self.emulator.now()
        repo = _Repo(
            name=name,
            id=internal.stable_uuid("codecommit", self.account_id, self.region, name, self._count),
            arn=self.arn(name),
            git=git,
            created=now,
            modified=now,
            description=description,
            kms_key_id=params.get("kmsKeyId"),
            tags=dict(params.get("tags") or {}),
        )
        repo.folders = _folders(git.path / "refs")
        repo.stamp = self._stamp(repo)
        self.repos[name] = repo
        return {"repositoryMetadata": self._metadata(repo)}

    @operation("GetRepository")
    def get_repository(self, params: Params, call: Call) -> Result:
        return {"repositoryMetadata": self._metadata(self._get(params))}

    @operation("DeleteRepository")
    def delete_repository(self, params: Params, call: Call) -> Result:
        name = self._valid_name(params.get("repositoryName"))
        repo = self.repos.pop(name, None)
        if repo is None:
            # "If a specified repository was already deleted, a null repository ID is
            # returned" (API reference, DeleteRepository).
            return {}
        shutil.rmtree(repo.git.path, ignore_errors=True)
        return {"repositoryId": repo.id}

    @operation("ListRepositories")
    def list_repositories(self, params: Params, call: Call) -> Result:
        key = params.get("sortBy") or "repositoryName"
        repos = sorted(
            self.repos.values(),
            key=(lambda r: r.name) if key == "repositoryName" else (lambda r: (r.modified, r.name)),
            reverse=params.get("order") == "descending",
        )
        return {"repositories": [{"repositoryName": r.name, "repositoryId": r.id} for r in repos]}

    @operation("UpdateRepositoryDescription")
    def update_repository_description(self, params: Params, call: Call) -> Result:
        repo = self._get(params)
        description = params.get("repositoryDescription")
        if description is not None and len(description) > MAX_DESCRIPTION:
            raise ServiceError(
                "InvalidRepositoryDescriptionException",
                "The specified repository description is not valid.",
            )
        repo.description = description
        return {}

    # -- tags (CloudFormation propagates stack tags) ----------------------------------------
    @operation("TagResource")
    def tag_resource(self, params: Params, call: Call) -> Result:
        repo = self._by_arn(params.get("resourceArn"))
        tags = dict(params.get("tags") or {})
        for key in tags:
            if key.lower().startswith("aws:"):
                raise ServiceError(
                    "InvalidSystemTagUsageException",
                    "The tag key contains a prefix that is reserved for system tags.",
                )
        merged = {**repo.tags, **tags}
        if len(merged) > 50:  # quotas: "Maximum of 50 per resource"
            raise ServiceError("TooManyTagsException", "The maximum number of tags was exceeded.")
        repo.tags = merged
        return {}

    @operation("UntagResource")
    def untag_resource(self, params: Params, call: Call) -> Result:
        repo = self._by_arn(params.get("resourceArn"))
        for key in params.get("tagKeys") or []:
            repo.tags.pop(key, None)
        return {}

    @operation("ListTagsForResource")
    def list_tags_for_resource(self, params: Params, call: Call) -> Result:
        return {"tags": dict(self._by_arn(params.get("resourceArn")).tags)}

    def _by_arn(self, arn: str | None) -> _Repo:
        if not arn:
            raise ServiceError(
                "ResourceArnRequiredException", "A valid Amazon Resource Name (ARN) is required."
            )
        for repo in self.repos.values():
            if repo.arn == arn:
                return repo
        raise ServiceError(
            "RepositoryDoesNotExistException", f"{arn.rsplit(':', 1)[-1]} does not exist"
        )

    # ==================================================================== branches
    @operation("GetBranch")
    def get_branch(self, params: Params, call: Call) -> Result:
        repo = self._get(params)
        branch = self._valid_branch(params.get("branchName"))
        head = self._refs(repo).get(f"refs/heads/{branch}")
        if head is None:
            raise ServiceError("BranchDoesNotExistException", f"Branch {branch} does not exist")
        return {"branch": {"branchName": branch, "commitId": head}}

    @operation("ListBranches")
    def list_branches(self, params: Params, call: Call) -> Result:
        repo = self._get(params)
        names = sorted(ref.removeprefix("refs/heads/") for ref in self._refs(repo))
        return {"branches": names}

    @operation("CreateBranch")
    def create_branch(self, params: Params, call: Call) -> Result:
        repo = self._get(params)
        branch = self._valid_branch(params.get("branchName"))
        commit = self._valid_commit_id(params.get("commitId"))
        if f"refs/heads/{branch}" in self._refs(repo):
            raise ServiceError(
                "BranchNameExistsException",
                f"Cannot create the branch {branch} because a branch with that name already exists",
            )
        if not self._is_commit(repo, commit):
            raise ServiceError("CommitDoesNotExistException", f"Commit {commit} does not exist")
        try:
            repo.git.update_ref(f"refs/heads/{branch}", commit, None)
        except RefConflict:
            raise ServiceError(
                "BranchNameExistsException",
                f"Cannot create the branch {branch} because a branch with that name already exists",
            ) from None
        self._moved(repo, call.principal)
        return {}

    @operation("DeleteBranch")
    def delete_branch(self, params: Params, call: Call) -> Result:
        repo = self._get(params)
        branch = self._valid_branch(params.get("branchName"))
        head = self._refs(repo).get(f"refs/heads/{branch}")
        if head is None:
            return {}
        if branch == repo.default_branch:
            raise ServiceError(
                "DefaultBranchCannotBeDeletedException",
                "The specified branch is the default branch for the repository, and cannot "
                "be deleted. To delete this branch, you must first set another branch as the "
                "default branch.",
            )
        repo.git.delete_ref(f"refs/heads/{branch}", head)
        self._moved(repo, call.principal)
        return {"deletedBranch": {"branchName": branch, "commitId": head}}

    @operation("UpdateDefaultBranch")
    def update_default_branch(self, params: Params, call: Call) -> Result:
        repo = self._get(params)
        branch = self._valid_branch(params.get("defaultBranchName"))
        if f"refs/heads/{branch}" not in self._refs(repo):
            raise ServiceError("BranchDoesNotExistException", f"Branch {branch} does not exist")
        repo.default_branch = branch
        repo.git.set_head(branch)
        return {}

    # ==================================================================== commits
    @operation("CreateCommit")
    def create_commit(self, params: Params, call: Call) -> Result:
        repo = self._get(params)
        branch, parent = self._commit_target(repo, params)
        puts = list(params.get("putFiles") or [])
        deletes = list(params.get("deleteFiles") or [])
        modes = list(params.get("setFileModes") or [])
        if not (puts or deletes or modes):
            raise ServiceError(
                "FileEntryRequiredException",
                "The commit cannot be created because no files have been specified as "
                "added, updated, or changed (PutFile or DeleteFile) for the commit.",
            )
        if len(puts) + len(deletes) + len(modes) > MAX_FILE_ENTRIES:
            raise ServiceError(
                "MaximumFileEntriesExceededException",
                "The number of specified files to change as part of this commit exceeds the "
                "maximum number of files that can be changed in a single commit. Consider "
                "using a Git client for these changes.",
            )
        author = self._author(params, call)
        before = self._tree_files(repo, parent)
        after = dict(before)
        added: list[dict[str, Any]] = []
        updated: list[dict[str, Any]] = []
        deleted: list[dict[str, Any]] = []
        seen: set[str] = set()

        contents: dict[str, tuple[bytes, str]] = {}
        for entry in puts:
            path = self._valid_path(entry.get("filePath"))
            self._once(seen, path)
            contents[path] = self._put_content(repo, entry, before, after)
        self._check_sizes(contents)
        for path in contents:
            self._check_conflicts(path, before, contents)

        for entry in deletes:
            path = self._valid_path(entry.get("filePath"))
            self._once(seen, path)
            if path not in before:
                raise ServiceError(
                    "FileDoesNotExistException",
                    f"The specified file {path} does not exist. Verify that you have used "
                    "the correct file name, full path, and extension.",
                )
            old = after.pop(path)
            deleted.append(self._file_meta(path, old))
        for entry in modes:
            path = self._valid_path(entry.get("filePath"))
            self._once(seen, path)
            mode = self._mode(entry.get("fileMode"))
            if path not in after:
                raise ServiceError(
                    "FileDoesNotExistException",
                    f"The specified file {path} does not exist. Verify that you have used "
                    "the correct file name, full path, and extension.",
                )
            after[path] = Entry(mode, after[path].sha)
            updated.append(self._file_meta(path, after[path]))

        for path, (data, mode) in contents.items():
            sha = repo.git.write("blob", data)
            new = Entry(mode, sha)
            previous = before.get(path)
            after[path] = new
            if previous is None:
                added.append(self._file_meta(path, new))
            elif previous != new:
                updated.append(self._file_meta(path, new))

        if params.get("keepEmptyFolders"):
            for path in {d["absolutePath"] for d in deleted}:
                folder = path.rpartition("/")[0]
                if folder and not any(p.startswith(f"{folder}/") for p in after):
                    after[f"{folder}/.gitkeep"] = Entry(NORMAL, repo.git.write("blob", b""))

        commit, tree = self._write_commit(
            repo, branch, parent, after, author, params.get("commitMessage") or "", call
        )
        return {
            "commitId": commit,
            "treeId": tree,
            "filesAdded": added,
            "filesUpdated": updated,
            "filesDeleted": deleted,
        }

    @operation("PutFile")
    def put_file(self, params: Params, call: Call) -> Result:
        repo = self._get(params)
        branch, parent = self._commit_target(repo, params)
        path = self._valid_path(params.get("filePath"))
        before = self._tree_files(repo, parent)
        data = params.get("fileContent")
        if not data:
            raise ServiceError(
                "FileContentRequiredException",
                "The file cannot be added because it is empty. Empty files cannot be added "
                "to the repository with this API.",
            )
        mode = self._mode(params.get("fileMode") or "NORMAL")
        self._check_sizes({path: (data, mode)})
        self._check_conflicts(path, before, {path: (data, mode)})
        sha = repo.git.blob_id(data)
        if before.get(path) == Entry(mode, sha):
            raise ServiceError(
                "SameFileContentException",
                "The file was not added or updated because the content of the file is "
                "exactly the same as the content of that file in the repository and branch "
                "that you specified.",
            )
        repo.git.write("blob", data)
        after = dict(before)
        after[path] = Entry(mode, sha)
        author = Person(
            params.get("name") or call.principal,
            params.get("email") or "",
            int(self.emulator.now().timestamp()),
        )
        commit, tree = self._write_commit(
            repo, branch, parent, after, author, params.get("commitMessage") or "", call
        )
        return {"commitId": commit, "blobId": sha, "treeId": tree}

    @operation("GetCommit")
    def get_commit(self, params: Params, call: Call) -> Result:
        repo = self._get(params)
        commit_id = params.get("commitId")
        if not commit_id:
            raise ServiceError("CommitIdRequiredException", "A commit ID was not specified.")
        if not _COMMIT_ID.fullmatch(commit_id):
            raise ServiceError("InvalidCommitIdException", "The specified commit ID is not valid.")
        if not self._is_commit(repo, commit_id):
            raise ServiceError(
                "CommitIdDoesNotExistException", "The specified commit ID does not exist."
            )
        commit = repo.git.commit(commit_id)
        return {
            "commit": {
                "commitId": commit.sha,
                "treeId": commit.tree,
                "parents": list(commit.parents),
                "message": commit.message,
                "author": _user(commit.author),
                "committer": _user(commit.committer),
                "additionalData": "",
            }
        }

    # ==================================================================== contents
    @operation("GetFile")
    def get_file(self, params: Params, call: Call) -> Result:
        repo = self._get(params)
        commit = self._resolve(repo, params.get("commitSpecifier"))
        path = self._valid_path(params.get("filePath"))
        entry = self._tree_files(repo, commit).get(path)
        if entry is None or entry.mode == GITLINK:
            raise ServiceError(
                "FileDoesNotExistException",
                f"The specified file {path} does not exist. Verify that you have used the "
                "correct file name, full path, and extension.",
            )
        _, data = repo.git.read(entry.sha)
        if len(data) > MAX_FILE_BYTES:
            raise ServiceError(
                "FileTooLargeException",
                "The specified file exceeds the file size limit for CodeCommit. For more "
                "information about limits in CodeCommit, see Quotas in the CodeCommit User "
                "Guide.",
            )
        return {
            "commitId": commit,
            "blobId": entry.sha,
            "filePath": path,
            "fileMode": _MODE_NAMES.get(entry.mode, "NORMAL"),
            "fileSize": len(data),
            "fileContent": data,
        }

    @operation("GetFolder")
    def get_folder(self, params: Params, call: Call) -> Result:
        repo = self._get(params)
        commit = self._resolve(repo, params.get("commitSpecifier"))
        raw = params.get("folderPath")
        if raw is None:
            raise ServiceError(
                "PathRequiredException", "The folderPath for a location cannot be null."
            )
        folder = raw.strip("/")
        found = repo.git.folder(repo.git.commit(commit).tree, folder)
        if found is None or found.mode != TREE:
            raise ServiceError(
                "FolderDoesNotExistException",
                "The specified folder does not exist. Either the folder name is not correct, "
                "or you did not enter the full path to the folder.",
            )
        prefix = f"{folder}/" if folder else ""
        out: dict[str, list[dict[str, Any]]] = {
            "subFolders": [],
            "files": [],
            "symbolicLinks": [],
            "subModules": [],
        }
        for name, entry in sorted(repo.git.tree(found.sha).items()):
            where = {"absolutePath": f"{prefix}{name}", "relativePath": name}
            if entry.mode == TREE:
                out["subFolders"].append({"treeId": entry.sha, **where})
            elif entry.mode == GITLINK:
                out["subModules"].append({"commitId": entry.sha, **where})
            elif entry.mode == SYMLINK:
                out["symbolicLinks"].append({"blobId": entry.sha, "fileMode": "SYMLINK", **where})
            else:
                out["files"].append(
                    {"blobId": entry.sha, "fileMode": _MODE_NAMES[entry.mode], **where}
                )
        return {"commitId": commit, "folderPath": raw, "treeId": found.sha, **out}

    @operation("GetDifferences")
    def get_differences(self, params: Params, call: Call) -> Result:
        repo = self._get(params)
        after_spec = params.get("afterCommitSpecifier")
        if not after_spec:
            raise ServiceError("CommitRequiredException", "A commit was not specified.")
        after = self._tree_files(repo, self._resolve(repo, after_spec))
        before_spec = params.get("beforeCommitSpecifier")
        before = self._tree_files(repo, self._resolve(repo, before_spec)) if before_spec else {}
        before = _under(before, params.get("beforePath"))
        after = _under(after, params.get("afterPath"))
        differences: list[dict[str, Any]] = []
        for path in sorted(set(before) | set(after)):
            old, new = before.get(path), after.get(path)
            if old == new:
                continue
            item: dict[str, Any] = {
                "changeType": "A" if old is None else "D" if new is None else "M"
            }
            if old is not None:
                item["beforeBlob"] = {"blobId": old.sha, "path": path, "mode": old.mode}
            if new is not None:
                item["afterBlob"] = {"blobId": new.sha, "path": path, "mode": new.mode}
            differences.append(item)
        limit = params.get("MaxResults") or 100
        if limit < 1:
            raise ServiceError(
                "InvalidMaxResultsException",
                "The specified number of maximum results is not valid.",
            )
        start = 0
        token = params.get("NextToken")
        if token is not None:
            if not token.isdigit() or int(token) > len(differences):
                raise ServiceError(
                    "InvalidContinuationTokenException",
                    "The specified continuation token is not valid.",
                )
            start = int(token)
        page = differences[start : start + limit]
        result: Result = {"differences": page}
        if start + limit < len(differences):
            result["NextToken"] = str(start + limit)
        return result

    # ==================================================================== internals
    def _repo(self, name: str) -> _Repo:
        repo = self.repos.get(name)
        if repo is None:
            raise ServiceError("RepositoryDoesNotExistException", f"{name} does not exist")
        return repo

    def _get(self, params: Params) -> _Repo:
        return self._repo(self._valid_name(params.get("repositoryName")))

    def _metadata(self, repo: _Repo) -> dict[str, Any]:
        endpoint = f"git-codecommit.{self.region}.amazonaws.com/v1/repos/{repo.name}"
        data: dict[str, Any] = {
            "accountId": self.account_id,
            "repositoryId": repo.id,
            "repositoryName": repo.name,
            "lastModifiedDate": repo.modified,
            "creationDate": repo.created,
            "cloneUrlHttp": f"https://{endpoint}",
            "cloneUrlSsh": f"ssh://{endpoint}",
            "Arn": repo.arn,
        }
        if repo.description is not None:
            data["repositoryDescription"] = repo.description
        if repo.default_branch:
            data["defaultBranch"] = repo.default_branch
        if repo.kms_key_id:
            data["kmsKeyId"] = repo.kms_key_id
        return data

    @staticmethod
    def _valid_name(name: str | None) -> str:
        if not name:
            raise ServiceError(
                "RepositoryNameRequiredException",
                "A repository name is required, but was not specified.",
            )
        # Quotas: letters, numbers, periods, underscores and dashes, 1 to 100
        # characters, not ending in .git. (Message: the text moto reproduces.)
        if not _REPOSITORY_NAME.fullmatch(name) or name.endswith(".git") or not name.isascii():
            raise ServiceError(
                "InvalidRepositoryNameException",
                "The repository name is not valid. Repository names can be any valid "
                "combination of letters, numbers, periods, underscores, and dashes between 1 "
                "and 100 characters in length. Names are case sensitive. For more "
                "information, see Limits in the AWS CodeCommit User Guide.",
            )
        return name

    @staticmethod
    def _valid_branch(branch: str | None) -> str:
        if not branch:
            raise ServiceError(
                "BranchNameRequiredException", "A branch name is required, but was not specified."
            )
        # Quotas, "Branch names": 1-256 characters; not exactly 40 hexadecimal
        # characters; cannot begin or end with / or ., be the single character @,
        # contain .., //, @{, spaces or ? ^ * [ \ ~ : (plus git-check-ref-format's
        # control characters, .lock components and components starting with a dot).
        parts = branch.split("/")
        bad = (
            len(branch) > 256
            or bool(_COMMIT_ID.fullmatch(branch.lower()))
            or branch[0] in "/."
            or branch[-1] in "/."
            or branch == "@"
            or any(s in branch for s in ("..", "//", "@{"))
            or any(c in _BAD_BRANCH_CHARS for c in branch)
            or any(p.startswith(".") or p.endswith(".lock") for p in parts)
        )
        if bad:
            raise ServiceError(
                "InvalidBranchNameException", "The specified reference name is not valid."
            )
        return branch

    @staticmethod
    def _valid_commit_id(commit: str | None) -> str:
        if not commit:
            raise ServiceError("CommitIdRequiredException", "A commit ID was not specified.")
        if not _COMMIT_ID.fullmatch(commit):
            raise ServiceError("InvalidCommitIdException", "The specified commit ID is not valid.")
        return commit

    @staticmethod
    def _valid_path(raw: str | None) -> str:
        if not raw:
            raise ServiceError(
                "PathRequiredException", "The folderPath for a location cannot be null."
            )
        # Quotas, "File paths": 1-4,096 characters, at most 20 directories deep, an
        # unambiguous name for the file; a leading / is accepted (the CLI examples use
        # /.gitignore).
        path = raw.lstrip("/")
        parts = path.split("/")
        bad = (
            not path
            or len(raw) > MAX_PATH_LENGTH
            or len(parts) - 1 > MAX_PATH_DEPTH
            or any(p in ("", ".", "..", ".git") for p in parts)
            or "\0" in path
        )
        if bad:
            raise ServiceError("InvalidPathException", "The specified path is not valid.")
        return path

    @staticmethod
    def _mode(name: str | None) -> str:
        mode = _MODES.get(name or "")
        if mode is None:
            raise ServiceError(
                "InvalidFileModeException",
                "The specified file mode permission is not valid. For a list of valid file "
                "mode permissions, see PutFile.",
            )
        return mode

    @staticmethod
    def _once(seen: set[str], path: str) -> None:
        if path in seen:
            raise ServiceError(
                "SamePathRequestException",
                "The commit cannot be created because one or more changes in this commit "
                "duplicate actions in the same file path. For example, you cannot make the "
                "same delete request to the same file in the same file path twice, or make a "
                "delete request and a move request to the same file as part of the same "
                "commit.",
            )
        seen.add(path)

    def _commit_target(self, repo: _Repo, params: Params) -> tuple[str, str | None]:
        """The branch a commit goes to and its parent (None: the first commit)."""
        branch = self._valid_branch(params.get("branchName"))
        refs = self._refs(repo)
        if f"refs/tags/{branch}" in repo.git.refs("refs/tags/"):
            raise ServiceError(
                "BranchNameIsTagNameException",
                "The specified branch name is not valid because it is a tag name. Enter the "
                "name of a branch in the repository. For a list of valid branch names, use "
                "ListBranches.",
            )
        head = refs.get(f"refs/heads/{branch}")
        parent = params.get("parentCommitId")
        if head is None:
            if refs:
                # The API reference: parentCommitId is "not required if this is an empty
                # repository"; a branch that does not exist in a repository that has
                # commits is refused (conservative: CreateCommit lists
                # BranchDoesNotExistException; start the branch with CreateBranch).
                raise ServiceError("BranchDoesNotExistException", f"Branch {branch} does not exist")
            if parent:
                raise ServiceError(
                    "ParentCommitDoesNotExistException",
                    "The parent commit ID is not valid because it does not exist. The "
                    "specified parent commit ID does not exist in the specified branch of "
                    "the repository.",
                )
            return branch, None
        if not parent:
            raise ServiceError(
                "ParentCommitIdRequiredException",
                "A parent commit ID is required. To view the full commit ID of a branch in a "
                "repository, use GetBranch or a Git command (for example, git pull or git "
                "log).",
            )
        if not _COMMIT_ID.fullmatch(parent):
            raise ServiceError(
                "InvalidParentCommitIdException",
                "The parent commit ID is not valid. The commit ID cannot be empty, and must "
                "match the head commit ID for the branch of the repository where you want to "
                "add or update a file.",
            )
        if not self._is_commit(repo, parent):
            raise ServiceError(
                "ParentCommitDoesNotExistException",
                "The parent commit ID is not valid because it does not exist. The specified "
                "parent commit ID does not exist in the specified branch of the repository.",
            )
        if parent != head:
            raise ServiceError(
                "ParentCommitIdOutdatedException",
                "The file could not be added because the provided parent commit ID is not "
                "the current tip of the specified branch. To view the full commit ID of the "
                "current head of the branch, use GetBranch.",
            )
        return branch, parent

    def _author(self, params: Params, call: Call) -> Person:
        name = params.get("authorName") or call.principal
        email = params.get("email") or ""
        if len(name) > MAX_NAME_LENGTH:
            raise ServiceError(
                "NameLengthExceededException",
                "The user name is not valid because it has exceeded the character limit for "
                "author names.",
            )
        if len(email) > MAX_EMAIL_LENGTH or any(c in email for c in "<>\n"):
            raise ServiceError(
                "InvalidEmailException",
                "The specified email address either contains one or more characters that are "
                "not allowed, or it exceeds the maximum number of characters allowed for an "
                "email address.",
            )
        if any(c in name for c in "<>\n"):
            raise ServiceError(
                "NameLengthExceededException",
                "The user name is not valid because it has exceeded the character limit for "
                "author names.",
            )
        # "This information is used as both the author and committer for the commit"
        # (API reference, CreateCommit authorName); the date is the simulated clock's.
        return Person(name, email, int(self.emulator.now().timestamp()))

    def _put_content(
        self, repo: _Repo, entry: dict[str, Any], before: dict[str, Entry], after: dict[str, Entry]
    ) -> tuple[bytes, str]:
        has_content = "fileContent" in entry
        source = entry.get("sourceFile")
        if has_content and source:
            raise ServiceError(
                "FileContentAndSourceFileSpecifiedException",
                "The commit cannot be created because both a source file and file content "
                "have been specified for the same file. You cannot provide both. Either "
                "specify a source file or provide the file content directly.",
            )
        if source:
            source_path = self._valid_path(source.get("filePath"))
            found = before.get(source_path)
            if found is None:
                raise ServiceError(
                    "FileDoesNotExistException",
                    f"The specified file {source_path} does not exist. Verify that you have "
                    "used the correct file name, full path, and extension.",
                )
            _, data = repo.git.read(found.sha)
            if source.get("isMove"):
                after.pop(source_path, None)
            mode = _MODES.get(entry.get("fileMode") or "", found.mode)
            return data, mode
        if not has_content:
            raise ServiceError(
                "SourceFileOrContentRequiredException",
                "The commit cannot be created because no source files or file content have "
                "been specified for the commit.",
            )
        data = entry["fileContent"]
        if not data:
            # Issue 7 item 4: CodeCommit's API refuses empty files. The code is the one
            # PutFile documents for an empty file; the message is the one AWS returned
            # for it (aws/aws-tools-for-powershell#54, "The file is empty. Empty files
            # cannot be added to a repository."). Reported for CreateCommit too:
            # aws/aws-cdk#19012 (repository initialisation "fails when empty files exist").
            raise ServiceError(
                "FileContentRequiredException",
                "The file is empty. Empty files cannot be added to a repository.",
            )
        return data, self._mode(entry.get("fileMode") or "NORMAL")

    @staticmethod
    def _check_sizes(contents: dict[str, tuple[bytes, str]]) -> None:
        too_large = ServiceError(
            "FileContentSizeLimitExceededException",
            "The file cannot be added because it is too large. The maximum file size is 6 MB, "
            "and the combined file content change size is 7 MB. Consider making these changes "
            "using a Git client.",
        )
        total = 0
        folders: dict[str, int] = {}
        for path, (data, _) in contents.items():
            if len(data) > MAX_FILE_BYTES:
                raise too_large
            total += len(data)
            folder = path.rpartition("/")[0]
            folders[folder] = folders.get(folder, 0) + len(data)
        if total > MAX_COMMIT_BYTES:
            raise too_large
        if any(size > MAX_FOLDER_BYTES for size in folders.values()):
            raise ServiceError(
                "FolderContentSizeLimitExceededException",
                "The commit cannot be created because at least one of the overall changes in "
                "the commit results in a folder whose contents exceed the limit of 6 MB. "
                "Either reduce the number and size of your changes, or split the changes "
                "across multiple folders.",
            )

    @staticmethod
    def _check_conflicts(
        path: str, before: dict[str, Entry], contents: dict[str, tuple[bytes, str]]
    ) -> None:
        prefix = f"{path}/"
        if any(p.startswith(prefix) for p in contents):
            raise ServiceError(
                "PutFileEntryConflictException",
                "The commit cannot be created because one or more files specified in the "
                "commit reference both a file and a folder.",
            )
        if any(p.startswith(prefix) for p in before):
            raise ServiceError(
                "FileNameConflictsWithDirectoryNameException",
                f"A file cannot be added to the repository because the specified file name "
                f"{path} has the same name as a directory in this repository. Either provide "
                "another name for the file, or add the file in a directory that does not match "
                "the file name.",
            )
        parts = path.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if folder in before and folder not in contents:
                raise ServiceError(
                    "DirectoryNameConflictsWithFileNameException",
                    f"A file cannot be added to the repository because the specified path "
                    f"name {folder} has the same name as a file that already exists in this "
                    "repository. Either provide a different name for the file, or specify a "
                    "different path for the file.",
                )

    @staticmethod
    def _file_meta(path: str, entry: Entry) -> dict[str, Any]:
        return {
            "absolutePath": path,
            "blobId": entry.sha,
            "fileMode": _MODE_NAMES.get(entry.mode, "NORMAL"),
        }

    def _tree_files(self, repo: _Repo, commit: str | None) -> dict[str, Entry]:
        if commit is None:
            return {}
        return repo.git.files(repo.git.commit(commit).tree)

    def _write_commit(
        self,
        repo: _Repo,
        branch: str,
        parent: str | None,
        files: dict[str, Entry],
        author: Person,
        message: str,
        call: Call,
    ) -> tuple[str, str]:
        tree = repo.git.write_tree(files)
        if parent is not None and repo.git.commit(parent).tree == tree:
            raise ServiceError(
                "NoChangeException",
                "The commit cannot be created because no changes will be made to the "
                "repository as a result of this commit. A commit must contain at least one "
                "change.",
            )
        commit = repo.git.write_commit(tree, [parent] if parent else [], author, author, message)
        try:
            repo.git.update_ref(f"refs/heads/{branch}", commit, parent)
        except RefConflict:
            raise ServiceError(
                "ParentCommitIdOutdatedException",
                "The file could not be added because the provided parent commit ID is not the "
                "current tip of the specified branch. To view the full commit ID of the current "
                "head of the branch, use GetBranch.",
            ) from None
        repo.modified = self.emulator.now()
        self._moved(repo, call.principal)
        return commit, tree

    def _is_commit(self, repo: _Repo, sha: str) -> bool:
        try:
            kind, _ = repo.git.read(sha)
        except GitError:
            return False
        return kind == "commit"

    def _resolve(self, repo: _Repo, spec: str | None) -> str:
        """A commit specifier (branch, tag, commit id; None: the default branch)."""
        refs = self._refs(repo)
        if spec is None:
            head = refs.get(f"refs/heads/{repo.default_branch}") if repo.default_branch else None
            if head is None:
                raise ServiceError(
                    "CommitDoesNotExistException",
                    "The specified commit does not exist or no commit was specified, and the "
                    "specified repository has no default branch.",
                )
            return head
        for ref in (f"refs/heads/{spec}", f"refs/tags/{spec}"):
            found = refs.get(ref) or repo.git.refs("refs/tags/").get(ref)
            if found:
                return self._peel(repo, found)
        if re.fullmatch(r"[0-9a-f]{40}", spec) and self._is_commit(repo, spec):
            return spec
        raise ServiceError(
            "CommitDoesNotExistException",
            "The specified commit does not exist or no commit was specified, and the specified "
            "repository has no default branch.",
        )

    def _peel(self, repo: _Repo, sha: str) -> str:
        kind, data = repo.git.read(sha)
        if kind == "tag":
            target = data.split(b"\n", 1)[0].split()[-1].decode()
            return self._peel(repo, target)
        return sha

    # -- refs, pushes and events ----------------------------------------------------------
    def _refs(self, repo: _Repo) -> dict[str, str]:
        """The branches now; a move nobody has reported yet (a push) is reported first
        (and journaled, as the watcher does: a resumed sandbox replays it)."""
        if self._stamp(repo) != repo.stamp:
            self.check_pushes()
        return {k: v for k, v in repo.known.items() if k.startswith("refs/heads/")}

    def _stamp(self, repo: _Repo) -> tuple[int, ...]:
        """Modification times of everything a ref update touches (cheap: a few stats).

        git moves a ref by renaming ``<ref>.lock`` over it, which changes the mtime of
        the directory holding it and gives the ref file a new inode; nested branch names
        (``feature/x``) have their own directories, all listed here; ``packed-refs`` is
        rewritten when refs are packed. Inodes catch two moves within one mtime tick.
        """
        times: list[int] = []
        for folder in repo.folders:
            try:
                times.append(os.stat(folder).st_mtime_ns)
            except FileNotFoundError:
                times.append(-1)
        for ref in repo.known:
            try:
                times.append(os.stat(repo.git.path / ref).st_ino)
            except FileNotFoundError:
                times.append(-1)
        try:
            times.append(os.stat(repo.git.path / "packed-refs").st_mtime_ns)
        except FileNotFoundError:
            times.append(-1)
        return tuple(times)

    def _moved(self, repo: _Repo, caller: str) -> None:
        """A ref moved through the API: record it and emit its events now."""
        self._sync(repo, caller)

    def _sync(self, repo: _Repo, caller: str) -> None:
        repo.folders = _folders(repo.git.path / "refs")
        repo.stamp = self._stamp(repo)
        now = repo.git.refs("refs/heads/") | repo.git.refs("refs/tags/")
        old = repo.known
        repo.known = now
        changes = sorted(set(old) | set(now))
        for ref in changes:
            before, after = old.get(ref), now.get(ref)
            if before != after:
                self._emit(repo, ref, before, after, caller)
        if repo.default_branch is None or f"refs/heads/{repo.default_branch}" not in now:
            # The first branch of a repository becomes its default branch (CodeCommit
            # user guide, "Working with branches": the default branch is the first one
            # pushed or created). If it disappears (deleted by a push), the first
            # remaining branch takes its place.
            branches = sorted(
                r.removeprefix("refs/heads/") for r in now if r.startswith("refs/heads/")
            )
            created = [
                r.removeprefix("refs/heads/")
                for r in changes
                if r.startswith("refs/heads/") and r not in old and r in now
            ]
            choice = created[0] if created and repo.default_branch is None else None
            if choice is None and branches:
                choice = branches[0]
            repo.default_branch = choice
            if choice:
                repo.git.set_head(choice)

    def _emit(
        self, repo: _Repo, ref: str, before: str | None, after: str | None, caller: str
    ) -> None:
        events = self.emulator.services.get("events")
        if events is None or not hasattr(events, "emit"):
            return
        kind = "branch" if ref.startswith("refs/heads/") else "tag"
        short = ref.removeprefix("refs/heads/").removeprefix("refs/tags/")
        # CodeCommit user guide, "Monitoring CodeCommit events in Amazon EventBridge":
        # referenceCreated has commitId, referenceUpdated commitId and oldCommitId,
        # referenceDeleted oldCommitId. callerUserArn is in the event's schema (the
        # EventBridge schema registry's aws.codecommit "CodeCommit Repository State
        # Change", as generated in aws-cdk's CodeCommitRepositoryStateChangeProps).
        detail: dict[str, Any] = {
            "event": (
                "referenceCreated"
                if before is None
                else "referenceDeleted"
                if after is None
                else "referenceUpdated"
            ),
            "repositoryName": repo.name,
            "repositoryId": repo.id,
            "referenceType": kind,
            "referenceName": short,
            "referenceFullName": ref,
        }
        if after is not None:
            detail["commitId"] = after
        if before is not None:
            detail["oldCommitId"] = before
        detail["callerUserArn"] = caller
        events.emit(
            {
                "source": "aws.codecommit",
                "detail-type": EVENT_DETAIL_TYPE,
                "resources": [repo.arn],
                "detail": detail,
            }
        )

    def _watch(self) -> Generator[Wait, Any, None]:
        """A process that notices pushes: CodeCommit emits the event within seconds of a
        push (modelled: PUSH_POLL), and a few stats per repository are cheap."""
        while True:
            yield Wait(timing.CODECOMMIT_PUSH_POLL)
            self.check_pushes()

    def close(self) -> None:
        self._watcher.cancel()


def _user(person: Person) -> dict[str, str]:
    return {"name": person.name, "email": person.email, "date": person.date}


def _under(files: dict[str, Entry], folder: str | None) -> dict[str, Entry]:
    if not folder or not folder.strip("/"):
        return files
    prefix = folder.strip("/") + "/"
    return {p: e for p, e in files.items() if p.startswith(prefix) or p == prefix[:-1]}


def _folders(base: Path) -> list[Path]:
    out = [base, base / "heads", base / "tags"]
    for top in (base / "heads", base / "tags"):
        if top.is_dir():
            out.extend(Path(d) for d, _, _ in os.walk(top) if Path(d) != top)
    return out
