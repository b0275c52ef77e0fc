"""Time `bluegreen rehearse` as a fresh process (the README's main command).

Runs the whole rehearsal (synthesize, provision three stacks into the embedded emulator,
the releases through the pipeline) N times and prints the fastest and the median wall
time, the CPU the run took (the rehearsal's process and the processes it started: builds,
the data plane's apps), and the load average before and after (the machine is shared:
compare figures taken at a similar load). Target: under 10 s wall on a 2-core machine.
Figures only, no assertion.

By default it rehearses a fresh `bluegreen init` scaffold as a repository (``bluegreen
rehearse PATH``: one release); ``--story`` rehearses the default story instead (no PATH:
the scaffold's two releases and the branch check). ``--python`` times another
installation (for example one made with ``pip install -e .`` only, without the app's
packages: its health checks are derived statically). PYTHONDONTWRITEBYTECODE is unset for
the runs, as on a user's machine (compiling every module each run adds ~1 s). Extra
arguments after ``--`` go to ``bluegreen rehearse`` (for example
``-- --fault green-unhealthy``).

    .venv/bin/python bench/rehearse.py [--runs 5] [--story] [--python PY] [-- ARGS]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--story", action="store_true", help="the default story (no PATH): two releases"
    )
    parser.add_argument(
        "--python", default=sys.executable, help="the interpreter of the installation to time"
    )
    parser.add_argument("extra", nargs="*", help="arguments passed to bluegreen rehearse")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory(prefix="bench-rehearse-") as tmp:
        work = Path(tmp)
        bluegreen = [args.python, "-m", "bluegreen"]
        command = [*bluegreen, "rehearse", *args.extra]
        if not args.story:
            made = subprocess.run(
                [*bluegreen, "init", str(work)], capture_output=True, text=True, env=env
            )
            if made.returncode != 0:
                sys.exit(f"bluegreen init failed:\n{made.stderr}")
            command.append(str(work))
        # One run not counted: it writes the bytecode caches a user's first run writes.
        subprocess.run(command, capture_output=True, env=env, cwd=work, check=False)
        before = _load()
        walls: list[float] = []
        cpus: list[float] = []
        for _ in range(args.runs):
            used = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=work)
            walls.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime - used.ru_utime + after.ru_stime - used.ru_stime)
            if done.returncode not in (0, 1):
                sys.exit(f"{' '.join(command)} exited {done.returncode}:\n{done.stderr}")
    what = "bluegreen rehearse" + (" (story)" if args.story else " PATH (a fresh scaffold)")
    print(f"{what} {' '.join(args.extra)}, {args.python}, fresh process, {args.runs} runs:")
    print(f"  wall min    {min(walls):.2f} s")
    print(f"  wall median {statistics.median(walls):.2f} s")
    print(f"  cpu  min    {min(cpus):.2f} s (user+sys of the run and the processes it started)")
    print(f"  load average before {before}, after {_load()} (1, 5, 15 min)")


if __name__ == "__main__":
    main()
