"""Stack 1, source: the CodeCommit repository and the two ECR image repositories.

It is deployed first because everything else refers to it: the service stack's
execution role pulls from the image repositories and the pipeline stack builds from
the CodeCommit repository and pushes to the image repositories.

With a CodeConnections provider (``source.provider`` github, gitlab or bitbucket) the
application repository lives with that provider and the pipeline reads it through the
connection (:mod:`bluegreen.stacks.connections`): the stack holds the image repositories
only, so no CodeCommit repository is made (CodeCommit may not even be open to the
account: :mod:`bluegreen.aws.preflight`).

Image repositories use IMMUTABLE tags: a build tags its image with a hash of the content
it is built from (the git tree of its directory, plus what else its build reads and the
build settings: :mod:`bluegreen.stacks.pipeline`), so a tag names exactly one image
forever, an unchanged component reuses its image, and a rollback redeploys the very same
bytes. The lifecycle policy keeps storage bounded without touching what a rollback needs.
"""

from __future__ import annotations

import json

from troposphere import GetAtt, Ref, Template, codecommit, ecr

from bluegreen.config import Config
from bluegreen.names import Names, Outputs
from bluegreen.stacks.common import add_output

KEEP_IMAGES = 30
"""Images kept per repository; older ones expire (plenty for rollbacks)."""

UNTAGGED_DAYS = 1
"""Untagged images (layers of failed pushes) expire after this many days."""


def lifecycle_policy_text() -> str:
    """The ECR lifecycle policy (JSON text; rules with tagStatus any must come last)."""
    policy = {
        "rules": [
            {
                "rulePriority": 1,
                "description": f"Expire untagged images after {UNTAGGED_DAYS} day",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": UNTAGGED_DAYS,
                },
                "action": {"type": "expire"},
            },
            {
                "rulePriority": 2,
                "description": f"Keep the last {KEEP_IMAGES} images",
                "selection": {
                    "tagStatus": "any",
                    "countType": "imageCountMoreThan",
                    "countNumber": KEEP_IMAGES,
                },
                "action": {"type": "expire"},
            },
        ]
    }
    return json.dumps(policy, sort_keys=True, separators=(",", ":"))


def _image_repository(title: str, name: str) -> ecr.Repository:
    return ecr.Repository(
        title,
        RepositoryName=name,
        ImageTagMutability="IMMUTABLE",
        ImageScanningConfiguration=ecr.ImageScanningConfiguration(ScanOnPush=True),
        EncryptionConfiguration=ecr.EncryptionConfiguration(EncryptionType="AES256"),
        LifecyclePolicy=ecr.LifecyclePolicy(LifecyclePolicyText=lifecycle_policy_text()),
        # Images are rebuilt from the repository; `bluegreen destroy` must not be
        # blocked by a non-empty repository.
        EmptyOnDelete=True,
    )


def build_source(config: Config) -> Template:
    """The source stack's template."""
    names = Names.of(config)
    stack = names.source_stack
    if config.source.provider != "codecommit":
        t = Template(
            Description=(
                f"bluegreen {names.prefix}: image repositories (source: "
                f"{config.source.provider} {config.source.full_repository_id})"
            )
        )
        _image_outputs(t, names, stack)
        return t
    t = Template(Description=f"bluegreen {names.prefix}: source repository and image repositories")

    repo = t.add_resource(
        codecommit.Repository(
            "Repository",
            RepositoryName=names.codecommit_repository,
            RepositoryDescription=(
                f"Application repository of {names.prefix} "
                f"(app in {config.app.directory}/, log router in {config.router.directory}/)"
            ),
        )
    )

    add_output(
        t, names, stack, Outputs.REPOSITORY_NAME, GetAtt(repo, "Name"), "CodeCommit repository"
    )
    add_output(
        t, names, stack, Outputs.REPOSITORY_ARN, GetAtt(repo, "Arn"), "CodeCommit repository ARN"
    )
    add_output(
        t,
        names,
        stack,
        Outputs.REPOSITORY_CLONE_URL,
        GetAtt(repo, "CloneUrlHttp"),
        "HTTPS clone URL (git-remote-codecommit or the credential helper)",
    )
    _image_outputs(t, names, stack)
    return t


def _image_outputs(t: Template, names: Names, stack: str) -> None:
    """The two image repositories and their outputs."""
    app = t.add_resource(_image_repository("AppImageRepository", names.app_image_repository))
    router = t.add_resource(
        _image_repository("RouterImageRepository", names.router_image_repository)
    )
    for repository, name_key, uri_key, arn_key, what in (
        (
            app,
            Outputs.APP_IMAGE_REPOSITORY_NAME,
            Outputs.APP_IMAGE_REPOSITORY_URI,
            Outputs.APP_IMAGE_REPOSITORY_ARN,
            "app",
        ),
        (
            router,
            Outputs.ROUTER_IMAGE_REPOSITORY_NAME,
            Outputs.ROUTER_IMAGE_REPOSITORY_URI,
            Outputs.ROUTER_IMAGE_REPOSITORY_ARN,
            "log router",
        ),
    ):
        add_output(
            t, names, stack, name_key, Ref(repository), f"ECR repository of the {what} image"
        )
        add_output(
            t, names, stack, uri_key, GetAtt(repository, "RepositoryUri"), f"{what} image URI"
        )
        add_output(
            t, names, stack, arn_key, GetAtt(repository, "Arn"), f"{what} image repository ARN"
        )
