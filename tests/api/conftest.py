"""Fixtures for the service tests: a real `rostro serve` process on 127.0.0.1 with its own
$ROSTRO_HOME, a local HTTP server for image URLs, and test images made from skimage.data."""

from __future__ import annotations

import io
import re
import struct
import sys
import threading
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from api_service import Service, rostro_cli, start_service, stop_service  # noqa: F401
from PIL import Image

# ---------------------------------------------------------------------------------- images

def encode(rgb: np.ndarray, fmt: str, **options) -> bytes:
    """Encode an RGB array with Pillow (JPEG, PNG, GIF, BMP...)."""
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format=fmt, **options)
    return out.getvalue()


def png_header_only(width: int, height: int, size: int = 2048) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` followed by junk: decoding it would
    need gigabytes, so a service must refuse it from the header alone."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    body = b"\x89PNG\r\n\x1a\n" + header
    return body + chunk(b"IDAT", b"\0" * max(0, size - len(body) - 12))


@pytest.fixture(scope="session")
def astronaut_rgb() -> np.ndarray:
    from skimage import data

    return data.astronaut()


@pytest.fixture(scope="session")
def images(astronaut_rgb) -> dict[str, bytes]:
    """Named test images (bytes). ``face.jpg``: skimage's astronaut, one frontal face;
    ``vga.jpg``: the same photo fitted into 640x480; ``two.jpg``: a large and a small face;
    ``noface.jpg``: coffee cup; plus PNG/GIF/BMP copies and broken or out-of-limit files."""
    from skimage import data

    rgb = astronaut_rgb
    vga = np.zeros((480, 640, 3), np.uint8)
    vga[:, 80:560] = np.asarray(Image.fromarray(rgb).resize((480, 480)))
    two = np.zeros((512, 768, 3), np.uint8)
    two[:, :512] = rgb
    two[128:384, 512:768] = np.asarray(Image.fromarray(rgb).resize((256, 256)))
    tiny = encode(rgb[:16, :16], "PNG")
    assert len(tiny) < 1024
    noise = np.random.default_rng(0).integers(0, 255, (1400, 1400, 3), dtype=np.uint8)
    return {
        "face.jpg": encode(rgb, "JPEG", quality=90),
        "face.png": encode(rgb, "PNG"),
        "face.gif": encode(rgb, "GIF"),
        "face.bmp": encode(rgb, "BMP"),
        "vga.jpg": encode(vga, "JPEG", quality=90),
        "two.jpg": encode(two, "JPEG", quality=90),
        "noface.jpg": encode(data.coffee(), "JPEG", quality=90),
        "tiny.png": tiny,
        "huge.bmp": encode(noise, "BMP"),  # about 5.9 MB, valid (no face)
        "toobig.bin": b"\xff\xd8\xff" + b"\0" * (6 * 1024 * 1024 + 10),
        "bomb.png": png_header_only(30000, 30000),
        "wide.png": png_header_only(4097, 64),
        "notimage.txt": b"this is not an image " * 100,
    }


# ---------------------------------------------------------------------------- image server

@dataclass
class ImageServer:
    """A local HTTP server for image URLs. ``/NAME`` serves ``files[NAME]``;
    ``/slow/NAME`` waits for ``release`` first; ``/redirect/N/NAME`` redirects N times;
    ``/status/CODE`` answers CODE; ``/trickle/...`` sends its response headers one byte every
    0.2 s (for minutes) until ``trickle_release`` is set, counting open ones in ``trickling``."""

    base: str
    files: dict[str, bytes]
    other_base: str = ""  # the same server on 127.0.0.2: loopback, but not allow-listed
    release: threading.Event = field(default_factory=threading.Event)
    slow_started: threading.Event = field(default_factory=threading.Event)
    trickle_release: threading.Event = field(default_factory=threading.Event)
    trickling: int = 0
    most_trickling: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def trickle(self, handler: BaseHTTPRequestHandler) -> None:
        """Answer ``handler``'s request with headers that arrive one byte at a time."""
        with self.lock:
            self.trickling += 1
            self.most_trickling = max(self.most_trickling, self.trickling)
        try:
            head = b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nX-Pad: " + b"x" * 4000
            for byte in head:
                if self.trickle_release.wait(0.2):
                    return
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
        finally:
            with self.lock:
                self.trickling -= 1

    def url(self, path: str) -> str:
        return f"{self.base}/{path}"


def _handler(server_state: ImageServer):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # keep test output quiet
            pass

        def _send(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            parts = self.path.lstrip("/").split("/")
            if parts[0] == "trickle":
                self.close_connection = True
                server_state.trickle(self)
                return
            if parts[0] == "slow":
                server_state.slow_started.set()
                server_state.release.wait(60)
                parts = parts[1:]
            if parts[0] == "redirect":
                hops, rest = int(parts[1]), "/".join(parts[2:])
                target = f"/redirect/{hops - 1}/{rest}" if hops > 1 else f"/{rest}"
                self._send(302, headers={"Location": target})
                return
            if parts[0] == "status":
                self._send(int(parts[1]), b"no")
                return
            name = "/".join(parts)
            if name in server_state.files:
                self._send(200, server_state.files[name], {"Content-Type": "image/jpeg"})
            else:
                self._send(404, b"not found")

    return Handler


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # Clients that give up (timeout tests) leave broken pipes behind; that is expected.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


@pytest.fixture(scope="session")
def image_server(images):
    state = ImageServer(base="", files=images)
    servers = []
    for host in ("127.0.0.1", "127.0.0.2"):
        httpd = QuietServer((host, 0), _handler(state))
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
    state.base = f"http://127.0.0.1:{servers[0].server_address[1]}"
    state.other_base = f"http://127.0.0.2:{servers[1].server_address[1]}"
    yield state
    state.release.set()
    state.trickle_release.set()
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="session")
def photos(images) -> dict[str, bytes]:
    """Two persons for the multi-process tests: the astronaut (a face and a VGA probe of it)
    and skimage's cameraman."""
    from skimage import data

    camera = np.stack([data.camera()] * 3, axis=-1)
    out = io.BytesIO()
    Image.fromarray(camera).save(out, format="JPEG", quality=90)
    return {"eileen": images["face.jpg"], "eileen-probe": images["vga.jpg"],
            "cameraman": out.getvalue()}


# -------------------------------------------------------------------------------- database

def _started(start: str, what: str):
    """``postgres_server.<start>()``, or skip the test saying why ``what`` is unavailable."""
    import postgres_server

    try:
        return getattr(postgres_server, start)()
    except postgres_server.Unavailable as exc:
        pytest.skip(f"{what} unavailable: {exc}")


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL server for the session (tests/postgres_server.py); tests that
    use it skip, saying why, when PostgreSQL or psycopg is not installed."""
    server = _started("start", "PostgreSQL")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pgvector_server():
    """A throwaway PostgreSQL server that offers pgvector (the pgserver wheel's PostgreSQL 16,
    tests/postgres_server.py ``start_pgvector``); skips, saying why, without one."""
    server = _started("start_pgvector", "PostgreSQL with pgvector")
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_location(request, tmp_path) -> str:
    """Where a fresh test database is: a SQLite file, or a new database on the session's
    PostgreSQL server (started only when a PostgreSQL case runs)."""
    if request.param == "sqlite":
        return str(tmp_path / "rostro.db")
    return request.getfixturevalue("postgres").create_database()


# --------------------------------------------------------------------------------- service

@pytest.fixture(scope="session")
def service(tmp_path_factory, models_root) -> Service:
    """The service under test. Image URLs on 127.0.0.1/localhost are allowed explicitly
    (an allow-list, so other private addresses stay refused)."""
    home = tmp_path_factory.mktemp("rostro-home")
    running = start_service(home, models_root, "--allowed-hosts", "127.0.0.1", "localhost")
    created = running.cli("resources", "create", "tests", "--tier", "unlimited")
    running.key = re.search(r"KEY 1:\s+(\w+)", created.stdout).group(1)
    yield running
    stop_service(running.process)
