"""Time `bluegreen rehearse` as a fresh process (the README's main command).

Runs the whole rehearsal (synthesize, provision three stacks into the embedded emulator,
two releases through the pipeline) N times and prints the median and the fastest wall
time. Target: under 10 s on a 2-core machine, aiming for about 3 s. Figures only, no
assertion; pass extra arguments after `--` (for example `-- --fault green-unhealthy`).

    .venv/bin/python bench/rehearse.py [--runs 5] [-- REHEARSE ARGS]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("extra", nargs="*", help="arguments passed to bluegreen rehearse")
    args = parser.parse_args()
    exe = shutil.which("bluegreen", path=str(Path(sys.executable).parent)) or "bluegreen"
    command = [exe, "rehearse", *args.extra]
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - start)
        if done.returncode not in (0, 1):
            sys.exit(f"{' '.join(command)} exited {done.returncode}:\n{done.stderr}")
    print(f"{' '.join(['bluegreen', 'rehearse', *args.extra])}, fresh process, {args.runs} runs:")
    print(f"  median {statistics.median(times):.2f} s")
    print(f"  min    {min(times):.2f} s")


if __name__ == "__main__":
    main()
