"""A real `rostro serve` for the Studio and notebook tests (own $ROSTRO_HOME, free port), the
admin password it prints at first start, and a local HTTP server for image URLs.

Imported by tests/studio/conftest.py and tests/test_notebooks.py (not a test module).
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests
from serving import free_port, launch, stop  # noqa: F401  (re-exported to the Studio tests)


@dataclass
class Server:
    """A running `rostro serve`: ``endpoint`` as printed (trailing slash), ``key`` of the
    default resource, ``password`` of the Studio admin, ``env`` for CLI calls."""

    process: subprocess.Popen
    home: Path
    env: dict[str, str]
    endpoint: str
    key: str
    password: str
    log: Path

    @property
    def base(self) -> str:
        return self.endpoint.rstrip("/")

    def cli(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
        """Run ``rostro ARGS`` against this server's home; fail the test if it fails."""
        result = subprocess.run([sys.executable, "-m", "rostro.cli", *args], env=self.env,
                                capture_output=True, text=True, timeout=120, input=input)
        if result.returncode != 0:
            raise AssertionError(f"rostro {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return result

    def has_route(self, path: str) -> bool:
        """Whether the service's OpenAPI document lists ``path`` (e.g. recognition routes)."""
        return path in requests.get(self.endpoint + "openapi.json", timeout=10).json()["paths"]


def start(home: Path, models_root: Path, *args: str, password: str | None = None) -> Server:
    """Start `rostro serve` in ``home`` and wait until it answers. The admin password is read
    from the banner (first start) or is ``password`` (another server on the same home)."""
    extra = {} if password else {"password": r"admin password:\s+(\S+)"}
    run = launch(home, models_root, *args, extra=extra)
    return Server(run.process, home, run.env, run.banner["endpoint"], run.banner["key"],
                  password or run.banner["password"], run.log)


def login(server: Server, password: str, session: requests.Session | None = None,
          next_path: str = "", headers: dict[str, str] | None = None,
          ) -> tuple[requests.Session, requests.Response]:
    """Sign in through the form with plain HTTP (``headers`` on the POST, e.g. a forwarded
    address); return the session and the answer (303 when signed in)."""
    session = session or requests.Session()
    form = session.get(server.base + "/studio/login", timeout=30)
    answer = session.post(server.base + "/studio/login", allow_redirects=False, timeout=30,
                          headers=headers or {}, data={"csrf": csrf_of(form.text),
                                                       "password": password, "next": next_path})
    return session, answer


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True


@dataclass
class Files:
    """A local HTTP server on 127.0.0.1: ``url(name)`` serves ``files[name]``."""

    base: str
    files: dict[str, bytes]
    httpd: ThreadingHTTPServer

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def serve_files(files: dict[str, bytes]) -> Files:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            body = files.get(self.path.lstrip("/"))
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "image/jpeg" if body is not None else "text/plain")
            self.send_header("Content-Length", str(len(body or b"")))
            self.send_header("Access-Control-Allow-Origin", "*")
            self.end_headers()
            self.wfile.write(body or b"")

    httpd = _QuietServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return Files(f"http://127.0.0.1:{httpd.server_address[1]}", files, httpd)


def jpeg(rgb, quality: int = 90) -> bytes:
    """Encode an RGB array as JPEG."""
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="JPEG", quality=quality)
    return out.getvalue()


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def sign_in(page, server, lang: str | None = None) -> None:
    """Sign in through the form (and leave the browser on the resources page)."""
    page.goto(server.base + "/studio")
    if lang:
        page.get_by_role("link", name={"es": "Español", "en": "English"}[lang]).click()
    page.locator("#password").fill(server.password)
    page.locator("form[action='/studio/login'] button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/studio/resources$"))
