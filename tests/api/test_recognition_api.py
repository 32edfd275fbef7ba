"""Person groups, face lists, training, verify/identify/find similar/group over plain HTTP
against a real `rostro serve`: Azure's error codes and messages, paging, the trained-snapshot
semantics, and everything surviving a restart (with the index files deleted)."""

from __future__ import annotations

import uuid

import pytest
import requests
from api_service import STREAM, Api, start_service, stop_service
from identity_photos import cast, serve


def error_of(response: requests.Response) -> tuple[int, str, str]:
    body = response.json()["error"]
    return response.status_code, body["code"], body["message"]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def api(service) -> Api:
    return Api(service.base, service.key)


@pytest.fixture(scope="module")
def group_with_face(api, images):
    """A person group with one person and one face of the astronaut (not trained)."""
    group = unique("pg")
    api.ok("PUT", f"/persongroups/{group}", json={"name": "astronauts"})
    person = api.ok("POST", f"/persongroups/{group}/persons", json={"name": "Eileen"})["personId"]
    face = api.ok("POST", f"/persongroups/{group}/persons/{person}/persistedfaces",
                  data=images["face.jpg"], headers=STREAM, params={"userData": "first"})
    return group, person, face["persistedFaceId"]


# ------------------------------------------------------------------- containers and paging

def test_create_get_update_list_delete(api):
    prefix = unique("crud")
    for suffix in ("a", "b", "c"):
        assert api.call("PUT", f"/persongroups/{prefix}-{suffix}",
                        json={"name": suffix, "userData": f"data {suffix}",
                              "recognitionModel": "recognition_04"}).status_code == 200
    assert api.ok("GET", f"/persongroups/{prefix}-a") == {
        "personGroupId": f"{prefix}-a", "name": "a", "userData": "data a"}
    assert api.ok("GET", f"/persongroups/{prefix}-a",
                  params={"returnRecognitionModel": "true"})["recognitionModel"] == "recognition_04"
    page = api.ok("GET", "/persongroups", params={"start": f"{prefix}-a", "top": 1})
    assert [g["personGroupId"] for g in page] == [f"{prefix}-b"]
    ids = [g["personGroupId"] for g in api.ok("GET", "/persongroups")]
    assert ids == sorted(ids)
    # PATCH: null counts as absent, so userData stays
    api.ok("PATCH", f"/persongroups/{prefix}-a", json={"name": "renamed", "userData": None})
    assert api.ok("GET", f"/persongroups/{prefix}-a")["name"] == "renamed"
    assert api.ok("GET", f"/persongroups/{prefix}-a")["userData"] == "data a"
    # a large person group and a face list may share the id: separate namespaces
    api.ok("PUT", f"/largepersongroups/{prefix}-a", json={"name": "large"})
    api.ok("PUT", f"/facelists/{prefix}-a", json={"name": "list"})
    assert api.ok("GET", f"/facelists/{prefix}-a")["persistedFaces"] == []
    api.ok("DELETE", f"/persongroups/{prefix}-a")
    assert error_of(api.call("GET", f"/persongroups/{prefix}-a")) == (
        404, "PersonGroupNotFound", "Person group is not found.")
    assert api.ok("GET", f"/largepersongroups/{prefix}-a")["name"] == "large"


@pytest.mark.parametrize("body, message", [
    ({}, "'name' is empty."),
    ({"name": "x" * 129}, "'name' is too long."),
    ({"name": "x", "userData": "u" * 16385}, "'userData' is too long."),
    ({"name": "x", "recognitionModel": "recognition_09"}, "'recognitionModel' is invalid."),
])
def test_create_rejects_bad_bodies(api, body, message):
    response = api.call("PUT", f"/largefacelists/{unique('bad')}", json=body)
    assert error_of(response) == (400, "BadArgument", message)


def test_ids_exists_and_paging_errors(api):
    assert error_of(api.call("PUT", "/persongroups/Not_Lower", json={"name": "x"}))[:2] == (
        400, "BadArgument")
    assert error_of(api.call("GET", "/persongroups/Not_Lower"))[:2] == (
        404, "PersonGroupNotFound")
    group = unique("dup")
    api.ok("PUT", f"/largepersongroups/{group}", json={"name": "x"})
    assert error_of(api.call("PUT", f"/largepersongroups/{group}", json={"name": "x"})) == (
        409, "LargePersonGroupExists", "Large person group already exists.")
    assert error_of(api.call("GET", "/persongroups", params={"top": 0})) == (
        400, "BadArgument", "'top' is invalid.")
    assert error_of(api.call("GET", "/persongroups", params={"start": "s" * 65})) == (
        400, "BadArgument", "'start' is too long.")


# ----------------------------------------------------------------------- persons and faces

def test_persons_and_faces(api, images, group_with_face):
    group, person, face = group_with_face
    got = api.ok("GET", f"/persongroups/{group}/persons/{person}")
    assert got == {"personId": person, "persistedFaceIds": [face], "name": "Eileen",
                   "userData": None}
    assert api.ok("GET", f"/persongroups/{group}/persons/{person}/persistedfaces/{face}") == {
        "persistedFaceId": face, "userData": "first"}
    # the legacy SDK spells the segment persistedFaces
    api.ok("PATCH", f"/persongroups/{group}/persons/{person}/persistedFaces/{face}",
           json={"userData": "changed"})
    assert api.ok("GET", f"/persongroups/{group}/persons/{person}/persistedfaces/{face}")[
        "userData"] == "changed"
    missing = str(uuid.uuid4())
    assert error_of(api.call("GET", f"/persongroups/{group}/persons/{missing}")) == (
        404, "PersonNotFound", "Person is not found.")
    assert error_of(api.call("GET", f"/persongroups/{group}/persons/not-a-uuid"))[1] == (
        "PersonNotFound")
    assert error_of(api.call(
        "GET", f"/persongroups/{group}/persons/{person}/persistedfaces/{missing}")) == (
        404, "PersistedFaceNotFound", "Persisted face is not found.")


def test_add_face_image_rules(api, images, group_with_face):
    group, person, _ = group_with_face
    path = f"/persongroups/{group}/persons/{person}/persistedfaces"
    assert error_of(api.call("POST", path, data=images["noface.jpg"], headers=STREAM)) == (
        400, "InvalidImage", "No face detected in the image.")
    assert error_of(api.call("POST", path, data=images["two.jpg"], headers=STREAM)) == (
        400, "InvalidImage", "There is more than 1 face in the image.")
    faces = api.ok("POST", "/detect", data=images["two.jpg"], headers=STREAM,
                   params={"returnFaceId": "false"})
    small = faces[1]["faceRectangle"]
    target = f"{small['left']},{small['top']},{small['width']},{small['height']}"
    added = api.ok("POST", path, data=images["two.jpg"], headers=STREAM,
                   params={"targetFace": target})
    assert uuid.UUID(added["persistedFaceId"])
    assert error_of(api.call("POST", path, data=images["two.jpg"], headers=STREAM,
                             params={"targetFace": "1,2,3"})) == (
        400, "BadArgument", "Invalid argument targetFace.")
    assert error_of(api.call("POST", path, data=images["two.jpg"], headers=STREAM,
                             params={"targetFace": "800,10,200,200"})) == (
        400, "BadArgument", "Argument targetFace out of range.")
    assert error_of(api.call("POST", path, data=images["face.jpg"], headers=STREAM,
                             params={"userData": "u" * 1025})) == (
        400, "BadArgument", "'userData' is too long.")
    assert api.call("POST", path, data=images["face.jpg"],
                    headers={"Content-Type": "text/plain"}).status_code == 415
    api.ok("DELETE", f"{path}/{added['persistedFaceId']}")
    assert api.call("GET", f"{path}/{added['persistedFaceId']}").status_code == 404


# --------------------------------------------------------------------- training and search

def test_training_status_and_untrained_errors(api, images, group_with_face):
    group, _, _ = group_with_face
    assert error_of(api.call("GET", f"/persongroups/{group}/training")) == (
        404, "PersonGroupNotTrained", f"Person group '{group}' not trained.")
    face_id = api.detect(images["face.jpg"])[0]
    assert error_of(api.call("POST", "/identify",
                             json={"faceIds": [face_id], "personGroupId": group})) == (
        400, "PersonGroupNotTrained", f"Person group '{group}' not trained.")
    empty = unique("empty")
    api.ok("PUT", f"/largepersongroups/{empty}", json={"name": "nobody"})
    status = api.train("largepersongroups", empty)
    assert status["status"] == "failed" and status["message"]
    assert status["lastSuccessfulTrainingDateTime"] is None


def test_identify_and_verify_argument_errors(api, images, group_with_face):
    group, person, _ = group_with_face
    face_id = api.detect(images["face.jpg"])[0]
    cases = [
        ({"faceIds": [], "personGroupId": group},
         (400, "BadArgument", "The length of faceIds is not in a valid range.")),
        ({"faceIds": [str(uuid.uuid4()) for _ in range(11)], "personGroupId": group},
         (400, "BadArgument", "The length of faceIds is not in a valid range.")),
        ({"faceIds": [face_id], "personGroupId": group, "largePersonGroupId": group},
         (400, "PersonGroupIdAndLargePersonGroupIdBothNotNull",
          "Large person group ID and person group ID are both not null.")),
        ({"faceIds": [face_id], "personGroupId": None, "largePersonGroupId": None},
         (400, "PersonGroupIdAndLargePersonGroupIdBothNull",
          "Large person group ID and person group ID are both null.")),
        ({"faceIds": [str(uuid.uuid4())], "personGroupId": group},
         (404, "FaceNotFound", "Face is not found.")),
        ({"faceIds": ["not-a-face-id"], "personGroupId": group},
         (400, "BadArgument", "Face ID is invalid.")),
        ({"faceIds": [face_id], "personGroupId": group, "maxNumOfCandidatesReturned": 101},
         (400, "BadArgument", "Argument maxNumOfCandidatesReturned out of range.")),
        ({"faceIds": [face_id], "personGroupId": group, "confidenceThreshold": 1.5},
         (400, "BadArgument", "Argument confidenceThreshold out of range.")),
        ({"faceIds": [face_id], "personGroupId": unique("nogroup")},
         (404, "PersonGroupNotFound", "Person group is not found.")),
    ]
    for body, expected in cases:
        assert error_of(api.call("POST", "/identify", json=body)) == expected, body
    other_model = api.detect(images["face.jpg"], recognitionModel="recognition_04")[0]
    assert error_of(api.call("POST", "/verify",
                             json={"faceId1": face_id, "faceId2": other_model})) == (
        400, "BadArgument", "'recognitionModel' is incompatible.")
    verdict = api.ok("POST", "/verify",
                     json={"faceId": face_id, "personGroupId": group, "personId": person})
    assert verdict["isIdentical"] is True and verdict["confidence"] >= 0.5
    assert error_of(api.call("POST", "/group", json={"faceIds": [face_id]}))[2] == (
        "The length of faceIds is not in a valid range.")
    assert error_of(api.call("POST", "/findsimilars", json={
        "faceId": face_id, "faceIds": [face_id], "faceListId": "x"}))[2] == (
        "LargeFaceListId, faceListId and faceIds, not exactly one of them is valid.")
    assert error_of(api.call("POST", "/findsimilars", json={
        "faceId": face_id, "faceIds": [face_id], "mode": "matchAll"}))[:2] == (
        400, "BadArgument")
    empty_list = unique("fl")
    api.ok("PUT", f"/facelists/{empty_list}", json={"name": "empty"})
    assert error_of(api.call("POST", "/findsimilars",
                             json={"faceId": face_id, "faceListId": empty_list})) == (
        400, "FaceListNotReady", "Face list is empty.")


def test_train_accepts_json_content_type_and_empty_body(api, group_with_face):
    group, _, _ = group_with_face
    response = api.call("POST", f"/persongroups/{group}/train",
                        headers={"Content-Type": "application/json"})
    assert response.status_code == 202 and response.content == b""


def test_identify_uses_the_trained_snapshot(api, eval_data, image_server):
    people = cast(eval_data("identity"))[:3]
    serve(image_server, people)
    first, second, third = people
    group = unique("snap")
    api.ok("PUT", f"/largepersongroups/{group}", json={"name": "snapshot"})

    def enroll(person):
        person_id = api.ok("POST", f"/largepersongroups/{group}/persons",
                           json={"name": person.identity})["personId"]
        for photo in person.enrolled:
            url = image_server.url(photo.name)
            faces = api.ok("POST", "/detect", json={"url": url}, params={"returnFaceId": "false"})
            box = faces[0]["faceRectangle"]
            params = ({"targetFace": f"{box['left']},{box['top']},{box['width']},{box['height']}"}
                      if len(faces) > 1 else {})
            api.ok("POST", f"/largepersongroups/{group}/persons/{person_id}/persistedfaces",
                   json={"url": url}, params=params)
        return person_id

    def candidates(person) -> list[str]:
        face = api.ok("POST", "/detect", json={"url": image_server.url(person.probe.name)})[0]
        result = api.ok("POST", "/identify", json={"faceIds": [face["faceId"]],
                                                   "largePersonGroupId": group,
                                                   "maxNumOfCandidatesReturned": 3})
        return [c["personId"] for c in result[0]["candidates"]]

    first_id = enroll(first)
    before = api.train("largepersongroups", group)
    assert before["status"] == "succeeded"
    assert candidates(first) == [first_id]
    second_id = enroll(second)
    assert second_id not in candidates(second)  # added after training: not found yet
    after = api.train("largepersongroups", group)
    assert after["lastSuccessfulTrainingDateTime"] > before["lastSuccessfulTrainingDateTime"]
    assert candidates(second)[:1] == [second_id]
    third_id = enroll(third)
    api.ok("DELETE", f"/largepersongroups/{group}/persons/{second_id}")
    assert second_id not in candidates(second)  # deleted persons are never answered
    assert third_id not in candidates(third)
    api.ok("DELETE", f"/largepersongroups/{group}")


def test_everything_survives_a_restart(tmp_path, models_root, images):
    home = tmp_path / "home"
    running = start_service(home, models_root)
    try:
        created = running.cli("resources", "create", "restart", "--tier", "unlimited")
        key = created.stdout.split("KEY 1:")[1].split()[0]
        api = Api(running.base, key)
        api.ok("PUT", "/largepersongroups/kept", json={"name": "kept", "userData": "u"})
        person = api.ok("POST", "/largepersongroups/kept/persons",
                        json={"name": "Eileen"})["personId"]
        face = api.ok("POST", f"/largepersongroups/kept/persons/{person}/persistedfaces",
                      data=images["face.jpg"], headers=STREAM)["persistedFaceId"]
        trained = api.train("largepersongroups", "kept")
        api.ok("PUT", "/largefacelists/kept", json={"name": "kept list"})
        list_face = api.ok("POST", "/largefacelists/kept/persistedfaces",
                           data=images["face.jpg"], headers=STREAM)["persistedFaceId"]
        api.train("largefacelists", "kept")
    finally:
        stop_service(running.process)
    indexes = home / "indexes"
    assert any(indexes.rglob("*.idx"))
    for path in indexes.rglob("*.idx"):  # the database is the source of truth
        path.unlink()

    running = start_service(home, models_root)
    try:
        api = Api(running.base, key)
        assert api.ok("GET", "/largepersongroups/kept") == {
            "largePersonGroupId": "kept", "name": "kept", "userData": "u"}
        assert api.ok("GET", f"/largepersongroups/kept/persons/{person}")[
            "persistedFaceIds"] == [face]
        assert api.ok("GET", "/largepersongroups/kept/training") == trained
        face_id = api.detect(images["vga.jpg"])[0]
        result = api.ok("POST", "/identify",
                        json={"faceIds": [face_id], "largePersonGroupId": "kept"})
        assert result[0]["candidates"][0]["personId"] == person
        similar = api.ok("POST", "/findsimilars",
                         json={"faceId": face_id, "largeFaceListId": "kept"})
        assert similar[0]["persistedFaceId"] == list_face
    finally:
        stop_service(running.process)
    assert any(indexes.rglob("*.idx"))  # rebuilt from the database and saved again
