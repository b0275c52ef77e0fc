"""The quick start's install (`pip install -e .`) lacks the app's packages: the data plane
cannot run the app, derives its health statically, and the rehearsal must still tell the
seed's story: the checks are said to be not sent (the emulator's 502 would judge this
machine, not the revision) and the load run's answers from the emulator are not counted as
failed requests. A regression found by running the README's quick start from a fresh clone."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bluegreen.cli.app import main
from bluegreen.emulator.dataplane import ProcessRunner


def test_the_quick_start_install_rehearses_the_story(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(ProcessRunner, "_missing", lambda self, image, files: ["fastapi"])
    assert main(["rehearse", "--output", "json"]) == 0
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert document["outcome"] == "succeeded"
    for release in document["releases"]:
        assert release["outcome"] == "succeeded"
        assert release["load"]["failed"] == 0 and sum(release["load"]["served"].values()) > 0
    notes = " ".join(document["notes"])
    assert "health derived statically" in notes and "fastapi" in notes
    assert main(["rehearse"]) == 0
    text = capsys.readouterr().out
    assert "checks: skipped" in text
    assert "the app does not run on this machine" in text
