"""The new SDK azure-ai-vision-face 1.0.0b2 (Face API v1.2-preview.1) against a real
`rostro serve`: large person group create -> add faces -> train (a long-running operation,
polled every second) -> identify -> verify; the same LRO with a large face list and the
v1.2 spellings of training status and Detect. Skipped without ../shared/eval.
"""

from __future__ import annotations

import uuid

import pytest
import requests
from azure.ai.vision.face import FaceAdministrationClient, FaceClient
from azure.ai.vision.face.models import (
    FaceAttributeTypeDetection03,
    FaceDetectionModel,
    FaceRecognitionModel,
)
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError
from identity_photos import cast, serve

MODELS = {"detection_model": FaceDetectionModel.DETECTION03,
          "recognition_model": FaceRecognitionModel.RECOGNITION04}


@pytest.fixture(scope="module")
def people(eval_data, image_server):
    cast_ = cast(eval_data("identity"))
    serve(image_server, cast_)
    return cast_


@pytest.fixture(scope="module")
def clients(service):
    credential = AzureKeyCredential(service.key)
    return (FaceClient(service.base, credential),
            FaceAdministrationClient(service.base, credential))


def detect_one(face_client: FaceClient, url: str):
    faces = face_client.detect_from_url(url=url, return_face_id=True, **MODELS)
    assert faces, url
    return faces[0]


def target_of(face_client: FaceClient, url: str) -> list[int] | None:
    faces = face_client.detect_from_url(url=url, return_face_id=False, **MODELS)
    if len(faces) == 1:
        return None
    box = faces[0].face_rectangle
    return [box.left, box.top, box.width, box.height]


def test_large_person_group_lro_identify_verify(clients, image_server, people):
    face_client, admin = clients
    group_id = f"lpg-v12-{uuid.uuid4().hex[:10]}"
    groups = admin.large_person_group
    groups.create(group_id, name="identity dev", recognition_model=MODELS["recognition_model"])
    person_ids = {}
    for person in people:
        created = groups.create_person(group_id, name=person.identity, user_data="v1.2")
        person_ids[person.identity] = created.person_id
        for photo in person.enrolled:
            url = image_server.url(photo.name)
            groups.add_face_from_url(group_id, created.person_id, url=url,
                                     target_face=target_of(face_client, url),
                                     detection_model=MODELS["detection_model"])

    poller = groups.begin_train(group_id, polling_interval=1)
    poller.wait()
    assert poller.status().lower() == "succeeded"
    assert groups.get_training_status(group_id).status == "succeeded"

    probes = [detect_one(face_client, image_server.url(p.probe.name)).face_id for p in people]
    results = face_client.identify_from_large_person_group(face_ids=probes,
                                                           large_person_group_id=group_id)
    for person, result in zip(people, results, strict=True):
        assert result.candidates, person.identity
        assert result.candidates[0].person_id == person_ids[person.identity]
        verdict = face_client.verify_from_large_person_group(
            face_id=result.face_id, large_person_group_id=group_id,
            person_id=result.candidates[0].person_id)
        assert verdict.is_identical and verdict.confidence >= 0.5

    stranger = face_client.verify_from_large_person_group(
        face_id=probes[0], large_person_group_id=group_id,
        person_id=person_ids[people[1].identity])
    assert not stranger.is_identical
    groups.delete(group_id)
    with pytest.raises(HttpResponseError) as missing:
        groups.get(group_id)
    assert missing.value.status_code == 404


def test_large_face_list_lro_and_find_similar(clients, image_server, people):
    face_client, admin = clients
    list_id = f"lfl-v12-{uuid.uuid4().hex[:10]}"
    lists = admin.large_face_list
    lists.create(list_id, name="identity dev", recognition_model=MODELS["recognition_model"])
    owner = {}
    for person in people[:4]:
        url = image_server.url(person.enrolled[0].name)
        added = lists.add_face_from_url(list_id, url=url, target_face=target_of(face_client, url),
                                        detection_model=MODELS["detection_model"])
        owner[added.persisted_face_id] = person.identity
    lists.begin_train(list_id, polling_interval=1).wait()
    for person in people[:4]:
        probe = detect_one(face_client, image_server.url(person.probe.name)).face_id
        similar = face_client.find_similar_from_large_face_list(
            face_id=probe, large_face_list_id=list_id, max_num_of_candidates_returned=1)
        assert owner[similar[0].persisted_face_id] == person.identity
    lists.delete(list_id)


def test_operation_location_is_absolute_and_pollable(service):
    headers = {"Ocp-Apim-Subscription-Key": service.key}
    group = f"lpg-op-{uuid.uuid4().hex[:8]}"
    base = service.url("/face/v1.2")
    assert requests.put(f"{base}/largepersongroups/{group}", json={"name": "x"},
                        headers=headers).status_code == 200
    started = requests.post(f"{base}/largepersongroups/{group}/train", headers=headers)
    assert started.status_code == 202 and started.content == b""
    location = started.headers["operation-Location"]
    assert location.startswith(f"{service.base}/face/v1.2/operations/")
    body = requests.get(location, headers=headers).json()
    assert set(body) == {"operationId", "status", "createdTime", "lastActionTime",
                         "finishedTime", "message"}
    assert body["operationId"] == location.rsplit("/", 1)[1]
    assert body["status"] in ("notStarted", "running", "succeeded", "failed")
    # v1.0's train of the same kind answers 202 with no operation-Location
    v10 = requests.post(service.url(f"/face/v1.0/largepersongroups/{group}/train"),
                        headers=headers)
    assert v10.status_code == 202 and "operation-Location" not in v10.headers
    unknown = requests.get(f"{base}/operations/{uuid.uuid4()}", headers=headers)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "OperationNotFound"
    # v1.2 names the error code in a header too; v1.0 never does.
    assert unknown.headers["x-ms-error-code"] == "OperationNotFound"
    missing = requests.get(service.url(f"/face/v1.0/largepersongroups/{uuid.uuid4()}"),
                           headers=headers)
    assert missing.status_code == 404 and "x-ms-error-code" not in missing.headers
    no_key = requests.get(f"{base}/largepersongroups/{group}")
    assert no_key.status_code == 401 and no_key.headers["x-ms-error-code"] == "401"


def test_v12_detect(clients, image_server, service):
    face_client, _ = clients
    faces = face_client.detect_from_url(
        url=image_server.url("face.jpg"), return_face_id=True,
        return_face_attributes=[FaceAttributeTypeDetection03.HEAD_POSE], **MODELS)
    assert len(faces) == 1 and faces[0].face_attributes.head_pose is not None
    retired = requests.post(
        service.url("/face/v1.2/detect?returnFaceAttributes=emotion"),
        json={"url": image_server.url("face.jpg")},
        headers={"Ocp-Apim-Subscription-Key": service.key})
    assert retired.status_code == 400  # v1.2 has no emotion, gender or makeup
    assert retired.headers["x-ms-error-code"] == "BadArgument"
    with pytest.raises(HttpResponseError) as refused:
        face_client.detect_from_url(url=image_server.url("missing.jpg"), return_face_id=False,
                                    **MODELS)
    assert refused.value.status_code == 400 and refused.value.error.code == "InvalidURL"


def test_v12_sdk_mask_and_occlusion(clients, image_server):
    """The new SDK's models read mask (detection_03) and occlusion (detection_01)."""
    from azure.ai.vision.face.models import FaceAttributeTypeDetection01

    face_client, _ = clients
    masked = face_client.detect_from_url(
        url=image_server.url("face.jpg"), return_face_id=False,
        return_face_attributes=[FaceAttributeTypeDetection03.MASK], **MODELS)
    assert masked[0].face_attributes.mask.type == "noMask"
    assert masked[0].face_attributes.mask.nose_and_mouth_covered is False
    occluded = face_client.detect_from_url(
        url=image_server.url("face.jpg"), return_face_id=False,
        return_face_attributes=[FaceAttributeTypeDetection01.OCCLUSION],
        detection_model=FaceDetectionModel.DETECTION01,
        recognition_model=FaceRecognitionModel.RECOGNITION04)
    occlusion = occluded[0].face_attributes.occlusion
    assert (occlusion.forehead_occluded, occlusion.eye_occluded,
            occlusion.mouth_occluded) == (False, False, False)
