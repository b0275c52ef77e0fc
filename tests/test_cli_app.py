"""The command shell: lazy command loading, help order, exit codes for usage errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bluegreen.cli.app import COMMANDS, main


def test_running_synth_does_not_import_aws_or_the_emulator() -> None:
    # Start-up cost: only the module of the command being run is imported.
    code = (
        "import sys\n"
        "from bluegreen.cli.app import main\n"
        "main(['synth', '--help'])\n"
        "print(sorted(m for m in ('boto3', 'moto', 'bluegreen.rehearse') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines()[-1] == "[]"


def test_help_lists_every_command_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["synth", "--help"]) == 0
    assert main(["--help"]) == 0
    listed = [
        line.split()[0]
        for line in capsys.readouterr().out.split("Commands:")[-1].splitlines()
        if line.strip()
    ]
    assert listed == list(COMMANDS)


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["synthesize"]) == 2
    assert "No such command" in capsys.readouterr().err
