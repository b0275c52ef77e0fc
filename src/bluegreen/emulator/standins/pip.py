"""``python3 -m pip install`` in a played build: what the emulated build image already has.

CodeBuild's standard image installs packages from PyPI; the emulator has no network,
and the build's ``python3`` is the emulator's own interpreter (so a build can run the
app's tests with the packages it already holds). This stand-in never installs anything
(the interpreter's environment is bluegreen's own): for each requirement pinned with
``name==version`` in the files given with ``-r`` (followed through nested ``-r``), it
reports whether the interpreter has that distribution, as pip reports a satisfied
requirement, and fails like pip when one is missing ("ERROR: Could not find a version
that satisfies the requirement ..." and exit status 1). A different installed version is
said, not refused: the tests then run against that version.

Run as ``python -I pip.py install [options] -r FILE ...`` (standard library only, and
``packaging`` for environment markers when the interpreter has it).
"""

from __future__ import annotations

import importlib.metadata
import re
import sys
from pathlib import Path

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)\s*(;[^\\]*)?")
_VALUE_OPTIONS = {"-r", "--requirement", "-c", "--constraint", "-i", "--index-url", "-t"}


def _marker_holds(marker: str) -> bool:
    try:
        from packaging.markers import Marker
    except ImportError:  # pragma: no cover - packaging is there with pytest
        return True
    return bool(Marker(marker.lstrip(";").strip()).evaluate())


def requirements(path: Path, seen: set[Path] | None = None) -> list[tuple[str, str]]:
    """(name, version) of every ``name==version`` line of ``path`` and the files it
    includes with ``-r``, whose environment marker holds here."""
    seen = seen if seen is not None else set()
    path = path.resolve()
    if path in seen:
        return []
    seen.add(path)
    found: list[tuple[str, str]] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if line.startswith(("-r ", "--requirement ")):
            found += requirements(path.parent / line.split(None, 1)[1].strip(), seen)
            continue
        match = _PIN.match(line)
        if match and (not match.group(3) or _marker_holds(match.group(3))):
            found.append((match.group(1), match.group(2)))
    return found


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "install":
        print("pip (emulated build image): only `pip install -r FILE` is played", file=sys.stderr)
        return 2
    files: list[Path] = []
    quiet = False
    i = 1
    while i < len(argv):
        word = argv[i]
        if word in ("-r", "--requirement") and i + 1 < len(argv):
            files.append(Path(argv[i + 1]))
            i += 2
            continue
        if word in ("-q", "--quiet"):
            quiet = True
        elif word in _VALUE_OPTIONS:
            i += 1
        elif not word.startswith("-"):
            print(
                f"pip (emulated build image): cannot download {word}: install from a "
                "requirements file (-r) of pinned versions",
                file=sys.stderr,
            )
            return 1
        i += 1
    missing = 0
    for file in files:
        if not file.is_file():
            print(
                f"ERROR: Could not open requirements file: [Errno 2] No such file or "
                f"directory: '{file}'",
                file=sys.stderr,
            )
            return 1
        for name, version in requirements(file):
            try:
                have = importlib.metadata.version(name)
            except importlib.metadata.PackageNotFoundError:
                print(
                    f"ERROR: Could not find a version that satisfies the requirement "
                    f"{name}=={version} (the emulated build image has no network)",
                    file=sys.stderr,
                )
                missing += 1
                continue
            if not quiet:
                note = "" if have == version else f" (pinned {version}; the image has {have})"
                print(f"Requirement already satisfied: {name}=={have}{note}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
