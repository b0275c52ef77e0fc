"""An ECR image manifest for tests that put images: moto derives an image's digest from its
layer digests, so each seed gives an image with a digest of its own."""

from __future__ import annotations

import hashlib
import json


def manifest(seed: str) -> str:
    """A Docker v2 manifest (ECR PutImage's imageManifest) whose one layer is ``seed``'s."""
    layer = "sha256:" + hashlib.sha256(seed.encode()).hexdigest()
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "digest": layer,
                "size": 1,
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "digest": layer,
                    "size": 1,
                }
            ],
        }
    )
