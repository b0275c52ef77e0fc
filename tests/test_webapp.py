"""The generated web app, imported from a repository appkit.init wrote into a tmp dir."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
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
    module.main()
    monkeypatch.setenv("PORT", "9000")
    module.main()
    assert [(c["app"], c["host"], c["port"]) for c in calls] == [
        ("app.main:app", "0.0.0.0", 80),
        ("app.main:app", "0.0.0.0", 9000),
    ]


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
    assert "3 passed" in result.stdout
