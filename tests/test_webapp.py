"""The generated web app, imported from a repository appkit.init wrote into a tmp dir."""

from __future__ import annotations

import http.client
import importlib.util
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import pytest
from fastapi.testclient import TestClient

from bluegreen import appkit, config
from bluegreen.config import Config


def _load(repo: Path, cfg: Config, name: str) -> ModuleType:
    """Import <app dir>/app/main.py under a unique module name (no sys.path changes)."""
    path = repo / cfg.app.directory / "app" / "main.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def seed_app(tmp_path: Path) -> TestClient:
    cfg = Config()
    appkit.init(tmp_path, cfg)
    return TestClient(_load(tmp_path, cfg, "generated_seed_app").app)


def test_root_returns_the_seed_greeting_as_plain_text(seed_app: TestClient) -> None:
    response = seed_app.get("/")
    assert response.status_code == 200
    assert response.text == "Hello, 網走"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize("path", ["/", "/health", "/no-such-page"])
def test_every_answer_carries_the_security_headers(seed_app: TestClient, path: str) -> None:
    headers = seed_app.get(path).headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert headers["referrer-policy"] == "no-referrer"


def test_health_returns_ok(seed_app: TestClient) -> None:
    response = seed_app.get("/health")
    assert (response.status_code, response.text) == (200, "Health Check OK")


def test_no_interactive_docs(seed_app: TestClient) -> None:
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert seed_app.get(path).status_code == 404


def test_greeting_and_health_path_follow_the_config(tmp_path: Path) -> None:
    greeting = 'こんにちは、あばしり "{quoted}" \\ $HOME'
    cfg = config.parse(
        f"[app]\ngreeting = {json.dumps(greeting, ensure_ascii=False)}\nport = 8080\n"
        '[health_check]\npath = "/healthz"\n'
    )
    appkit.init(tmp_path, cfg)
    client = TestClient(_load(tmp_path, cfg, "generated_custom_app").app)
    assert client.get("/").text == greeting
    assert client.get("/healthz").text == "Health Check OK"
    assert client.get("/health").status_code == 404


def test_the_port_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    appkit.init(tmp_path)
    spec = importlib.util.spec_from_file_location(
        "generated_main_module", tmp_path / "webapp" / "app" / "__main__.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    calls: list[dict[str, object]] = []
    monkeypatch.setattr(module.uvicorn, "run", lambda app, **kw: calls.append({"app": app, **kw}))
    monkeypatch.delenv("PORT", raising=False)
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    module.main()
    monkeypatch.setenv("PORT", "9000")
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.0.0.0/16")
    module.main()
    assert [(c["app"], c["host"], c["port"]) for c in calls] == [
        ("app.main:app", "0.0.0.0", 80),
        ("app.main:app", "0.0.0.0", 9000),
    ]
    # X-Forwarded-For is believed only from FORWARDED_ALLOW_IPS (this machine when unset,
    # never "*"), and no "server" header is sent.
    assert [c["forwarded_allow_ips"] for c in calls] == ["127.0.0.1,::1", "10.0.0.0/16"]
    assert all(c["proxy_headers"] is True and c["server_header"] is False for c in calls)


def test_the_generated_tests_pass(tmp_path: Path) -> None:
    """The repository's own tests, run as a developer would: pytest in the app directory."""
    appkit.init(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "ignore"],
        cwd=tmp_path / "webapp",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 passed" in result.stdout


# --- the app under a real uvicorn on 127.0.0.1, started as the container starts it ----------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _uvicorn(repo: Path, cfg: Config) -> Iterator[tuple[int, list[str]]]:
    """Serve the generated app with the settings of its own ``python -m app`` (only the
    host is 127.0.0.1 instead of 0.0.0.0) and the environment taskdef.json gives the
    container; yields (port, the lines the process printed, filled in when it stops)."""
    taskdef = json.loads((repo / "taskdef.json").read_text(encoding="utf-8"))
    app = next(c for c in taskdef["containerDefinitions"] if c["name"] == cfg.app.name)
    port = _free_port()
    env = {
        "PATH": os.environ["PATH"],
        "PORT": str(port),
        "PYTHONDONTWRITEBYTECODE": "1",  # as the Dockerfile sets it
        "PYTHONUNBUFFERED": "1",
        **{item["name"]: item["value"] for item in app["environment"]},
    }
    code = "import uvicorn\nfrom app.__main__ import settings\n"
    code += "uvicorn.run(**{**settings(), 'host': '127.0.0.1'})\n"
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=repo / cfg.app.directory,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.communicate()[0]
                    raise AssertionError(f"uvicorn did not start: {output}") from None
                time.sleep(0.1)
        yield port, lines
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
        lines += output.splitlines()


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def _access_lines(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("INFO:") and '"' in line]


def test_a_client_outside_the_vpc_cannot_choose_the_logged_address(tmp_path: Path) -> None:
    """taskdef.json trusts X-Forwarded-For from the VPC only; this client (127.0.0.1) is
    not in 10.0.0.0/16, so its header is ignored and its own address is logged."""
    cfg = Config()
    appkit.init(tmp_path, cfg)
    with _uvicorn(tmp_path, cfg) as (port, lines):
        response = _get(port, "/", {"X-Forwarded-For": "6.6.6.6"})
        assert response.status == 200
    (line,) = _access_lines(lines)
    assert re.match(r'INFO: +127\.0\.0\.1:\d+ - "GET / HTTP/1\.1" 200 OK$', line), line
    assert "6.6.6.6" not in "\n".join(lines)


def test_behind_the_load_balancer_the_real_client_is_logged(tmp_path: Path) -> None:
    """A VPC that holds 127.0.0.1 makes this client the load balancer: the ALB appends the
    address it saw to X-Forwarded-For (https://docs.aws.amazon.com/elasticloadbalancing/
    latest/application/x-forwarded-headers.html), and uvicorn logs the right-most address
    that is not a trusted proxy, not the left-most one the client wrote."""
    cfg = config.parse('[network]\nvpc_cidr = "127.0.0.0/16"')
    appkit.init(tmp_path, cfg)
    with _uvicorn(tmp_path, cfg) as (port, lines):
        _get(port, "/", {"X-Forwarded-For": "6.6.6.6, 203.0.113.9"})
    (line,) = _access_lines(lines)
    assert line.split()[1] == "203.0.113.9:0", line


def test_real_responses_and_access_log_lines(tmp_path: Path) -> None:
    """One uvicorn serving the seed app: the headers on the wire, and extra.conf's health
    check rule against the access-log lines uvicorn prints (what FireLens reads)."""
    cfg = Config()
    appkit.init(tmp_path, cfg)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    requests = {
        "/health": True,  # dropped: a successful health check
        "/health?source=elb": True,
        "/healthz": False,  # kept: another path (404)
        "/admin?probe=ELB-HealthChecker": False,  # kept: the user agent trick of old
        "/admin?x=/health": False,
        "/": False,
    }
    with _uvicorn(tmp_path, cfg) as (port, lines):
        for path in requests:
            response = _get(port, path, {"User-Agent": "ELB-HealthChecker/2.0"})
            assert response.getheader("server") is None, path
            assert response.getheader("x-content-type-options") == "nosniff"
            assert response.getheader("referrer-policy") == "no-referrer"
    access = _access_lines(lines)
    assert len(access) == len(requests), lines
    regex = re.compile(appkit.health_log_regex(cfg))
    for (path, dropped), line in zip(requests.items(), access, strict=True):
        assert f'"GET {path} HTTP/1.1"' in line, line
        assert bool(regex.search(line)) is dropped, line
    # The app wrote nothing (the task runs it on a read-only root file system).
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
