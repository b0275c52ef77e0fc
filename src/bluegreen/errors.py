"""The tool's exception hierarchy, documented in one place.

Every error a user can act on says what failed, why, and how to fix it. The CLI maps
them to exit codes: :class:`UsageError` (bad input: config, repository files, flags)
exits 2 and guarantees nothing was changed; :class:`OperationError` (an operation that
was attempted and failed) exits 1; :class:`Interrupted` (Ctrl-C) exits 130, the shell's
128 + SIGINT. Anything else is a bug: one line, exit 1, and a traceback only with
``--debug``.

    BluegreenError
    ├── UsageError            exit 2: bad input, nothing changed
    │   ├── ConfigError       bluegreen.toml is malformed or invalid
    │   └── RepositoryError   an application-repository file is missing or inconsistent
    ├── OperationError        exit 1: an operation failed
    │   ├── AwsError          an AWS call failed (credentials, access, throttling, ...)
    │   ├── StateError        the live state does not allow the operation (refusal)
    │   └── RehearsalError    the rehearsal's release failed (fault, unhealthy green, ...)
    └── Interrupted           exit 130: Ctrl-C (the CLI says what was left and how to resume)
"""

from __future__ import annotations


class BluegreenError(Exception):
    """Base class: a message for the user and an optional hint on how to fix it."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message


class UsageError(BluegreenError):
    """Bad input (config, repository files, flags). Exit code 2; nothing was changed."""

    exit_code = 2


class ProblemsError(UsageError):
    """Bad input that lists every problem found as (where, message) pairs, so a user
    fixes all of them in one go (``--output json`` lists them)."""

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        problems: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(message, hint)
        self.problems = problems or []


class ConfigError(ProblemsError):
    """bluegreen.toml is malformed or has an invalid value.

    ``problems`` lists every problem found as (key, message) pairs, so a user fixes all
    of them in one go.
    """


class RepositoryError(ProblemsError):
    """An application-repository file is missing, malformed or disagrees with the config.

    ``problems``: (file, message) pairs, as ConfigError's (``--output json`` lists them).
    """

    @staticmethod
    def pairs(problems: list[str]) -> list[tuple[str, str]]:
        """``"appspec.yml: its Hooks ..."`` lines as (file, message) pairs."""
        found = []
        for problem in problems:
            file, sep, message = problem.partition(": ")
            found.append((file, message) if sep else ("(repository)", problem))
        return found


class OperationError(BluegreenError):
    """An operation was attempted and failed. Exit code 1."""

    exit_code = 1


class AwsError(OperationError):
    """An AWS API call failed; the message names the action and the hint the fix."""


class StateError(OperationError):
    """The live state does not allow the requested operation (for example promote with no
    deployment waiting); the message says what the state is."""


class RehearsalError(OperationError):
    """A rehearsed release ended in failure (and was rolled back)."""


class Interrupted(BluegreenError):
    """The user pressed Ctrl-C (SIGINT). Exit code 130: 128 + SIGINT, what a shell reports
    for a command killed by that signal (bash(1), EXIT STATUS), so a calling script or
    loop stops too. ``left`` says what keeps running or was left half done (empty when
    nothing was), ``resume`` the command that picks it up again."""

    exit_code = 130

    def __init__(self, left: str = "", resume: str = "", *, reported: bool = False) -> None:
        super().__init__("interrupted" + (f": {left}" if left else ""))
        self.left = left
        self.resume = resume
        self.reported = reported  # the command has already said what was left

    def __str__(self) -> str:
        return self.message + (f"; resume with: {self.resume}" if self.resume else "")
