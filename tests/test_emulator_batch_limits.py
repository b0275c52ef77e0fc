"""Batch limits the emulated S3 and ECR enforce as AWS does (moto takes any number), and
destroy's emptying of a bucket and of a repository never trips them.

- S3 DeleteObjects: at most 1,000 keys (S3 API reference, DeleteObjects); more is
  MalformedXML, HTTP 400 (aws/aws-sdk-java#1293, boto/boto3#3297);
- ECR BatchDeleteImage: at most 100 image ids (ECR API reference, BatchDeleteImage;
  botocore's ImageIdentifierList max 100); more is InvalidParameterException, HTTP 400
  (awslabs/ecr-cleanup-lambda#11, fujiwara/ecrm#3).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from bluegreen.aws.destroy import delete_all_images, empty_bucket_versions
from bluegreen.emulator import Emulator

REGION = "ap-northeast-1"
BUCKET = "sample3-dev-artifacts"
REPOSITORY = "sample3-dev-webapp"


@pytest.fixture(scope="module")
def aws() -> Iterator[Emulator]:
    with Emulator(REGION) as emulator:
        yield emulator


def _keys(count: int) -> list[dict[str, str]]:
    return [{"Key": f"k/{n:05d}"} for n in range(count)]


def test_delete_objects_takes_1000_keys_and_refuses_1001(aws: Emulator) -> None:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    # Keys that do not exist are deleted all the same (S3 answers Deleted for each).
    done = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": _keys(1000)})
    assert len(done["Deleted"]) == 1000
    with pytest.raises(ClientError) as info:
        s3.delete_objects(Bucket=BUCKET, Delete={"Objects": _keys(1001)})
    error = info.value.response["Error"]
    assert (error["Code"], info.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (
        "MalformedXML",
        400,
    )
    assert error["Message"] == (
        "The XML you provided was not well-formed or did not validate against our published schema"
    )


def _ids(count: int) -> list[dict[str, str]]:
    return [
        {"imageDigest": "sha256:" + hashlib.sha256(str(n).encode()).hexdigest()}
        for n in range(count)
    ]


def test_batch_delete_image_takes_100_ids_and_refuses_101(aws: Emulator) -> None:
    ecr = aws.client("ecr")
    ecr.create_repository(repositoryName=REPOSITORY)
    done = ecr.batch_delete_image(repositoryName=REPOSITORY, imageIds=_ids(100))
    assert len(done["failures"]) == 100  # none of them exists: ImageNotFound each
    with pytest.raises(ClientError) as info:
        ecr.batch_delete_image(repositoryName=REPOSITORY, imageIds=_ids(101))
    error = info.value.response["Error"]
    assert (error["Code"], info.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (
        "InvalidParameterException",
        400,
    )
    assert error["Message"] == (
        "Invalid parameter at 'imageIds' failed to satisfy constraint: 'Member must have "
        "length less than or equal to 100'"
    )


def test_destroy_empties_a_large_bucket_and_repository_within_the_limits(aws: Emulator) -> None:
    s3, ecr = aws.client("s3"), aws.client("ecr")
    bucket, repository = f"{BUCKET}-large", f"{REPOSITORY}-large"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    # 1,001 versions straight into moto's S3 (the API would take seconds): what a
    # pipeline's artifact bucket holds after many releases.
    backend = aws.backend("s3")
    for n in range(1001):
        backend.put_object(bucket, f"artifacts/{n:05d}", b"x")
    ecr.create_repository(repositoryName=repository)
    for n in range(101):
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"digest": f"sha256:{n:064x}"},
                "layers": [{"digest": f"sha256:{n + 1000:064x}"}],  # moto's digest: of these
            }
        )
        ecr.put_image(repositoryName=repository, imageManifest=manifest, imageTag=f"t{n}")
    refused = len(aws.refusals)
    assert empty_bucket_versions(s3, bucket) == 1001
    assert delete_all_images(ecr, repository) == 101
    assert aws.refusals[refused:] == []
    assert s3.list_object_versions(Bucket=bucket).get("Versions", []) == []
    assert ecr.list_images(repositoryName=repository)["imageIds"] == []
