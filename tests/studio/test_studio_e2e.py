"""End to end in real headless Chromium: the course's whole flow in the Studio.

Sign in, create an F0 resource, copy its key from the page, send the course's request with it
from Python, watch the usage counter move, run Try it on a photo; create a person group,
enrol faces by upload, train, identify; page through 1,000 persons; switch to Spanish; drive
it by keyboard. Every page is saved to artifacts/screenshots/. No request may leave 127.0.0.1
(the ``page`` fixture aborts and reports any).
"""

from __future__ import annotations

import base64
import re
import subprocess
import sys
import time

import pytest
import requests
from studio_server import sign_in

from rostro.api.detect import engine_attributes

COURSE_ATTRIBUTES = ("age", "gender", "headPose", "smile", "facialHair", "glasses", "emotion")
KEY_LIKE = re.compile(r"\b(?:app|nav|login|csrf|resources|tier|keys|usage|confirm|try|people|js)"
                      r"\.[a-z_]+\b")

pytestmark = pytest.mark.models


def shot(page, folder, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def wait_text(page, selector: str, pattern: str, timeout: float = 30) -> str:
    """Wait until the text of ``selector`` matches ``pattern``; return it."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        locator = page.locator(selector)
        if locator.count():
            text = locator.first.inner_text()
            if re.search(pattern, text):
                return text
        page.wait_for_timeout(200)
    raise AssertionError(f"{selector} never matched {pattern!r}; last text {text!r}")


def drop_files(page, selector: str, paths) -> None:
    """Drop ``paths`` onto ``selector`` as a browser drag and drop does (a DataTransfer)."""
    payload = [{"name": path.name, "data": base64.b64encode(path.read_bytes()).decode()}
               for path in paths]
    transfer = page.evaluate_handle("""(files) => {
        const transfer = new DataTransfer();
        for (const file of files) {
            const bytes = Uint8Array.from(atob(file.data), (c) => c.charCodeAt(0));
            transfer.items.add(new File([bytes], file.name, { type: "image/jpeg" }));
        }
        return transfer;
    }""", payload)
    page.dispatch_event(selector, "dragover", {"dataTransfer": transfer})
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})


def course_request(endpoint: str, key: str, image_url: str) -> requests.Response:
    """The Práctica 14 request, as the course script sends it."""
    params = {"returnFaceId": "true", "returnFaceAttributes": ",".join(COURSE_ATTRIBUTES)}
    return requests.post(endpoint + "face/v1.0/detect", params=params, timeout=60,
                         headers={"Ocp-Apim-Subscription-Key": key}, json={"url": image_url})


def test_course_flow(page, studio_server, image_files, photo_files, screenshots, tmp_path):
    page.goto(studio_server.base + "/studio")
    assert page.url.endswith("/studio/login")
    shot(page, screenshots, "01-sign-in")
    sign_in(page, studio_server)
    shot(page, screenshots, "02-resources")

    # Create an F0 resource, as in the portal.
    page.locator("#name").fill("practica14")
    page.locator("input[name=tier][value=F0]").check()
    page.locator("#description").fill("Práctica 14: reconocimiento facial")
    page.get_by_role("button", name="Create", exact=True).click()
    page.wait_for_url(re.compile(r".*/studio/resources/practica14\?created=1$"))
    assert page.locator("h1 .badge").inner_text() == "F0"
    assert page.locator("#quota-month").inner_text() == "30,000"
    assert page.locator("#calls-month").inner_text() == "0"
    shot(page, screenshots, "03-keys-and-endpoint")

    # Copy key 1 and the endpoint with the page's buttons, read them from the clipboard.
    page.locator("button[data-copy=key1]").click()
    key = page.evaluate("navigator.clipboard.readText()")
    assert re.fullmatch(r"[0-9a-f]{32}", key)
    page.locator("button[data-copy=endpoint]").click()
    endpoint = page.evaluate("navigator.clipboard.readText()")
    assert endpoint == studio_server.endpoint

    # The course's request with that key, from Python; the page's usage refreshes by itself.
    response = course_request(endpoint, key, image_files.url("astronaut.jpg"))
    if all(name in engine_attributes() for name in COURSE_ATTRIBUTES):
        assert response.status_code == 200, response.text
        attributes = response.json()[0]["faceAttributes"]
        assert 0 < attributes["age"] < 120 and attributes["gender"] in ("male", "female")
    else:  # attributes still missing from the engine: Azure's answer for an unsupported one
        assert response.status_code == 403, response.text
        assert response.json()["error"]["code"] == "UnsupportedFeature"
    wait_text(page, "#calls-month", r"^1$", timeout=15)
    assert page.locator("#remaining-month").inner_text() == "29,999"
    assert page.locator("svg.chart rect").count() == 1  # this minute's bar
    shot(page, screenshots, "04-usage")

    # Try it on a photo: boxes, landmarks, a table of attributes, raw JSON, snippets.
    page.get_by_role("link", name="Try it", exact=True).first.click()
    page.locator("#resource").select_option("practica14")
    page.locator("#photo").set_input_files(str(photo_files["astronaut.jpg"]))
    page.locator("#run").click()
    wait_text(page, "#face-count", r"1 face found")
    assert page.locator("#overlay rect.box").count() == 1
    assert page.locator("#overlay circle.landmark").count() == 27
    box = page.locator("#overlay rect.box").bounding_box()
    assert box and box["width"] > 20 and box["height"] > 20  # drawn over the photo, visibly
    table = page.locator("#faces tbody").inner_text()
    assert "headPose" in table and "pitch" in table
    raw = page.locator("#raw").inner_text()
    assert '"faceRectangle"' in raw and '"faceLandmarks"' in raw
    python_snippet = page.locator("#snippet-python").inner_text()
    curl_snippet = page.locator("#snippet-curl").inner_text()
    assert key in python_snippet and endpoint in python_snippet and key in curl_snippet
    assert "--data-binary '@astronaut.jpg'" in curl_snippet
    shot(page, screenshots, "05-try-it")

    # The Python snippet runs as shown, next to the photo it names.
    (tmp_path / "astronaut.jpg").write_bytes(photo_files["astronaut.jpg"].read_bytes())
    (tmp_path / "snippet.py").write_text(python_snippet, encoding="utf-8")
    ran = subprocess.run([sys.executable, "snippet.py"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert ran.returncode == 0 and "faceRectangle" in ran.stdout, ran.stderr

    # The same with an image URL.
    page.locator("input[name=source][value=url]").check()
    page.locator("#image-url").fill(image_files.url("camera.jpg"))
    page.locator("#run").click()
    wait_text(page, "#face-count", r"1 face found")
    assert '"url"' in page.locator("#snippet-python").inner_text()

    # Each Try it run and the snippet counted as calls: 1 + 2 + 1.
    page.goto(studio_server.base + "/studio/resources/practica14")
    assert page.locator("#calls-month").inner_text() == "4"

    page.goto(studio_server.base + "/studio/resources/practica14/delete")
    shot(page, screenshots, "06-confirm-delete")
    page.get_by_role("link", name="Cancel").click()
    page.wait_for_url(re.compile(r".*/studio/resources/practica14$"))


@pytest.fixture
def recognition(studio_server):
    if not studio_server.has_route("/face/v1.0/persongroups"):
        pytest.skip("this build has no person group endpoints yet (issue 5)")


def test_people_flow(page, studio_server, photo_files, screenshots, recognition):
    studio_server.cli("resources", "create", "people", "--tier", "S0")
    sign_in(page, studio_server)
    page.goto(studio_server.base + "/studio/people?resource=people")
    wait_text(page, "#list-persongroups tbody", r"No groups yet")

    page.locator("#group-id").fill("crew")
    page.locator("#group-name").fill("Crew")
    page.locator("#group-model").select_option("recognition_04")
    page.get_by_role("button", name="Create group").click()
    page.wait_for_url(re.compile(r".*kind=persongroups&group=crew$"))
    wait_text(page, "#training-status", r"Not trained")

    enrolment = {"Eileen Collins": ["astronaut.jpg", "astronaut-flipped.jpg"],
                 "Cameraman": ["camera.jpg"]}
    for name, files in enrolment.items():
        page.locator("#person-name").fill(name)
        page.get_by_role("button", name="Add person").click()
        page.wait_for_url(re.compile(r".*&person=[0-9a-f-]{36}$"))
        wait_text(page, "#person-title", re.escape(name))
        if name == "Cameraman":  # dragged and dropped onto the page
            drop_files(page, "[data-dropzone=face-files]", [photo_files[f] for f in files])
        else:  # chosen with the file picker
            page.locator("#face-files").set_input_files([str(photo_files[f]) for f in files])
        wait_text(page, "#people-status", rf"{len(files)} files processed")
        assert page.locator("#face-count").inner_text() == str(len(files))
        assert page.locator("#uploads li.ok").count() == len(files)
        if name == "Eileen Collins":
            shot(page, screenshots, "08-person-faces")
        page.locator(".crumbs a").last.click()
        page.wait_for_url(re.compile(r".*group=crew$"))

    wait_text(page, "#persons tbody", r"Cameraman")
    page.locator("#train").click()
    wait_text(page, "#training-status", r"^Trained$", timeout=60)
    shot(page, screenshots, "09-person-group")

    page.locator("#identify-photo").set_input_files(str(photo_files["astronaut-small.jpg"]))
    wait_text(page, "#candidates .candidate-name", r"Eileen Collins", timeout=60)
    confidence = float(page.locator("#candidates .confidence").first.inner_text())
    assert confidence >= 0.5
    assert page.locator("#identify-overlay rect.box").count() == 1
    assert "Eileen Collins" in page.locator("#identify-overlay text").first.text_content()
    shot(page, screenshots, "10-identify")

    page.goto(studio_server.base + "/studio/people?resource=people")
    wait_text(page, "#list-persongroups tbody", r"crew")
    shot(page, screenshots, "07-people")


def test_thousand_persons_stay_paged(page, studio_server, screenshots, recognition):
    studio_server.cli("resources", "create", "bulk", "--tier", "unlimited")
    key = studio_server.cli("keys", "show", "bulk", "--key", "1").stdout.strip()
    api = requests.Session()
    api.headers["Ocp-Apim-Subscription-Key"] = key
    base = studio_server.base + "/face/v1.0/largepersongroups/big"
    assert api.put(base, json={"name": "Big"}, timeout=30).status_code == 200
    for number in range(1000):
        answer = api.post(base + "/persons", json={"name": f"Person {number:04d}"}, timeout=30)
        assert answer.status_code == 200, answer.text

    sign_in(page, studio_server)
    started = time.monotonic()
    page.goto(studio_server.base + "/studio/people?resource=bulk&kind=largepersongroups&group=big")
    wait_text(page, "#persons tbody", r"Person")
    first_page = time.monotonic() - started
    rows = page.locator("#persons tbody tr")
    assert rows.count() == 50
    first_names = set(rows.all_inner_texts())
    assert first_page < 10, f"the first page took {first_page:.1f} s"
    page.locator("#next-page").click()
    page.wait_for_url(re.compile(r".*&page=2$"))
    wait_text(page, "#persons caption", r"Page 2")
    wait_text(page, "#persons tbody", r"Person")
    assert page.locator("#persons tbody tr").count() == 50
    assert not first_names & set(page.locator("#persons tbody tr").all_inner_texts())
    shot(page, screenshots, "11-persons-paged")


def test_spanish_everywhere(page, studio_server, screenshots):
    sign_in(page, studio_server, lang="es")
    assert page.locator("h1").inner_text() == "Recursos"
    assert page.locator("html").get_attribute("lang") == "es"
    for path in ("/studio/resources", "/studio/resources/default", "/studio/try",
                 "/studio/people", "/studio/resources/default/delete"):
        page.goto(studio_server.base + path)
        page.wait_for_load_state("networkidle")
        text = page.locator("body").inner_text()
        assert not KEY_LIKE.findall(text), (path, KEY_LIKE.findall(text))
        for english in ("Sign out", "Resources", "Keys and Endpoint", "Try it", "Cancel"):
            assert not re.search(rf"\b{english}\b", text), (path, english)
    page.goto(studio_server.base + "/studio/resources/default")
    assert "Claves y punto de conexión" in page.locator("body").inner_text()
    shot(page, screenshots, "12-espanol")
    page.get_by_role("link", name="English").click()
    page.wait_for_url(re.compile(r".*/studio/resources/default$"))
    assert "Keys and Endpoint" in page.locator("body").inner_text()


def test_keyboard_only(page, studio_server):
    page.goto(studio_server.base + "/studio/login")
    # autofocus: Chromium applies it after the first render, so wait for it (5 s at most)
    # rather than read the focus at load, which races.
    page.wait_for_function("document.activeElement && document.activeElement.id === 'password'",
                           timeout=5_000)
    page.keyboard.type(studio_server.password)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/studio/resources$"))
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"

    def tab_to(test: str, limit: int = 60) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(test):
                return
        raise AssertionError(f"never reached by Tab: {test}")

    page.goto(studio_server.base + "/studio/resources")
    tab_to("document.activeElement.textContent === 'Try it'")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/studio/try$"))
    tab_to("document.activeElement.id === 'photo'")
    tab_to("document.activeElement.id === 'run'")
    page.goto(studio_server.base + "/studio/resources/default")
    tab_to("document.activeElement.dataset.copy === 'key1'")
    page.keyboard.press("Enter")
    wait_text(page, "button[data-copy=key1]", r"Copied")
