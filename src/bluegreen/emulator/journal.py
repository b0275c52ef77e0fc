"""The emulator's journal: what happened to it, so its state can be kept and resumed.

The emulator is deterministic: the same requests at the same simulated times give the
same state (moto's ids are seeded, bluegreen's services derive their ids from counters
and content, the clock only moves when told). So a state is kept as the story that made
it: every request a client made that could change something (a REST API's with its
method, path, query and headers), every move of the clock, and every outside event (a
``git push`` to an emulated repository). Reads are not kept: nothing they do may change
what a later request makes (moto's request ids, drawn from its seeded random, did; see
``Emulator._patch_moto_request_ids``). Resuming replays that
story into a fresh emulator, then carries on recording.

One JSON object per line in ``journal.jsonl``; the first line holds what the emulator was
started with (region, clock start, seed, build quota).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

FILENAME = "journal.jsonl"

# Operations that never change state: not journaled (prefixes of AWS operation names).
_READS = ("Describe", "Get", "List", "BatchGet", "Head", "Select", "Filter", "Lookup", "Test")


# Headers of a REST request that say nothing about what it asks (the signature, the
# connection, the client): not journaled.
_TRANSPORT_HEADERS = frozenset(
    (
        "authorization",
        "x-amz-date",
        "x-amz-security-token",
        "user-agent",
        "amz-sdk-invocation-id",
        "amz-sdk-request",
        "host",
        "content-length",
        "connection",
        "accept-encoding",
        "expect",
    )
)


def _unsigned(authorization: str) -> str:
    """A SigV4 ``Authorization`` header with its key id and signature blanked.

    A REST request is replayed signed: moto serves an unsigned one as an anonymous
    caller's (S3 then refuses to delete an object whose ACL is private). The journal
    keeps the credential scope (date, region, service) but no key id or signature.
    """
    scope = authorization.split("Credential=", 1)[-1].split(",", 1)[0].split("/", 1)
    rest = scope[1] if len(scope) > 1 else "19700101/us-east-1/s3/aws4_request"
    return f"AWS4-HMAC-SHA256 Credential=journaled/{rest}, SignedHeaders=host, Signature=0"


def changes_state(operation: str) -> bool:
    """Whether a request of ``operation`` may change state (and so is journaled)."""
    return not operation.startswith(_READS)


@dataclass(frozen=True)
class Header:
    region: str
    start: datetime
    seed: int
    build_quota: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "emulator",
            "region": self.region,
            "start": self.start.isoformat(),
            "seed": self.seed,
            "build_quota": self.build_quota,
        }


class Journal:
    """Appends entries to ``<directory>/journal.jsonl`` (flushed line by line)."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / FILENAME
        self._file: TextIO | None = None
        self.replaying = False

    @property
    def exists(self) -> bool:
        return self.path.is_file() and self.path.stat().st_size > 0

    def header(self) -> Header:
        with self.path.open(encoding="utf-8") as f:
            first = json.loads(f.readline())
        return Header(
            region=first["region"],
            start=datetime.fromisoformat(first["start"]),
            seed=int(first["seed"]),
            build_quota=int(first["build_quota"]),
        )

    def entries(self) -> Iterator[dict[str, Any]]:
        with self.path.open(encoding="utf-8") as f:
            f.readline()
            for line in f:
                if line.strip():
                    yield json.loads(line)

    def open(self, header: Header | None = None) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", encoding="utf-8")
        if header is not None:
            self._write(header.to_dict())

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _write(self, entry: dict[str, Any]) -> None:
        if self._file is None or self.replaying:
            return
        self._file.write(json.dumps(entry, separators=(",", ":"), sort_keys=True) + "\n")
        self._file.flush()

    def request(
        self,
        at: float,
        service: str,
        operation: str,
        body: bytes | str,
        headers: dict[str, str],
        principal: str,
        route: dict[str, str] | None = None,
    ) -> None:
        """A request that may change state. ``route`` (``method``, ``path``, ``query``) is
        where a REST API's request went: its parameters are in the path, the query and
        the headers, so those are kept too (all headers but the signature's and the
        transport's)."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        if route is None:
            kept = {
                k: v for k, v in headers.items() if k.lower() in ("content-type", "x-amz-target")
            }
        else:
            kept = {k: v for k, v in headers.items() if k.lower() not in _TRANSPORT_HEADERS}
            signed = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
            if signed is not None:
                kept["Authorization"] = _unsigned(signed)
        entry: dict[str, Any] = {
            "kind": "request",
            "at": at,
            "service": service,
            "operation": operation,
            "body": base64.b64encode(data).decode("ascii"),
            "headers": kept,
            "principal": principal,
        }
        if route is not None:
            entry["route"] = dict(route)
        self._write(entry)

    def advance(self, to: float) -> None:
        self._write({"kind": "advance", "to": to})

    def event(self, at: float, name: str, **data: Any) -> None:
        """An outside event (a git push) the emulator saw, replayed by its service."""
        self._write({"kind": "event", "at": at, "name": name, "data": data})
