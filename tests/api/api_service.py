"""The test server handle of the API tests: `rostro serve` in its own home (importable by
test modules, unlike conftest)."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests
from serving import launch, stop


@dataclass
class Service:
    """A running `rostro serve`: ``endpoint`` as printed (trailing slash), ``base`` without
    it, ``key`` of an unlimited resource for general tests, ``default_key`` printed at start."""

    process: subprocess.Popen
    home: Path
    env: dict[str, str]
    endpoint: str
    default_key: str
    key: str = ""
    log: Path | None = None

    @property
    def base(self) -> str:
        return self.endpoint.rstrip("/")

    def url(self, path: str) -> str:
        return self.base + path

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run ``rostro ARGS`` against this service's home."""
        return rostro_cli(self.env, *args, check=check)

    def detect(self, query: str = "", *, key: str | None = None, **kwargs) -> requests.Response:
        """POST /face/v1.0/detect?QUERY with the general key."""
        headers = dict(kwargs.pop("headers", {}))
        headers.setdefault("Ocp-Apim-Subscription-Key", key or self.key)
        url = self.url("/face/v1.0/detect") + (f"?{query}" if query else "")
        return requests.post(url, headers=headers, timeout=60, **kwargs)


def rostro_cli(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "rostro.cli", *args], env=env,
                            capture_output=True, text=True, timeout=60)
    if check and result.returncode != 0:
        raise AssertionError(f"rostro {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def start_service(home: Path, models_root: Path, *args: str,
                  environment: dict[str, str] | None = None) -> Service:
    """Start `rostro serve` on a free port with ``args`` (and ``environment`` variables);
    wait until it answers."""
    run = launch(home, models_root, *args, environment=environment)
    return Service(run.process, home, run.env, run.banner["endpoint"], run.banner["key"], log=run.log)


stop_service = stop


STREAM = {"Content-Type": "application/octet-stream"}


class Api:
    """Plain HTTP against one server: paths under /face/<version> with one key."""

    def __init__(self, base: str, key: str, version: str = "v1.0") -> None:
        self.root = f"{base}/face/{version}"
        self.headers = {"Ocp-Apim-Subscription-Key": key}

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return requests.request(method, self.root + path, headers=headers, timeout=60, **kwargs)

    def ok(self, method: str, path: str, **kwargs):
        """Call and expect 200 or 202; return the JSON body (None when empty)."""
        response = self.call(method, path, **kwargs)
        assert response.status_code in (200, 202), (method, path, response.text)
        return response.json() if response.content else None

    def detect(self, image: bytes, **params) -> list[str]:
        """The faceIds Detect returns for ``image``."""
        faces = self.ok("POST", "/detect", data=image, headers=STREAM, params=params)
        return [face["faceId"] for face in faces]

    def train(self, kind: str, container: str) -> dict:
        """Train and wait (60 s at most) for a final training status."""
        self.ok("POST", f"/{kind}/{container}/train")
        deadline = time.monotonic() + 60
        while True:
            status = self.ok("GET", f"/{kind}/{container}/training")
            if status["status"] in ("succeeded", "failed"):
                return status
            assert time.monotonic() < deadline
            time.sleep(0.1)
