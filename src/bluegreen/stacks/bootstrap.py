"""The bootstrap task definition's images and the app container's stand-in server.

The service stack creates the ECS service before any image has been built (the ECR
repositories are still empty), yet a CODE_DEPLOY-controlled service must be healthy
behind the ALB before the first pipeline run can do a blue/green deployment. So the
stack's task definition is a *bootstrap* revision built only from pinned public images:

- the app container runs a stock Python image with a tiny inline HTTP server that
  answers the health-check path with 200 "Health Check OK" (the seed app's reply) and
  every other path with a short notice that the first release is still to come;
- the log router runs the stock AWS for Fluent Bit image as the FireLens sidecar.

The first pipeline run replaces both with the images built from the repository.
Versions are pinned (never ``latest``) so the same config always yields the same
template bytes and the same running bootstrap.
"""

from __future__ import annotations

BOOTSTRAP_APP_IMAGE = "public.ecr.aws/docker/library/python:3.12.11-slim-bookworm"
"""Official Python image via ECR Public (no Docker Hub pull limits from Fargate), the same
version as the app's Dockerfile (appkit/_render.py PYTHON_IMAGE), so the placeholder and
the first release run the same interpreter."""

NOBODY = "65534:65534"
"""The placeholder app's user for a port of 1024 or above: ``nobody`` (uid and gid 65534
in Debian's base-passwd, which the python image is built on), numeric so no passwd lookup
is needed (hadolint DL3066's reasoning)."""

BOOTSTRAP_ROUTER_IMAGE = "public.ecr.aws/aws-observability/aws-for-fluent-bit:3.2.1"
"""AWS for Fluent Bit 3.x (Amazon Linux 2023); the 2.x line reached end of support."""

HEALTH_BODY = "Health Check OK"
WAITING_BODY = "bluegreen bootstrap: waiting for the first pipeline run"

ROUTER_MEMORY_RESERVATION = 64
"""MiB reserved for the Fluent Bit sidecar (AWS suggests at least 50 MiB for FireLens)."""

_SERVER = """\
import http.server
HEALTH_PATH = {path!r}
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        path = self.path.split("?", 1)[0]
        body = {health!r} if path == HEALTH_PATH else {waiting!r}
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
http.server.ThreadingHTTPServer(("", {port}), Handler).serve_forever()
"""


def app_memory_reservation(task_memory: int) -> int:
    """MiB reserved for the app container: the task's memory minus the router's share."""
    return task_memory - ROUTER_MEMORY_RESERVATION


def app_command(port: int, health_path: str) -> list[str]:
    """The bootstrap app container's command: the inline server on ``port``.

    The container's root file system is read-only (``ReadonlyRootFilesystem`` in the
    service stack), so the server must write nothing: ``-B`` stops Python writing
    ``__pycache__`` files for the modules it imports (Python docs, "Command line and
    environment", -B: https://docs.python.org/3/using/cmdline.html#cmdoption-B), and the
    server itself only reads requests and writes to the socket and stderr.
    """
    script = _SERVER.format(
        path=health_path, health=HEALTH_BODY, waiting=WAITING_BODY, port=int(port)
    )
    return ["python", "-B", "-c", script]
