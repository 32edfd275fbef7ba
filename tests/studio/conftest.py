"""Fixtures for the Studio tests: a real `rostro serve`, photos made from skimage.data, a local
image server, and headless Chromium (Debian's /usr/bin/chromium driven by Playwright; the
browser tests skip when either is missing: scripts/test-setup.d/chromium.sh installs it).

Screenshots of each page go to artifacts/screenshots/ (git-ignored; linked from README)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import requests
from studio_server import csrf_of, jpeg, serve_files, start, stop

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def studio_server(tmp_path_factory, models_root):
    """`rostro serve` with image URLs on 127.0.0.1 allowed (for Try it with a URL), an access
    log and 127.0.0.1 as a trusted proxy (for tests/studio/test_studio_security.py)."""
    server = start(tmp_path_factory.mktemp("studio-home"), models_root,
                   "--allowed-hosts", "127.0.0.1", "localhost", "--access-log",
                   "--forwarded-allow-ips", "127.0.0.1")
    yield server
    stop(server.process)


@pytest.fixture(scope="session")
def photos() -> dict[str, bytes]:
    """JPEG photos: ``astronaut.jpg`` (Eileen Collins), ``astronaut-flipped.jpg`` and
    ``astronaut-small.jpg`` (the same person, mirrored / smaller and brighter),
    ``camera.jpg`` (the cameraman: another person)."""
    from PIL import Image, ImageEnhance
    from skimage import data

    astronaut = data.astronaut()
    small = Image.fromarray(astronaut).resize((400, 400))
    return {
        "astronaut.jpg": jpeg(astronaut),
        "astronaut-flipped.jpg": jpeg(np.ascontiguousarray(astronaut[:, ::-1])),
        "astronaut-small.jpg": jpeg(np.asarray(ImageEnhance.Brightness(small).enhance(1.2))),
        "camera.jpg": jpeg(np.stack([data.camera()] * 3, axis=-1)),
    }


@pytest.fixture(scope="session")
def photo_files(tmp_path_factory, photos) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("photos")
    paths = {}
    for name, content in photos.items():
        paths[name] = folder / name
        paths[name].write_bytes(content)
    return paths


@pytest.fixture(scope="session")
def image_files(photos):
    files = serve_files(photos)
    yield files
    files.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    if SCREENSHOTS.exists():
        shutil.rmtree(SCREENSHOTS)
    SCREENSHOTS.mkdir(parents=True)
    return SCREENSHOTS


@pytest.fixture(scope="session")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} missing (scripts/test-setup.d/chromium.sh installs it)")
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Outside:
    """Requests the page tried to make to anything but the server and the image server."""

    def __init__(self) -> None:
        self.urls: list[str] = []


@pytest.fixture
def page(browser, studio_server):
    """A fresh browser context (clipboard allowed) whose requests may only reach 127.0.0.1;
    any other request is aborted and recorded in ``page.outside``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US",
                                  permissions=["clipboard-read", "clipboard-write"])
    outside = Outside()

    def guard(route):
        url = route.request.url
        if re.match(r"^(https?://127\.0\.0\.1[:/]|blob:|data:)", url):
            route.continue_()
        else:
            outside.urls.append(url)
            route.abort()

    context.route("**/*", guard)
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    tab.outside = outside
    yield tab
    context.close()
    assert outside.urls == [], f"the Studio requested outside resources: {outside.urls}"


@pytest.fixture
def studio_session(studio_server):
    """A requests.Session signed in to the Studio (a new sign-in per test: changing the admin
    password ends every session)."""
    session = requests.Session()
    login = session.get(studio_server.base + "/studio/login", timeout=30)
    token = csrf_of(login.text)
    answer = session.post(studio_server.base + "/studio/login", timeout=30, allow_redirects=False,
                          data={"csrf": token, "password": studio_server.password})
    assert answer.status_code == 303, answer.text
    return session
