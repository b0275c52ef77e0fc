"""Pipeline artifacts: ZIP files in the pipeline's S3 artifact store.

CodePipeline hands artifacts between actions as ZIP files in the artifact bucket
(``artifactStore.location``); a CodeCommit source action writes the commit's tree there
(OutputArtifactFormat CODE_ZIP, its default: CodePipeline user guide, "CodeCommit source
action reference"), CodeBuild reads its input from there and writes its output there.
Both services reach S3 through the S3 API acting as their roles (the pipeline role, the
build project's service role), so issue 9's role evaluation sees every access.

The ZIPs are deterministic: entries sorted, timestamps from the simulated clock, file
modes kept (an executable stays executable after CodeBuild unzips it).
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bluegreen.emulator import internal

if TYPE_CHECKING:
    from bluegreen.emulator.core import Emulator

_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest date a ZIP entry can hold


@dataclass(frozen=True)
class Location:
    """Where an artifact lives: ``s3://bucket/key``."""

    bucket: str
    key: str

    @property
    def arn(self) -> str:
        return f"arn:aws:s3:::{self.bucket}/{self.key}"

    def to_dict(self) -> dict[str, str]:
        return {"bucket": self.bucket, "key": self.key}


def artifact_key(pipeline: str, artifact: str, seed: str) -> str:
    """The object key CodePipeline gives an artifact.

    CodePipeline writes ``<pipeline name, first 20 characters>/<artifact name, first 10
    characters>/<7 random characters>`` (as build ``sourceVersion`` values show, for
    example ``arn:aws:s3:::codepipeline-us-east-1-.../MyPipeline/SourceArti/AbC1dEf``;
    observed, not documented). The random part here is a hash of ``seed`` so the same
    story gives the same keys.
    """
    digest = hashlib.sha256(seed.encode()).digest()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    suffix = "".join(alphabet[b % len(alphabet)] for b in digest[:7])
    return f"{pipeline[:20]}/{artifact[:10]}/{suffix}"


def zip_files(
    files: Mapping[str, bytes], when: datetime, modes: Mapping[str, int] | None = None
) -> bytes:
    """A ZIP of ``files`` (path -> content), deterministic for the same input."""
    stamp = max(_ZIP_EPOCH, when.timetuple()[:6])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(files):
            info = zipfile.ZipInfo(path, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            mode = (modes or {}).get(path, 0o644)
            info.external_attr = (0o100000 | mode) << 16
            archive.writestr(info, files[path])
    return out.getvalue()


def unzip(data: bytes) -> dict[str, bytes]:
    """The files of a ZIP (path -> content)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {
            info.filename: archive.read(info)
            for info in archive.infolist()
            if not info.filename.endswith("/")
        }


def unzip_modes(data: bytes) -> dict[str, int]:
    """The permission bits of each file of a ZIP (path -> mode)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {
            info.filename: (info.external_attr >> 16) & 0o777 or 0o644
            for info in archive.infolist()
            if not info.filename.endswith("/")
        }


def put(emulator: Emulator, principal: str, location: Location, data: bytes) -> None:
    """PutObject as ``principal`` (the pipeline role, a build's service role)."""
    s3 = internal.client(emulator, "s3", principal)
    s3.put_object(Bucket=location.bucket, Key=location.key, Body=data)


def get(emulator: Emulator, principal: str, location: Location) -> bytes:
    """GetObject as ``principal``."""
    s3 = internal.client(emulator, "s3", principal)
    body: bytes = s3.get_object(Bucket=location.bucket, Key=location.key)["Body"].read()
    return body
