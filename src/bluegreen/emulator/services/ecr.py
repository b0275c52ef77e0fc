"""ECR: the refusal moto makes with the wrong error, made as ECR makes it.

A PutImage of another manifest under a tag that exists in a repository with immutable
tags is refused with ``ImageTagAlreadyExistsException`` ("The specified image is tagged
with a tag that already exists. The repository is configured for tag immutability.",
the ECR API model; PutImage lists it among its errors), with the text the registry gives
a ``docker push`` of such a tag: "The image tag '<tag>' already exists in the
'<repository>' repository and cannot be overwritten because the repository is
immutable." (aws/containers-roadmap#862). moto raises ImageAlreadyExistsException there
(getmoto/moto#8717). The same manifest under the same tag stays moto's
ImageAlreadyExistsException ("The specified image has already been pushed, and there were
no changes to the manifest or image tag after the last push").

ListImages pages as ECR does (moto returns every image at once): ``maxResults`` "can be
between 1 and 1000. If this parameter is not used, then ListImages returns up to 100
results and a nextToken value, if applicable" (ECR API reference, ListImages). Everything
else of ECR is moto's.
"""

from __future__ import annotations

import json
from typing import Any

from bluegreen.emulator.service import PASS, Call, Params, Result, Service, ServiceError, operation

_PASS: Result = PASS


BATCH_DELETE_IMAGE_MAX = 100
"""Image ids one BatchDeleteImage takes at most (ECR API reference, BatchDeleteImage:
imageIds "Array Members: Minimum number of 1 item. Maximum number of 100 items"; botocore's
ecr model, ImageIdentifierList max 100)."""


LIST_IMAGES_PAGE = 100
"""Image ids one ListImages answers when maxResults is not given (ECR API reference)."""


class Ecr(Service):
    name = "ecr"

    @operation("ListImages")
    def list_images(self, params: Params, call: Call) -> Result:
        name = str(params.get("repositoryName") or "")
        backend = self.emulator.backend("ecr")
        if name not in backend.repositories:
            return _PASS  # moto's RepositoryNotFoundException
        wanted = (params.get("filter") or {}).get("tagStatus", "ANY")
        ids: list[Result] = []
        for image in backend.list_images(name, params.get("registryId"), tag_status=wanted):
            for tag in image.image_tags or [None]:
                one: Result = {"imageDigest": image.image_digest}
                if tag is not None:
                    one["imageTag"] = tag
                ids.append(one)
        limit = int(params.get("maxResults") or LIST_IMAGES_PAGE)
        token = params.get("nextToken")
        start = int(token) if token and str(token).isdigit() else 0
        result: Result = {"imageIds": ids[start : start + limit]}
        if start + limit < len(ids):
            result["nextToken"] = str(start + limit)
        return result

    @operation("BatchDeleteImage")
    def batch_delete_image(self, params: Params, call: Call) -> Result:
        """moto deletes any number of images; ECR refuses more than 100 ids with
        InvalidParameterException (HTTP 400) and this text (quoted in
        awslabs/ecr-cleanup-lambda#11 and fujiwara/ecrm#3)."""
        if len(params.get("imageIds") or []) > BATCH_DELETE_IMAGE_MAX:
            raise ServiceError(
                "InvalidParameterException",
                "Invalid parameter at 'imageIds' failed to satisfy constraint: 'Member must "
                f"have length less than or equal to {BATCH_DELETE_IMAGE_MAX}'",
            )
        return _PASS

    @operation("PutImage")
    def put_image(self, params: Params, call: Call) -> Result:
        name = str(params.get("repositoryName") or "")
        tag = params.get("imageTag")
        backend = self.emulator.backend("ecr")
        repository: Any = backend.repositories.get(name)
        if repository is None or not tag or not _immutable(repository, str(tag)):
            return _PASS
        manifest = str(params.get("imageManifest") or "")
        for image in repository.images:
            tags = list(getattr(image, "image_tags", None) or [])
            if tag in tags and not _same(image.image_manifest, manifest):
                raise ServiceError(
                    "ImageTagAlreadyExistsException",
                    f"The image tag '{tag}' already exists in the '{name}' repository and "
                    "cannot be overwritten because the repository is immutable.",
                )
        return _PASS


def _immutable(repository: Any, tag: str) -> bool:
    """Whether ``tag`` cannot be moved (IMMUTABLE; the *_WITH_EXCLUSION settings flip it
    for tags their filters match: ECR user guide, "Image tag mutability")."""
    import fnmatch

    raw = getattr(repository, "image_tag_mutability", "MUTABLE")
    setting = str(getattr(raw, "value", raw))  # moto keeps a str Enum or a str
    filters = getattr(repository, "image_tag_mutability_exclusion_filters", None) or []
    excluded = any(fnmatch.fnmatchcase(tag, str(f.get("filter", ""))) for f in filters)
    if setting == "IMMUTABLE":
        return True
    if setting == "IMMUTABLE_WITH_EXCLUSION":
        return not excluded
    if setting == "MUTABLE_WITH_EXCLUSION":
        return excluded
    return False


def _same(left: str, right: str) -> bool:
    try:
        return bool(json.loads(left) == json.loads(right))
    except ValueError:
        return left == right
