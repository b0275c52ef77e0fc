"""How long AWS takes for what it does by itself: the durations the emulator's clock uses.

Each duration names its source. Where AWS documents a number (a default, a quota, a
timeout) it is that number; where AWS documents none, the figure is a typical value
reported publicly, marked ``observed`` with where it was reported, so a reader can tell
a documented duration from a modelled one. The rehearsal lists them in its JSON output.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Duration:
    """A duration of the emulated AWS: seconds, what it is, and where the number is from."""

    seconds: float
    what: str
    source: str
    documented: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "seconds": self.seconds,
            "what": self.what,
            "source": self.source,
            "documented": self.documented,
        }


DURATIONS: dict[str, Duration] = {}


def duration(key: str, seconds: float, what: str, source: str, documented: bool = False) -> float:
    """Register a duration under ``key`` and return its seconds (module-level constants)."""
    DURATIONS[key] = Duration(seconds, what, source, documented)
    return seconds


# -- EventBridge, CodePipeline, CodeBuild (emulator/services/{events,codepipeline,codebuild}.py)
_FIDELITY = "reviews-2026-11/rehearsal-fidelity.md section 3"

EVENT_DELIVERY = duration(
    "events.delivery",
    0.5,
    "EventBridge delivering a service event to a matching rule's target",
    "modelled: EventBridge documents service events as best-effort delivery with no "
    "latency figure (EventBridge events reference, 'Delivery type: Best effort')",
)

PIPELINE_SOURCE = duration(
    "codepipeline.source",
    5.0,
    "a CodeCommit source action: archive the commit and store it in the artifact bucket",
    f"observed: 'seconds to tens of seconds' from push to pipeline start ({_FIDELITY})",
)
PIPELINE_JOB_POLL = duration(
    "codepipeline.job_poll",
    15.0,
    "how often CodePipeline checks an action's external job (a build, a deployment)",
    "modelled: CodePipeline documents no interval for its own action types",
)
PIPELINE_SOURCE_POLLING = duration(
    "codepipeline.source_polling",
    60.0,
    "how often a source action with PollForSourceChanges checks its branch",
    "modelled: CodePipeline documents polling (PollForSourceChanges, default true for "
    "CodeCommit) but no interval",
)

BUILD_PHASES: dict[str, float] = {
    "QUEUED": duration(
        "codebuild.queued", 1.0, "a build waiting for capacity", f"observed, {_FIDELITY}"
    ),
    "PROVISIONING": duration(
        "codebuild.provisioning",
        24.0,
        "CodeBuild starting the build container",
        f"observed: 24 s, 'over 30 s' is common with standard images ({_FIDELITY})",
    ),
    "DOWNLOAD_SOURCE": duration(
        "codebuild.download_source",
        4.0,
        "downloading the source (the pipeline's input artifact)",
        f"observed, {_FIDELITY}",
    ),
    "INSTALL": duration(
        "codebuild.install",
        1.0,
        "the install phase (no commands in bluegreen's buildspecs)",
        "modelled: no public figure",
    ),
    "PRE_BUILD": duration(
        "codebuild.pre_build",
        5.0,
        "pre_build: checks and the ECR login",
        "modelled: no public figure",
    ),
    "BUILD": duration(
        "codebuild.build",
        120.0,
        "build: docker build and push of an image",
        f"observed: 'minutes' for a multi-stage pip/apt image build and push ({_FIDELITY})",
    ),
    "POST_BUILD": duration(
        "codebuild.post_build",
        1.0,
        "post_build: writing imageDetail.json and taskdef.json",
        "modelled: no public figure",
    ),
    "UPLOAD_ARTIFACTS": duration(
        "codebuild.upload_artifacts",
        5.0,
        "uploading the output artifact",
        f"observed, {_FIDELITY}",
    ),
    "FINALIZING": duration(
        "codebuild.finalizing", 2.0, "finalizing the build", "modelled: no public figure"
    ),
}
