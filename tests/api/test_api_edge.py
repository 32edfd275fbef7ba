"""Keys, routing and error bodies at the edge of the service (real `rostro serve`)."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
import requests

from rostro.api.errors import INVALID_KEY, MISSING_KEY

STREAM = {"Content-Type": "application/octet-stream"}


def error_of(response: requests.Response) -> tuple[int, str, str]:
    body = response.json()
    assert list(body) == ["error"] and list(body["error"]) == ["code", "message"], body
    return response.status_code, body["error"]["code"], body["error"]["message"]


def test_printed_key_and_endpoint_work(service, images):
    assert service.endpoint.endswith("/")
    response = requests.post(service.endpoint + "face/v1.0/detect?returnFaceId=false",
                             headers={"Ocp-Apim-Subscription-Key": service.default_key, **STREAM},
                             data=images["face.jpg"], timeout=60)
    assert response.status_code == 200, response.text


def test_missing_key(service, images):
    response = requests.post(service.url("/face/v1.0/detect"), data=images["face.jpg"],
                             headers=STREAM, timeout=30)
    assert error_of(response) == (401, "401", MISSING_KEY)


@pytest.mark.parametrize("key", ["wrong", "0" * 32, "f" * 64])
def test_wrong_key(service, images, key):
    response = service.detect(data=images["face.jpg"], headers=STREAM, key=key)
    assert error_of(response) == (401, "401", INVALID_KEY)


def test_key_in_query_string(service, images):
    response = requests.post(service.url(f"/face/v1.0/detect?subscription-key={service.key}"),
                             data=images["face.jpg"], headers=STREAM, timeout=60)
    assert response.status_code == 200, response.text


def test_key_checked_before_parameters(service):
    response = requests.post(service.url("/face/v1.0/detect?returnFaceId=maybe"),
                             headers={"Ocp-Apim-Subscription-Key": "wrong"}, timeout=30)
    assert error_of(response)[0] == 401


@pytest.mark.parametrize("path", [
    "//face/v1.0/detect", "/face/v1.0/detect/", "/FACE/V1.0/Detect", "/face//v1.0///detect//",
])
def test_path_normalisation(service, images, path):
    response = requests.post(service.base + path + "?returnFaceId=false", data=images["face.jpg"],
                             headers={"Ocp-Apim-Subscription-Key": service.key, **STREAM},
                             timeout=60)
    assert response.status_code == 200, (path, response.text)
    assert len(response.json()) == 1


@pytest.mark.parametrize("method,path,status,code", [
    ("POST", "/face/v1.0/detectt", 404, "404"),
    ("GET", "/face/v1.0/nothing/here", 404, "404"),
    ("POST", "/face/v2.0/detect", 404, "404"),
    ("GET", "/", 404, "404"),
    ("GET", "/face/v1.0/detect", 405, "405"),
    ("DELETE", "/face/v1.0/detect", 405, "405"),
])
def test_unknown_routes_and_methods(service, method, path, status, code):
    response = requests.request(method, service.url(path), timeout=30,
                                headers={"Ocp-Apim-Subscription-Key": service.key})
    assert error_of(response)[:2] == (status, code)
    assert response.headers["content-type"].startswith("application/json")


def test_every_response_has_a_request_id(service, images):
    ids = set()
    for response in (service.detect(data=images["face.jpg"], headers=STREAM),
                     service.detect(data=b"x", headers=STREAM),
                     requests.get(service.url("/nowhere"), timeout=30)):
        ids.add(response.headers["apim-request-id"])
    assert len(ids) == 3


def test_openapi_docs(service):
    docs = requests.get(service.url("/docs"), timeout=30)
    assert docs.status_code == 200 and "text/html" in docs.headers["content-type"]
    # Offline: every script and stylesheet of the page is served by Rostro itself.
    assert "cdn" not in docs.text and "https://" not in docs.text.split("<body>")[0]
    for asset in ("/docs-static/swagger-ui-bundle.js", "/docs-static/swagger-ui.css"):
        assert asset in docs.text
        assert requests.get(service.url(asset), timeout=30).status_code == 200
    spec = requests.get(service.url("/openapi.json"), timeout=30).json()
    detect = spec["paths"]["/face/v1.0/detect"]["post"]
    names = [p["name"] for p in detect["parameters"]]
    assert names == ["returnFaceId", "returnFaceLandmarks", "returnFaceAttributes",
                     "recognitionModel", "returnRecognitionModel", "detectionModel",
                     "faceIdTimeToLive"]
    assert set(detect["requestBody"]["content"]) == {"application/json",
                                                    "application/octet-stream"}
    assert "Ocp-Apim-Subscription-Key" in str(spec["components"]["securitySchemes"])
    # Every path is one of Azure's, spelled as its specification spells it.
    official = Path(__file__).resolve().parents[3] / "shared" / "specs" / "face-v1.0" / \
        "specification/cognitiveservices/data-plane/Face/stable/v1.0/Face.json"
    if official.is_file():
        azure = set(json.loads(official.read_text())["paths"])
        ours = {path.removeprefix("/face/v1.0") for path in spec["paths"]
                if path.startswith("/face/")}  # /rostro/v1.0/usage is Rostro's own
        assert ours <= azure, sorted(ours - azure)
        parameters = spec["paths"]["/face/v1.0/largepersongroups/{largePersonGroupId}/persons/"
                                    "{personId}"]["get"]["parameters"]
        assert [p["name"] for p in parameters if p["in"] == "path"] == ["largePersonGroupId",
                                                                         "personId"]


@pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
def test_server_error_is_json_with_request_id(tmp_path, caplog):
    """An engine failure reaches the client as a JSON 500 carrying the logged request id."""
    import io

    from fastapi.testclient import TestClient
    from PIL import Image
    from skimage import data

    from rostro.server import create_app
    from rostro.service.settings import ServiceSettings
    from rostro.store.db import open_database
    from rostro.store.resources import create_resource

    class BrokenAnalyzer:
        def load_all(self):
            pass

        def analyze(self, image, request):
            raise RuntimeError("the engine broke")

    database_path = tmp_path / "rostro.db"
    with open_database(database_path).transaction() as connection:
        key = create_resource(connection, "broken", "unlimited").key1
    out = io.BytesIO()
    Image.fromarray(data.astronaut()).save(out, format="JPEG")
    app = create_app(ServiceSettings(database=str(database_path)), analyzer=BrokenAnalyzer())
    with caplog.at_level(logging.ERROR), TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/face/v1.0/detect", content=out.getvalue(),
                               headers={"Ocp-Apim-Subscription-Key": key, **STREAM})
        v12 = client.post("/face/v1.2/detect", content=out.getvalue(),
                          headers={"Ocp-Apim-Subscription-Key": key, **STREAM})
    assert v12.status_code == 500 and v12.headers["x-ms-error-code"] == "InternalServerError"
    assert "x-ms-error-code" not in response.headers
    request_id = response.headers["apim-request-id"]
    assert error_of(response)[:2] == (500, "InternalServerError")
    assert request_id in response.json()["error"]["message"]
    assert "Traceback" not in response.text and "the engine broke" not in response.text
    assert any(request_id in record.getMessage() for record in caplog.records)


def test_a_resource_does_not_see_anothers_containers(service):
    """Containers belong to the resource whose key made them: another key gets 404."""
    created = service.cli("resources", "create", "neighbour", "--tier", "unlimited")
    other = re.search(r"KEY 1:\s+(\w+)", created.stdout).group(1)
    url = service.url("/face/v1.0/persongroups/private-group")
    mine = {"Ocp-Apim-Subscription-Key": service.key}
    assert requests.put(url, json={"name": "mine"}, headers=mine, timeout=30).status_code == 200
    try:
        theirs = requests.get(url, headers={"Ocp-Apim-Subscription-Key": other}, timeout=30)
        assert error_of(theirs)[:2] == (404, "PersonGroupNotFound")
        listed = requests.get(service.url("/face/v1.0/persongroups"), timeout=30,
                              headers={"Ocp-Apim-Subscription-Key": other})
        assert listed.json() == []
    finally:
        requests.delete(url, headers=mine, timeout=30)


def test_log_records_leave_with_keys_redacted():
    """Messages, arguments and tracebacks: the key is written as *** whatever the form (the
    access log of a real server: tests/studio/test_studio_security.py)."""
    import io

    from rostro.api.redaction import RedactSecrets

    key = "0123456789abcdef0123456789abcdef"
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RedactSecrets())
    logger = logging.getLogger("rostro.tests.redaction")
    logger.addHandler(handler)
    try:
        logger.warning("headers %s", {"Ocp-Apim-Subscription-Key": key})
        logger.warning("Ocp-Apim-Subscription-Key: %s", key)
        logger.warning('"GET %s HTTP/1.1"', f"/face/v1.0/detect?a=1&Subscription-Key={key}&b=2")
        try:
            raise ValueError(f"could not fetch http://h/x?subscription%2Dkey={key}")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    text = out.getvalue()
    assert key not in text
    assert "{'Ocp-Apim-Subscription-Key': '***'}" in text and "Subscription-Key: ***" in text
    assert "&Subscription-Key=***&b=2" in text
    assert "ValueError: could not fetch http://h/x?subscription%2Dkey=***" in text
