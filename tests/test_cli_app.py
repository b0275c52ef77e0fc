"""The command shell: lazy command loading, help order, exit codes for usage errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


def test_debug_shows_the_traceback_and_keeps_the_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = str(tmp_path / "bluegreen.toml")
    assert main(["verify", "--config", missing]) == 2
    assert "Traceback" not in capsys.readouterr().err
    assert main(["--debug", "verify", "--config", missing]) == 2
    captured = capsys.readouterr().err
    assert "Traceback" in captured and "no such file" in captured


def test_argument_names_in_usage_match_the_help_text(capsys: pytest.CaptureFixture[str]) -> None:
    # The docstrings and the README say DIR and PATH.
    assert main(["init", "--help"]) == 0
    assert "DIR" in capsys.readouterr().out.splitlines()[0]
    assert main(["rehearse", "--help"]) == 0
    assert "[PATH]" in capsys.readouterr().out.splitlines()[0]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from bluegreen import __version__

    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"bluegreen {__version__}\n"


def test_the_console_script_is_installed_and_runs() -> None:
    import shutil
    from pathlib import Path

    script = shutil.which("bluegreen", path=str(Path(sys.executable).parent))
    assert script is not None, "pip install -e . installs the bluegreen console script"
    result = subprocess.run([script, "--version"], capture_output=True, text=True, check=True)
    assert result.stdout.startswith("bluegreen ")
