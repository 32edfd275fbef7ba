"""POST /face/v1.0/detect against a real `rostro serve`: parameters, bodies, limits, shape."""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests

from rostro.api.detect import AZURE_ATTRIBUTES, engine_attributes
from rostro.api.face_json import ATTRIBUTE_ORDER

SPEC_EXAMPLES = (Path(__file__).resolve().parents[3] / "shared" / "specs" / "face-v1.0"
                 / "specification" / "cognitiveservices" / "data-plane" / "Face" / "stable"
                 / "v1.0" / "examples")
STREAM = {"Content-Type": "application/octet-stream"}
RECTANGLE_KEYS = ["top", "left", "width", "height"]


def spec_example(name: str) -> dict:
    path = SPEC_EXAMPLES / name
    if not path.exists():
        pytest.skip(f"spec examples not available: {path}")
    return json.loads(path.read_text())


def error_of(response: requests.Response) -> tuple[int, str, str]:
    body = response.json()
    assert list(body) == ["error"] and list(body["error"]) == ["code", "message"], body
    return response.status_code, body["error"]["code"], body["error"]["message"]


# ----------------------------------------------------------------------------- happy paths

def test_detect_bytes_defaults(service, images):
    response = service.detect(data=images["face.jpg"], headers=STREAM)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    faces = response.json()
    assert len(faces) == 1
    face = faces[0]
    assert list(face) == ["faceId", "faceRectangle"]  # returnFaceId defaults to true
    uuid.UUID(face["faceId"])
    assert list(face["faceRectangle"]) == RECTANGLE_KEYS
    rect = face["faceRectangle"]
    assert all(isinstance(v, int) for v in rect.values())
    # The astronaut's face is around x 180..270, y 65..175 in the 512x512 photo.
    assert 150 < rect["left"] < 210 and 40 < rect["top"] < 100
    assert 60 < rect["width"] < 140 and 60 < rect["height"] < 150


def test_detect_url_json(service, image_server):
    response = service.detect(json={"url": image_server.url("face.jpg")})
    assert response.status_code == 200, response.text
    assert len(response.json()) == 1


def test_detect_same_face_from_url_and_bytes(service, images, image_server):
    by_url = service.detect("returnFaceId=false", json={"url": image_server.url("face.png")})
    by_bytes = service.detect("returnFaceId=false", data=images["face.png"], headers=STREAM)
    assert by_url.json() == by_bytes.json()


@pytest.mark.parametrize("name", ["face.jpg", "face.png", "face.gif", "face.bmp"])
def test_formats(service, images, name):
    response = service.detect("returnFaceId=false", data=images[name], headers=STREAM)
    assert response.status_code == 200, response.text
    assert len(response.json()) == 1


def test_chunked_upload(service, images):
    data = images["face.jpg"]

    def chunks():
        for start in range(0, len(data), 8192):
            yield data[start:start + 8192]

    response = service.detect("returnFaceId=false", data=chunks(), headers=STREAM)
    assert response.status_code == 200, response.text
    assert len(response.json()) == 1


def test_no_face_is_empty_list(service, images):
    response = service.detect(data=images["noface.jpg"], headers=STREAM)
    assert response.status_code == 200
    assert response.json() == []


def test_faces_largest_first(service, images):
    faces = service.detect("returnFaceId=false", data=images["two.jpg"], headers=STREAM).json()
    assert len(faces) == 2
    areas = [f["faceRectangle"]["width"] * f["faceRectangle"]["height"] for f in faces]
    assert areas[0] > areas[1]
    assert faces[0]["faceRectangle"]["left"] < 512 <= faces[1]["faceRectangle"]["left"]


def test_landmarks_and_recognition_model_match_spec_example(service, images):
    example = spec_example("DetectWithUrl.json")["responses"]["200"]["body"][0]
    response = service.detect(
        "returnFaceLandmarks=true&returnRecognitionModel=true&recognitionModel=recognition_04"
        "&returnFaceAttributes=headPose", data=images["face.jpg"], headers=STREAM)
    assert response.status_code == 200, response.text
    face = response.json()[0]
    # Azure's order on the wire: faceId, recognitionModel, faceRectangle, faceLandmarks,
    # faceAttributes (the spec example has the same top-level order).
    assert list(face) == list(example)
    assert face["recognitionModel"] == "recognition_04"
    assert list(face["faceLandmarks"]) == list(example["faceLandmarks"])
    for point in face["faceLandmarks"].values():
        assert list(point) == ["x", "y"] and all(isinstance(v, float) for v in point.values())
    assert set(face["faceRectangle"]) == set(example["faceRectangle"])
    assert list(face["faceAttributes"]) == ["headPose"]
    assert list(face["faceAttributes"]["headPose"]) == ["pitch", "roll", "yaw"]
    assert set(face["faceAttributes"]["headPose"]) == set(example["faceAttributes"]["headPose"])


def test_attribute_shapes_match_spec_example(service, images):
    """Every attribute the engine computes has the keys of the spec example's value."""
    example = spec_example("DetectWithUrl.json")["responses"]["200"]["body"][0]["faceAttributes"]
    names = [a for a in example if a in engine_attributes()]
    response = service.detect(f"returnFaceAttributes={','.join(names)}",
                              data=images["face.jpg"], headers=STREAM)
    assert response.status_code == 200, response.text
    attributes = response.json()[0]["faceAttributes"]
    assert list(attributes) == [a for a in ATTRIBUTE_ORDER if a in names]
    for name in names:
        expected = example[name]
        if isinstance(expected, dict):
            assert set(attributes[name]) == set(expected), name
            if name == "emotion":
                assert list(attributes[name]) == list(expected)
        else:
            assert type(attributes[name]) in (type(expected), int, float), name


def test_mask_with_detection_03_and_occlusion_with_detection_01(service, images):
    """mask is Azure's detection_03 attribute (400 on detection_01, tested above); occlusion is
    detection_01's. Both in Azure's shape on v1.0 and v1.2; the astronaut wears no mask."""
    def attributes_of(version: str, query: str) -> dict:
        answer = requests.post(service.url(f"/face/{version}/detect?returnFaceId=false&{query}"),
                               data=images["face.jpg"], timeout=60,
                               headers={**STREAM, "Ocp-Apim-Subscription-Key": service.key})
        assert answer.status_code == 200, answer.text
        return answer.json()[0]["faceAttributes"]

    for version in ("v1.0", "v1.2"):
        attributes = attributes_of(
            version, "detectionModel=detection_03&returnFaceAttributes=headPose,mask")
        assert list(attributes) == ["headPose", "mask"]
        assert attributes["mask"] == {"type": "noMask", "noseAndMouthCovered": False}
        attributes = attributes_of(version, "returnFaceAttributes=occlusion,accessories")
        assert list(attributes) == ["accessories", "occlusion"]
        assert attributes["occlusion"] == {"foreheadOccluded": False, "eyeOccluded": False,
                                           "mouthOccluded": False}


def test_makeup_on_v10_not_on_v12(service, images):
    """makeup is Azure's v1.0 pair of booleans; v1.2's enum has no makeup (400, as Azure)."""
    response = service.detect("returnFaceId=false&returnFaceAttributes=makeup",
                              data=images["face.jpg"], headers=STREAM)
    assert response.status_code == 200, response.text
    attributes = response.json()[0]["faceAttributes"]
    assert list(attributes) == ["makeup"]
    assert list(attributes["makeup"]) == ["eyeMakeup", "lipMakeup"]
    assert all(type(v) is bool for v in attributes["makeup"].values())
    v12 = requests.post(service.url("/face/v1.2/detect?returnFaceAttributes=makeup"),
                        data=images["face.jpg"],
                        headers={**STREAM, "Ocp-Apim-Subscription-Key": service.key}, timeout=60)
    assert error_of(v12) == (400, "BadArgument", "Invalid argument returnFaceAttributes.")


def test_face_id_kept_with_ttl(service, images):
    from rostro.store.db import open_database
    from rostro.store.face_cache import get_face
    from rostro.store.resources import get_resource

    response = service.detect("faceIdTimeToLive=60&recognitionModel=recognition_03",
                              data=images["face.jpg"], headers=STREAM)
    face_id = response.json()[0]["faceId"]
    database = open_database(service.home / "rostro.db", create=False)
    try:
        with database.transaction() as connection:
            resource = get_resource(connection, "tests")
            stored = get_face(connection, resource.id, face_id)
            assert stored is not None
            assert stored.recognition_model == "recognition_03"
            assert stored.embedding.shape == (128,)
            assert 59 <= stored.expires_at - stored.created_at <= 60
            assert get_face(connection, resource.id, face_id, now=stored.expires_at + 1) is None
            other = get_resource(connection, "default")
            assert get_face(connection, other.id, face_id) is None
    finally:
        database.close()


def test_no_face_id_when_not_asked(service, images):
    faces = service.detect("returnFaceId=false", data=images["face.jpg"], headers=STREAM).json()
    assert "faceId" not in faces[0]


@pytest.mark.parametrize("query", [
    "returnFaceId=True", "returnFaceId=FALSE", "returnFaceAttributes=",
    "RETURNFACEID=false&returnfacelandmarks=true", "detectionModel=detection_02",
    "detectionModel=detection_03&returnFaceAttributes=headPose",
    "recognitionModel=recognition_02", "faceIdTimeToLive=60", "faceIdTimeToLive=86400",
    "returnFaceAttributes=headPose,headPose",
])
def test_accepted_parameters(service, images, query):
    response = service.detect(query, data=images["face.jpg"], headers=STREAM)
    assert response.status_code == 200, (query, response.text)


# ------------------------------------------------------------------------ parameter errors

@pytest.mark.parametrize("query,message", [
    ("returnFaceAttributes=age,%20gender", "Invalid argument returnFaceAttributes."),
    ("returnFaceAttributes=accessory", "Invalid argument returnFaceAttributes."),
    ("returnFaceAttributes=headPose,", "Invalid argument returnFaceAttributes."),
    ("returnFaceId=yes", "Invalid argument returnFaceId."),
    ("returnFaceLandmarks=1", "Invalid argument returnFaceLandmarks."),
    ("recognitionModel=recognition_05", "'recognitionModel' is invalid."),
    ("detectionModel=detection_04", "'detectionModel' is invalid."),
    ("faceIdTimeToLive=59", "Argument faceIdTimeToLive out of range."),
    ("faceIdTimeToLive=86401", "Argument faceIdTimeToLive out of range."),
    ("faceIdTimeToLive=abc", "Invalid argument faceIdTimeToLive."),
    ("detectionModel=detection_02&returnFaceAttributes=headPose",
     "'returnFaceAttributes' is not supported by detection_02."),
    ("detectionModel=detection_02&returnFaceLandmarks=true",
     "'returnLandmarks' is not supported by detection_02."),
    ("detectionModel=detection_03&returnFaceAttributes=age",
     "Only face attributes 'headpose,blur,mask,qualityforrecognition' are supported by "
     "detection_03."),
    ("returnFaceAttributes=mask",
     "Only face attributes 'age,gender,headpose,smile,facialhair,glasses,emotion,hair,makeup,"
     "occlusion,accessories,blur,exposure,noise,qualityforrecognition' are supported by "
     "detection_01."),
    ("returnFaceAttributes=qualityForRecognition",
     "'qualityForRecognition' is only supported when 'recognitionModel' is 'recognition_03' "
     "or 'recognition_04'."),
])
def test_parameter_errors(service, images, query, message):
    response = service.detect(query, data=images["face.jpg"], headers=STREAM)
    assert error_of(response) == (400, "BadArgument", message)


def test_attribute_names_cover_azure():
    assert set(AZURE_ATTRIBUTES) == set(ATTRIBUTE_ORDER)


def test_engine_serves_every_azure_attribute():
    assert engine_attributes() == frozenset(AZURE_ATTRIBUTES)


# ------------------------------------------------------------------------------ body errors

@pytest.mark.parametrize("body,code,message", [
    (b"", "BadArgument", "Request body is invalid."),
    (b"{\"url\": ", "BadArgument", "JSON parsing error."),
    (b"[1, 2]", "BadArgument", "Request body is invalid."),
    (b"{}", "InvalidURL", "Invalid image URL."),
    (b"{\"url\": null}", "InvalidURL", "Invalid image URL."),
    (b"{\"url\": 42}", "InvalidURL", "Invalid image URL."),
    (b"{\"url\": \"ftp://127.0.0.1/face.jpg\"}", "InvalidURL", "Invalid image URL."),
    (b"{\"url\": \"file:///etc/passwd\"}", "InvalidURL", "Invalid image URL."),
    (b"{\"url\": \"not a url\"}", "InvalidURL", "Invalid image URL."),
])
def test_json_body_errors(service, body, code, message):
    response = service.detect(data=body, headers={"Content-Type": "application/json"})
    assert error_of(response) == (400, code, message)


def test_null_fields_are_absent(service, image_server):
    body = {"url": image_server.url("face.jpg"), "faceListId": None}
    response = service.detect(data=json.dumps(body),
                              headers={"Content-Type": "application/json; charset=utf-8"})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("content_type", [None, "text/plain", "image/jpeg", "multipart/form-data"])
def test_unsupported_media_type(service, images, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    response = service.detect(data=images["face.jpg"], headers=headers)
    assert error_of(response) == (415, "BadArgument", "Invalid Media Type.")


@pytest.mark.parametrize("name,code,message", [
    ("tiny.png", "InvalidImageSize", "Image size is too small."),
    ("toobig.bin", "InvalidImageSize", "Image size is too big."),
    ("bomb.png", "InvalidImageSize", "Image size is too big."),
    ("wide.png", "InvalidImageSize", "Image size is too big."),
    ("notimage.txt", "InvalidImage", "Decoding error, image format unsupported."),
])
def test_image_limits_bytes(service, images, name, code, message):
    response = service.detect(data=images[name], headers=STREAM)
    assert error_of(response) == (400, code, message)


def test_largest_allowed_image(service, images):
    assert len(images["huge.bmp"]) < 6 * 1024 * 1024
    response = service.detect(data=images["huge.bmp"], headers=STREAM)
    assert response.status_code == 200, response.text


def test_empty_stream_is_too_small(service):
    response = service.detect(data=b"", headers=STREAM)
    assert error_of(response) == (400, "InvalidImageSize", "Image size is too small.")


@pytest.mark.parametrize("path,code,message", [
    ("tiny.png", "InvalidImageSize", "Image size is too small."),
    ("toobig.bin", "InvalidImageSize", "Image size is too big."),
    ("notimage.txt", "InvalidImage", "Decoding error, image format unsupported."),
    ("missing.jpg", "InvalidURL", "Invalid image URL or error downloading from target server. "
     "Remote server error returned: \"Response status code does not indicate success: 404 "
     "(Not Found).\""),
    ("status/500", "InvalidURL", "Invalid image URL or error downloading from target server. "
     "Remote server error returned: \"Response status code does not indicate success: 500 "
     "(Internal Server Error).\""),
])
def test_image_limits_url(service, image_server, path, code, message):
    response = service.detect(json={"url": image_server.url(path)})
    assert error_of(response) == (400, code, message)


def test_redirects_followed_up_to_a_limit(service, image_server):
    ok = service.detect("returnFaceId=false", json={"url": image_server.url("redirect/3/face.jpg")})
    assert ok.status_code == 200, ok.text
    too_many = service.detect(json={"url": image_server.url("redirect/4/face.jpg")})
    assert error_of(too_many)[:2] == (400, "InvalidURL")


@pytest.mark.parametrize("host,kind", [
    ("127.0.0.2", "loopback"), ("[::1]", "loopback"), ("[::ffff:127.0.0.2]", "loopback"),
    ("[64:ff9b::7f00:2]", "loopback"), ("[2002:7f00:2::1]", "loopback"),
    ("[::127.0.0.2]", "loopback"), ("0.0.0.0", "unspecified"),
    ("169.254.169.254", "link-local"), ("[64:ff9b::a9fe:a9fe]", "link-local"),
    ("10.1.2.3", "private"), ("192.168.0.1", "private"), ("100.64.0.1", "private"),
])
def test_private_addresses_refused(service, image_server, host, kind):
    """Only the allow-listed loopback names are allowed; other non-public addresses (IPv6
    forms that carry one included) are refused before any connection is made (the image
    server does listen on 127.0.0.2), with Azure's code and a message that says why and
    which option allows them."""
    port = image_server.other_base.rsplit(":", 1)[1]
    response = service.detect(json={"url": f"http://{host}:{port}/face.jpg"})
    status, code, message = error_of(response)
    assert (status, code) == (400, "InvalidURL")
    assert message.startswith("Invalid image URL. ")
    assert f"({kind}) address" in message
    assert "--allow-private-urls" in message and f"--allowed-hosts {host.strip('[]')}" in message


def test_refused_host_is_logged_once(service, image_server):
    """The server log says the same as the answer, at WARNING, once per host."""
    port = image_server.other_base.rsplit(":", 1)[1]
    for _ in range(3):
        response = service.detect(json={"url": f"http://10.77.0.1:{port}/face.jpg"})
        assert error_of(response)[:2] == (400, "InvalidURL")
    lines = [line for line in service.log.read_text().splitlines()
             if "image URL refused: 10.77.0.1 " in line]
    assert len(lines) == 1, lines
    assert "WARNING" in lines[0] and "--allowed-hosts 10.77.0.1" in lines[0]


def test_slow_url_does_not_block_other_requests(service, images, image_server):
    """While one request waits for a slow image server, other requests are served."""
    image_server.release.clear()
    image_server.slow_started.clear()
    slow: dict[str, requests.Response] = {}
    thread = threading.Thread(target=lambda: slow.setdefault(
        "response", service.detect("returnFaceId=false",
                                   json={"url": image_server.url("slow/face.jpg")})))
    thread.start()
    try:
        assert image_server.slow_started.wait(30)
        for _ in range(3):
            fast = service.detect("returnFaceId=false", data=images["face.jpg"], headers=STREAM)
            assert fast.status_code == 200
        assert "response" not in slow  # the slow one is still waiting
    finally:
        image_server.release.set()
        thread.join(60)
    assert slow["response"].status_code == 200
    assert len(slow["response"].json()) == 1


def test_trickling_urls_do_not_take_every_download_slot(service, image_server):
    """Forty image URLs whose server trickles its headers (more than the process's 32
    download slots) hold at most their host's share of the slots: a URL on another host is
    served meanwhile, and the trickling ones end as Azure's download error."""
    image_server.trickle_release.clear()
    image_server.most_trickling = 0
    answers: list[requests.Response] = []
    trickles = [threading.Thread(target=lambda: answers.append(service.detect(
        "returnFaceId=false", json={"url": image_server.url("trickle/face.jpg")})))
        for _ in range(40)]
    for thread in trickles:
        thread.start()
    try:
        deadline = time.monotonic() + 30
        while image_server.trickling < 8 and time.monotonic() < deadline:
            time.sleep(0.05)
        port = image_server.base.rsplit(":", 1)[1]
        normal = service.detect("returnFaceId=false",
                                json={"url": f"http://localhost:{port}/face.jpg"})
        assert normal.status_code == 200, normal.text
        assert not answers  # all forty still waiting on the trickling server
        assert image_server.most_trickling == 8  # the per-host share, not 32 or 40
    finally:
        image_server.trickle_release.set()
        for thread in trickles:
            thread.join(60)
    assert len(answers) == 40
    assert {error_of(answer)[:2] for answer in answers} == {(400, "InvalidURL")}
