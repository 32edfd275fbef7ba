"""Starting and stopping a real `rostro serve` subprocess for tests (API, Studio, notebooks)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

START_TIMEOUT = 120.0
BANNER = {"endpoint": r"Endpoint:\s+(\S+)", "key": r"KEY 1:\s+(\w+)"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_env(home: Path, models_root: Path,
              environment: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a test server: its own home (and database, unless ``environment``
    names one), the session's shared model cache, and ``environment``."""
    env = dict(os.environ, ROSTRO_HOME=str(home), ROSTRO_MODELS=str(models_root),
               PYTHONUNBUFFERED="1")
    env.pop("ROSTRO_SERVICE_SETTINGS", None)
    env.pop("ROSTRO_DATABASE_URL", None)
    env.update(environment or {})
    return env


@dataclass
class Launched:
    process: subprocess.Popen
    env: dict[str, str]
    log: Path
    banner: dict[str, str]  # what the server printed: endpoint, key 1, and any extra patterns


def launch(home: Path, models_root: Path, *args: str, extra: dict[str, str] | None = None,
           environment: dict[str, str] | None = None) -> Launched:
    """Start `rostro serve` on a free port with ``args`` (and ``environment`` variables) and
    wait until its banner is printed (endpoint, key 1 and ``extra`` patterns) and it
    answers; raise with its log otherwise."""
    home.mkdir(parents=True, exist_ok=True)
    env = serve_env(home, models_root, environment)
    port = free_port()
    log = home / f"serve-{port}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "rostro.cli", "serve", "--port", str(port), *args],
            env=env, stdout=out, stderr=subprocess.STDOUT)
    patterns = {**BANNER, **(extra or {})}
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        found = {name: re.search(pattern, text) for name, pattern in patterns.items()}
        if all(found.values()):
            banner = {name: match.group(1) for name, match in found.items()}
            try:
                if requests.get(banner["endpoint"] + "openapi.json", timeout=2).status_code == 200:
                    return Launched(process, env, log, banner)
            except requests.RequestException:  # not listening yet, or too busy to answer in 2 s
                pass
        if process.poll() is not None:
            raise AssertionError(f"rostro serve exited with {process.returncode}:\n{text}")
        time.sleep(0.2)
    stop(process)
    raise AssertionError(f"rostro serve did not start:\n{log.read_text(errors='replace')}")


def stop(process: subprocess.Popen) -> None:
    """Stop a server with Ctrl-C as a user would, killing it if it does not exit."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
