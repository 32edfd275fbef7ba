"""`rostro detect` on files, folders and URLs, in every output format."""

from __future__ import annotations

import asyncio
import csv
import functools
import http.server
import io
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import cv2
import pytest

from rostro.cli import main


@pytest.fixture()
def photos(tmp_path, astronaut):
    folder = tmp_path / "photos"
    folder.mkdir()
    cv2.imwrite(str(folder / "astronaut.jpg"), astronaut)
    cv2.imwrite(str(folder / "small.png"), cv2.resize(astronaut, (256, 256)))
    (folder / "broken.jpg").write_bytes(b"not an image at all")
    return folder


@pytest.fixture(autouse=True)
def _models(models_root):
    return models_root


def test_single_image_prints_azure_detected_faces(photos, capsys):
    assert main(["detect", str(photos / "astronaut.jpg"), "--landmarks",
                 "--attributes", "headPose"]) == 0
    faces = json.loads(capsys.readouterr().out)
    assert len(faces) == 1
    face = faces[0]
    assert list(face) == ["faceRectangle", "faceLandmarks", "faceAttributes"]
    assert list(face["faceRectangle"]) == ["top", "left", "width", "height"]
    rect = face["faceRectangle"]
    # Azure's detection_01 square on the astronaut's face (eyebrows to chin).
    assert 170 <= rect["left"] <= 190 and 70 <= rect["top"] <= 90
    assert rect["width"] == rect["height"]
    assert all(isinstance(v, int) for v in rect.values())
    assert len(face["faceLandmarks"]) == 27
    assert list(face["faceAttributes"]["headPose"]) == ["pitch", "roll", "yaw"]


def test_folder_skips_unreadable_files_and_says_so(photos, capsys):
    code = main(["detect", str(photos), "--format", "jsonl"])
    captured = capsys.readouterr()
    assert code == 3
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert sorted(line["image"].rsplit("/", 1)[-1] for line in lines) == ["astronaut.jpg", "small.png"]
    assert all(len(line["faces"]) == 1 for line in lines)
    assert "broken.jpg" in captured.err and "1 of 3" in captured.err


def test_csv_has_one_row_per_face(photos, capsys):
    main(["detect", str(photos / "astronaut.jpg"), str(photos / "small.png"), "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 2
    assert set(rows[0]) >= {"image", "face", "top", "left", "width", "height"}


def test_annotate_writes_images_with_boxes(photos, tmp_path, astronaut, capsys):
    out = tmp_path / "annotated"
    main(["detect", str(photos / "astronaut.jpg"), "--annotate", str(out)])
    written = cv2.imread(str(out / "astronaut.annotated.png"))
    assert written is not None and written.shape == astronaut.shape
    assert (written != cv2.imread(str(photos / "astronaut.jpg"))).any()


def test_unknown_attribute_is_an_error(photos, capsys):
    assert main(["detect", str(photos / "astronaut.jpg"), "--attributes", "headPose,accessory"]) == 1
    assert "accessory" in capsys.readouterr().err


@pytest.fixture
def photo_url(photos):
    """The URL of astronaut.jpg on a local HTTP server serving ``photos``."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(photos))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/astronaut.jpg"
    finally:
        server.shutdown()


def test_url_source(photo_url, capsys):
    assert main(["detect", photo_url]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 1


def test_url_fetch_from_a_thread_that_runs_an_event_loop(photo_url):
    """A Jupyter kernel or Playwright's sync API runs an asyncio loop in the caller's thread,
    where the blocking fetcher cannot start its own: it must still download."""
    from rostro.service.url_fetch import FetchPolicy, fetch_bytes

    async def call_blocking_fetch() -> bytes:
        return fetch_bytes(photo_url, FetchPolicy(allow_private=True))

    # In a thread of its own: the test's thread may itself run Playwright's loop already.
    with ThreadPoolExecutor(max_workers=1) as pool:
        data = pool.submit(asyncio.run, call_blocking_fetch()).result()
    assert data[:2] == b"\xff\xd8"
