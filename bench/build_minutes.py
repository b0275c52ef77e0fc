"""Model the CodeBuild minutes selective builds save on an app-only release.

A release runs two image builds one after the other (stacks/pipeline.py BUILD_RUN_ORDER).
Before selective builds both always built and pushed; now a build whose content tag is
already in ECR skips docker build and push (its BUILD phase takes seconds). An app-only
release (the seed's greeting change) therefore saves the router build's docker build and
push: in build minutes, and in the release's own duration, since the router build runs
after the app build.

The phase durations are the emulator's (bluegreen.emulator.timing, each with its source;
the docker build and push is an observed "minutes" figure, modelled at 120 s). CodeBuild
bills on-demand builds by the minute of build duration per compute type (AWS CodeBuild
pricing, https://aws.amazon.com/codebuild/pricing/); the billed figure here rounds each
build up to whole minutes, the conservative reading. With --rehearse, the same figures are
read from a rehearsal's release 2 (the seed's change), as played by the emulated CodeBuild.

    .venv/bin/python bench/build_minutes.py [--releases-per-month 100] [--rehearse]
"""

from __future__ import annotations

import argparse
import json
import math

from bluegreen.emulator import timing
from bluegreen.emulator.services.codebuild import BUILD_WITHOUT_IMAGE


def model() -> dict[str, float]:
    """Seconds of one image build that builds and pushes, and of one that reuses."""
    full = sum(timing.BUILD_PHASES.values())
    reused = full - timing.BUILD_PHASES["BUILD"] + BUILD_WITHOUT_IMAGE
    return {"full_build_seconds": full, "reused_build_seconds": reused}


def figures(full: float, reused: float, releases: int) -> dict[str, object]:
    saved = full - reused
    billed_saved = math.ceil(full / 60) - math.ceil(reused / 60)
    return {
        "full_build_seconds": full,
        "reused_build_seconds": reused,
        "saved_seconds_per_app_only_release": saved,
        "saved_minutes_per_app_only_release": round(saved / 60, 2),
        "billed_minutes_saved_per_app_only_release": billed_saved,
        "release_faster_by_seconds": saved,
        "billed_minutes_saved_per_month": billed_saved * releases,
        "build_minutes_before_per_release": round(2 * full / 60, 2),
        "build_minutes_after_per_app_only_release": round((full + reused) / 60, 2),
    }


def rehearsed() -> dict[str, float]:
    """The router build of the default rehearsal's release 2, as played."""
    from bluegreen.config import Config
    from bluegreen.rehearse import story

    result = story.run(story.Options(config=Config()))
    first, second = result.releases[:2]
    full = next(b for b in first.builds if b["action"] == "BuildRouter")
    reused = next(b for b in second.builds if b["action"] == "BuildRouter")
    assert reused["result"] == "reused", reused
    return {"full_build_seconds": full["seconds"], "reused_build_seconds": reused["seconds"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases-per-month", type=int, default=100)
    parser.add_argument(
        "--rehearse", action="store_true", help="read the durations from a rehearsal"
    )
    args = parser.parse_args()
    base = rehearsed() if args.rehearse else model()
    out = figures(base["full_build_seconds"], base["reused_build_seconds"], args.releases_per_month)
    out["source"] = "rehearsal" if args.rehearse else "model"
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
