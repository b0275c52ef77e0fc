"""FireLens with Fluent Bit: what the log router does to an app container's lines.

ECS's FireLens turns the app container's stdout/stderr into Fluent Bit records tagged
``<container name>-firelens-<task id>`` (AWS Containers blog, "Under the hood: FireLens
for Amazon ECS Tasks"; the scaffold's extra.conf matches ``webapp-firelens-*``), each a
record like the Docker fluentd log driver's: ``container_id``, ``container_name``,
``source`` (stdout/stderr) and ``log`` (the line). With ``enable-ecs-log-metadata`` (the
default) FireLens adds ``ecs_cluster``, ``ecs_task_arn`` and ``ecs_task_definition``
(ECS developer guide, "Using Amazon ECS metadata", firelens-taskdef.md). The router's
custom configuration file (``config-file-type: file``) is then applied, and the output
FireLens generates from the app container's ``awsfirelens`` options sends what survives
(``Name cloudwatch_logs``: to ``log_group_name``, stream ``log_stream_prefix`` + tag).

Only Fluent Bit's *classic* configuration syntax is read (sections in brackets, ``Key
Value`` entries, ``#`` comments), and of its filters the two a bluegreen router uses:

- ``grep``: ``Regex KEY REGEX`` keeps records whose KEY matches, ``Exclude KEY REGEX``
  drops them; in the default ``legacy`` mode the Regex rules are ANDed and the Exclude
  rules ORed (Fluent Bit manual, filters/grep, ``Logical_Op``); ``AND``/``OR`` apply one
  operator to every rule;
- ``record_modifier``: ``Record KEY VALUE`` adds a key, ``Remove_key KEY`` drops one.

Any other filter leaves records unchanged (reported by :attr:`RouterConfig.ignored`).
Fluent Bit's regular expressions are Onigmo's; the patterns a router uses (``\\s``,
classes, alternation) mean the same in Python's ``re``.
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass, field
from typing import Any

Record = dict[str, Any]


@dataclass(frozen=True)
class Section:
    """One ``[NAME]`` section of a classic Fluent Bit configuration."""

    name: str
    entries: tuple[tuple[str, str], ...]

    def get(self, key: str, default: str = "") -> str:
        for k, v in self.entries:
            if k.lower() == key.lower():
                return v
        return default

    def all(self, key: str) -> list[str]:
        return [v for k, v in self.entries if k.lower() == key.lower()]


class ConfigError(ValueError):
    """A configuration Fluent Bit would refuse to start with."""


def parse(text: str) -> list[Section]:
    """The sections of a classic-mode Fluent Bit configuration file."""
    sections: list[Section] = []
    name: str | None = None
    entries: list[tuple[str, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            if name is not None:
                sections.append(Section(name, tuple(entries)))
            name, entries = line[1:-1].strip().upper(), []
            continue
        if line.startswith("@"):
            continue  # @INCLUDE / @SET: not used by a bluegreen router
        if name is None:
            raise ConfigError(f"line {number}: an entry outside any [SECTION]: {raw!r}")
        parts = line.split(None, 1)
        entries.append((parts[0], parts[1].strip() if len(parts) > 1 else ""))
    if name is not None:
        sections.append(Section(name, tuple(entries)))
    return sections


def _matches(section: Section, tag: str) -> bool:
    pattern = section.get("Match_Regex")
    if pattern:
        return re.search(pattern, tag) is not None
    match = section.get("Match")
    return bool(match) and fnmatch.fnmatchcase(tag, match)


@dataclass(frozen=True)
class _Rule:
    include: bool
    key: str
    regex: re.Pattern[str]


@dataclass
class RouterConfig:
    """The filters of a router's custom configuration, ready to apply."""

    filters: list[Section] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    @classmethod
    def from_text(cls, text: str) -> RouterConfig:
        config = cls()
        for section in parse(text):
            if section.name != "FILTER":
                continue
            kind = section.get("Name").lower()
            if kind in ("grep", "record_modifier"):
                config.filters.append(section)
            else:
                config.ignored.append(kind)
        return config

    def apply(self, tag: str, record: Record) -> Record | None:
        """The record after every matching filter, in file order; None if dropped."""
        for section in self.filters:
            if not _matches(section, tag):
                continue
            kind = section.get("Name").lower()
            if kind == "grep":
                if not _grep(section, record):
                    return None
            elif kind == "record_modifier":
                record = _record_modifier(section, record)
        return record


def _rules(section: Section) -> list[_Rule]:
    rules = []
    for key, value in section.entries:
        lowered = key.lower()
        if lowered not in ("regex", "exclude"):
            continue
        field_name, _, pattern = value.partition(" ")
        rules.append(_Rule(lowered == "regex", field_name.strip(), re.compile(pattern.strip())))
    return rules


def _value(record: Record, key: str) -> str | None:
    if key.startswith("$"):  # record accessor: $log or $a['b']
        key = key[1:].split("[", 1)[0]
    value = record.get(key)
    return None if value is None else str(value)


def _grep(section: Section, record: Record) -> bool:
    """Whether the record survives a grep filter (Fluent Bit manual, filters/grep)."""
    rules = _rules(section)
    if not rules:
        return True
    op = section.get("Logical_Op", "legacy").lower()

    def hit(rule: _Rule) -> bool:
        value = _value(record, rule.key)
        return value is not None and rule.regex.search(value) is not None

    if op == "and":
        return all(hit(r) if r.include else not hit(r) for r in rules)
    if op == "or":
        return any(hit(r) if r.include else not hit(r) for r in rules)
    # legacy: every Regex must match, and no Exclude may match.
    for rule in rules:
        if rule.include and not hit(rule):
            return False
        if not rule.include and hit(rule):
            return False
    return True


def _record_modifier(section: Section, record: Record) -> Record:
    out = dict(record)
    for value in section.all("Record"):
        key, _, val = value.partition(" ")
        out[key] = val.strip()
    for key in section.all("Remove_key"):
        out.pop(key.strip(), None)
    return out


def tag(container: str, task_id: str) -> str:
    """FireLens's tag for a container's records: ``<container>-firelens-<task id>``."""
    return f"{container}-firelens-{task_id}"


def message(record: Record) -> str:
    """What the cloudwatch_logs output writes for a record without ``log_key``: the
    record as compact JSON (Fluent Bit serializes records in key order)."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def copied_paths(dockerfile: str) -> dict[str, str]:
    """``COPY src dest`` lines of a Dockerfile: image path -> build-context path."""
    found: dict[str, str] = {}
    for raw in dockerfile.splitlines():
        parts = raw.split()
        if len(parts) >= 3 and parts[0].upper() in ("COPY", "ADD"):
            args = [p for p in parts[1:] if not p.startswith("--")]
            if len(args) < 2:
                continue
            *sources, dest = args
            for source in sources:
                target = dest
                if dest.endswith("/") or len(sources) > 1:
                    target = dest.rstrip("/") + "/" + source.rstrip("/").rsplit("/", 1)[-1]
                found[target] = source
    return found


def config_file(files: dict[str, bytes], path: str) -> bytes | None:
    """The bytes of ``path`` inside an image built from ``files`` (its build context)."""
    dockerfile = files.get("Dockerfile")
    if dockerfile is not None:
        source = copied_paths(dockerfile.decode("utf-8", "replace")).get(path)
        if source is not None and source.removeprefix("./") in files:
            return files[source.removeprefix("./")]
    return None
