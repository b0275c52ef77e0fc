"""The ``aws`` and ``docker`` a build finds on its PATH: send the command to the emulator.

A build's ``bin`` directory holds, for each tool, a bash script (:data:`SCRIPT`) that
connects to the build's loopback endpoint with bash's own ``/dev/tcp`` (a few
milliseconds, no other process but ``cat``), sends the command line, the working
directory, the environment and (for ``docker login --password-stdin`` only) its standard
input, and writes back what the emulator answers. Where bash has no ``/dev/tcp``, the
script runs this module instead (``python -I -S client.py <endpoint file> <tool>
[args...]``: ``_socket``, ``os`` and ``sys`` only, ~20 ms to start).

Wire format: the request is NUL-ended fields (token, tool, cwd, argc, argv..., envc,
``K=V``..., stdin length) then the stdin bytes; the answer is ``<status> <stderr
length> <stdout length>\\n``, the standard error bytes, then the standard output bytes
(their length -1 when they hold a NUL byte, which bash's ``read`` cannot carry: then
they run to the end).
"""

from __future__ import annotations

import os
import sys

ENVIRONMENT = (
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_DEFAULT_OUTPUT",
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
    "HOME",
)
"""The variables the stand-ins read (``docker build --build-arg NAME`` reads the whole
environment: then every variable is sent)."""

SCRIPT = r"""#!{bash}
# bluegreen: the emulated {tool} of this build (the command runs in the emulated AWS).
__bg_env=()
if [[ {tool} == docker && " $* " == *" --build-arg"* ]]; then
  for __bg_name in $(compgen -e); do __bg_env+=("$__bg_name=${{!__bg_name}}"); done
else
  for __bg_name in {names}; do
    [[ -v $__bg_name ]] && __bg_env+=("$__bg_name=${{!__bg_name}}")
  done
fi
{{ IFS= read -r __bg_port && IFS= read -r __bg_token; }} < {endpoint} || exit 255
__bg_stdin=
if [[ {tool} == docker ]]; then
  for __bg_arg in "$@"; do
    if [[ $__bg_arg == --password-stdin ]]; then IFS= read -r -d '' __bg_stdin; fi
  done
fi
if ! {{ exec 3<>"/dev/tcp/127.0.0.1/$__bg_port"; }} 2>/dev/null; then
  exec {python} -I -S {client} {endpoint} {tool} "$@"
fi
LC_ALL=C
printf '%s\0' "$__bg_token" {tool} "$PWD" "$#" "$@" "${{#__bg_env[@]}}" "${{__bg_env[@]}}" \
  "${{#__bg_stdin}}" >&3
printf '%s' "$__bg_stdin" >&3
IFS=' ' read -r __bg_status __bg_errors __bg_output <&3 || {{
  echo "{tool}: the emulated AWS did not answer" >&2
  exit 255
}}
if (( __bg_errors > 0 )); then
  IFS= read -r -d '' -N "$__bg_errors" __bg_text <&3
  printf '%s' "$__bg_text" >&2
fi
if (( __bg_output > 0 )); then
  IFS= read -r -d '' -N "$__bg_output" __bg_text <&3
  printf '%s' "$__bg_text"
elif (( __bg_output < 0 )); then
  cat <&3
fi
exit "$__bg_status"
"""


PYTHON_SCRIPT = """#!/bin/sh
# bluegreen: the emulated {tool} of this build (the command runs in the emulated AWS).
exec {python} -I -S {client} {endpoint} {tool} "$@"
"""


def _main() -> int:
    import _socket

    endpoint, tool, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    with open(endpoint, "rb") as handle:
        port_text, _, token = handle.read().strip().partition(b"\n")
    stdin = b""
    if tool == "docker" and "--password-stdin" in args:
        stdin = sys.stdin.buffer.read()
    env = [f"{k}={v}".encode() for k, v in os.environ.items()]
    fields = [token, tool.encode(), os.getcwd().encode(), str(len(args)).encode()]
    fields += [a.encode() for a in args]
    fields += [str(len(env)).encode(), *env, str(len(stdin)).encode()]
    body = b"".join(f + b"\0" for f in fields) + stdin
    connection = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
    connection.settimeout(600)
    try:
        connection.connect(("127.0.0.1", int(port_text)))
        connection.sendall(body)
        chunks = []
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    except OSError as exc:
        os.write(2, f"{tool}: the emulated AWS did not answer: {exc}\n".encode())
        return 255
    finally:
        connection.close()
    head, _, rest = b"".join(chunks).partition(b"\n")
    status, errors, _ = head.split(b" ", 2)
    size = int(errors)
    try:
        _write(2, rest[:size])
        _write(1, rest[size:])
    except BrokenPipeError:  # a reader that stopped early (``aws ... | head -1``)
        return 141
    return int(status)


def _write(fd: int, data: bytes) -> None:
    while data:
        written = os.write(fd, data)
        data = data[written:]


if __name__ == "__main__":
    sys.exit(_main())
