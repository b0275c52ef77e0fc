"""CodePipeline V2 push triggers: which pushes start an execution.

Glob patterns (CodePipeline user guide, "Working with glob patterns in syntax",
https://docs.aws.amazon.com/codepipeline/latest/userguide/syntax-glob.html):

- ``*`` zero or more characters of a name component, within directory boundaries (not
  across ``/``); ``**`` zero or more characters crossing directory boundaries;
- ``?`` one character of a name component; ``[ ]`` one character of a set (``!`` first
  negates; inside brackets ``*``, ``?`` and ``\\`` match themselves; ``-`` first, or
  first after ``!``, matches itself); ``{a,b}`` a group of subpatterns, not nested;
- ``\\`` escapes a special character.

A push filter (CodePipeline user guide, "Add trigger with code push or pull request event
types", https://docs.aws.amazon.com/codepipeline/latest/userguide/pipelines-filter.html,
and the API reference's GitPushFilter, GitBranchFilterCriteria,
GitFilePathFilterCriteria): a push "starts a pipeline when a change is pushed to your
source repository. The execution will use the commit from the branch that you're pushing
to"; includes name what starts the pipeline and excludes what does not, and "The
branchesExcludes takes priority over the branchesIncludes" (the same for file paths:
aws-cdk GitPushFilter, https://docs.aws.amazon.com/cdk/api/v2/python/aws_cdk.aws_codepipeline/GitPushFilter.html).

How the file paths of one push are read here (AWS does not spell out the case of several
files): a changed file counts when it matches an include (or there are no includes) and
no exclude; the filter matches when at least one changed file counts, so a push that
changes only excluded files starts nothing. A filter with tags matches tag pushes only;
branch pushes are what bluegreen makes and what the emulator delivers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=256)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """The regular expression of a CodePipeline glob (whole-string match)."""
    out: list[str] = []
    i, n = 0, len(pattern)
    in_group = False
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if c == "*":
            if pattern.startswith("**", i):
                out.append(".*")
                i += 2
            else:
                out.append("[^/]*")
                i += 1
            continue
        if c == "?":
            out.append("[^/]")
        elif c == "[":
            end = i + 1
            if end < n and pattern[end] == "!":
                end += 1
            if end < n and pattern[end] == "]":
                end += 1
            while end < n and pattern[end] != "]":
                end += 1
            if end >= n:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : end]
                negate = body.startswith("!")
                if negate:
                    body = body[1:]
                escaped = body.replace("\\", "\\\\").replace("^", "\\^").replace("[", "\\[")
                out.append(f"[{'^' if negate else ''}{escaped}]")
                i = end
        elif c == "{" and not in_group:
            in_group = True
            out.append("(?:")
        elif c == "}" and in_group:
            in_group = False
            out.append(")")
        elif c == "," and in_group:
            out.append("|")
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def glob_match(pattern: str, value: str) -> bool:
    return glob_regex(pattern).fullmatch(value) is not None


def _selected(value: str, criteria: Mapping[str, Any] | None) -> bool:
    """Included (or no includes) and not excluded: excludes take priority."""
    if not criteria:
        return True
    includes: Sequence[str] = criteria.get("includes") or []
    excludes: Sequence[str] = criteria.get("excludes") or []
    if any(glob_match(p, value) for p in excludes):
        return False
    return not includes or any(glob_match(p, value) for p in includes)


def push_matches(push_filter: Mapping[str, Any], branch: str, changed: Iterable[str]) -> bool:
    """Whether a push of ``branch`` changing ``changed`` passes one GitPushFilter."""
    if push_filter.get("tags") and not push_filter.get("branches"):
        return False  # a tag filter: tag pushes only
    if not _selected(branch, push_filter.get("branches")):
        return False
    paths = push_filter.get("filePaths")
    if not paths:
        return True
    return any(_selected(path, paths) for path in changed)
