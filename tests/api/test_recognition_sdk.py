"""The official SDK azure-cognitiveservices-vision-face 0.6.1 against a real `rostro serve`:
person groups and large person groups enrolled with photos of named people (identity dev),
trained, polled, identify and verify; face lists and large face lists with find similar;
group; delete. Photos are served by the local image server; skipped without ../shared/eval.
"""

from __future__ import annotations

import time
import uuid

import pytest
from azure.cognitiveservices.vision.face import FaceClient
from azure.cognitiveservices.vision.face.models import APIErrorException
from identity_photos import cast, serve
from msrest.authentication import CognitiveServicesCredentials

TRAINING_TIMEOUT = 60.0


@pytest.fixture(scope="module")
def people(eval_data, image_server):
    cast_ = cast(eval_data("identity"))
    assert len(cast_) >= 6, [p.identity for p in cast_]
    serve(image_server, cast_)
    return cast_


@pytest.fixture(scope="module")
def client(service) -> FaceClient:
    return FaceClient(service.base, CognitiveServicesCredentials(service.key))


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def target_of(client: FaceClient, url: str) -> list[int] | None:
    """None when the photo holds one face; else the rectangle of its largest face."""
    faces = client.face.detect_with_url(url, return_face_id=False)
    assert faces, f"no face in {url}"
    if len(faces) == 1:
        return None
    box = faces[0].face_rectangle  # largest first
    return [box.left, box.top, box.width, box.height]


def wait_trained(get_status) -> object:
    deadline = time.monotonic() + TRAINING_TIMEOUT
    while True:
        status = get_status()
        if status.status in ("succeeded", "failed"):
            return status
        assert time.monotonic() < deadline, "training did not finish"
        time.sleep(0.2)


def detect_ids(client: FaceClient, image_server, photos) -> list[str]:
    return [client.face.detect_with_url(image_server.url(p.name))[0].face_id for p in photos]


@pytest.mark.parametrize("large", [False, True], ids=["persongroup", "largepersongroup"])
def test_person_group_flow(client, image_server, people, large):
    groups = client.large_person_group if large else client.person_group
    persons = client.large_person_group_person if large else client.person_group_person
    group_id = new_id("lpg" if large else "pg")
    where = {"large_person_group_id": group_id} if large else {"person_group_id": group_id}

    groups.create(group_id, "identity dev", user_data="rostro tests")
    person_ids = {}
    for person in people:
        created = persons.create(group_id, person.identity, user_data=person.probe.source)
        person_ids[person.identity] = created.person_id
        for photo in person.enrolled:
            url = image_server.url(photo.name)
            persons.add_face_from_url(group_id, created.person_id, url, user_data=photo.name,
                                      target_face=target_of(client, url))

    listed = persons.list(group_id)
    assert {p.name for p in listed} == {p.identity for p in people}
    assert all(len(p.persisted_face_ids) == 2 for p in listed)

    groups.train(group_id)
    status = wait_trained(lambda: groups.get_training_status(group_id))
    assert status.status == "succeeded", status.message
    assert status.created is not None and status.last_action is not None

    probes = detect_ids(client, image_server, [p.probe for p in people])
    results = client.face.identify(probes, max_num_of_candidates_returned=2, **where)
    assert [r.face_id for r in results] == probes
    for person, result in zip(people, results, strict=True):
        assert result.candidates, f"{person.identity}: no candidate"
        best = result.candidates[0]
        assert best.person_id == person_ids[person.identity], person.identity
        assert 0.5 <= best.confidence <= 1
        assert all(c.confidence >= 0.5 for c in result.candidates)

    # Verify: a held-back photo against its own person and another one; face to face.
    first, second = people[0], people[1]
    own = client.face.verify_face_to_person(probes[0], person_ids[first.identity], **where)
    other = client.face.verify_face_to_person(probes[0], person_ids[second.identity], **where)
    assert own.is_identical and own.confidence >= 0.5
    assert not other.is_identical and other.confidence < 0.5
    enrolled = detect_ids(client, image_server, [first.enrolled[0]])[0]
    assert client.face.verify_face_to_face(probes[0], enrolled).is_identical
    assert not client.face.verify_face_to_face(probes[0], probes[1]).is_identical

    groups.delete(group_id)
    with pytest.raises(APIErrorException) as missing:
        groups.get(group_id)
    assert missing.value.error.error.code == ("LargePersonGroupNotFound" if large
                                              else "PersonGroupNotFound")


def test_face_list_find_similar(client, image_server, people):
    list_id = new_id("fl")
    client.face_list.create(list_id, "identity dev faces")
    owner = {}
    for person in people:
        for photo in person.enrolled:
            url = image_server.url(photo.name)
            added = client.face_list.add_face_from_url(list_id, url, user_data=person.identity,
                                                       target_face=target_of(client, url))
            owner[added.persisted_face_id] = person.identity
    listed = client.face_list.get(list_id)
    assert {f.persisted_face_id for f in listed.persisted_faces} == set(owner)

    probes = detect_ids(client, image_server, [p.probe for p in people])
    for person, probe in zip(people, probes, strict=True):
        similar = client.face.find_similar(probe, face_list_id=list_id,
                                           max_num_of_candidates_returned=2)
        assert similar and owner[similar[0].persisted_face_id] == person.identity
        assert all(s.confidence >= 0.5 for s in similar)
        ranked = client.face.find_similar(probe, face_list_id=list_id, mode="matchFace",
                                          max_num_of_candidates_returned=5)
        assert len(ranked) == 5
        assert [s.confidence for s in ranked] == sorted((s.confidence for s in ranked),
                                                        reverse=True)
    client.face_list.delete(list_id)


def test_large_face_list_find_similar(client, image_server, people):
    list_id = new_id("lfl")
    client.large_face_list.create(list_id, "identity dev faces")
    owner = {}
    for person in people:
        for photo in person.enrolled:
            url = image_server.url(photo.name)
            added = client.large_face_list.add_face_from_url(
                list_id, url, user_data=person.identity, target_face=target_of(client, url))
            owner[added.persisted_face_id] = person.identity
    faces = client.large_face_list.list_faces(list_id)
    assert {f.persisted_face_id for f in faces} == set(owner)
    assert [f.persisted_face_id for f in faces] == sorted(owner)

    client.large_face_list.train(list_id)
    status = wait_trained(lambda: client.large_face_list.get_training_status(list_id))
    assert status.status == "succeeded", status.message

    probes = detect_ids(client, image_server, [p.probe for p in people])
    for person, probe in zip(people, probes, strict=True):
        similar = client.face.find_similar(probe, large_face_list_id=list_id,
                                           max_num_of_candidates_returned=1)
        assert len(similar) == 1 and owner[similar[0].persisted_face_id] == person.identity
    client.large_face_list.delete(list_id)


def test_group_and_find_similar_by_face_ids(client, image_server, people):
    chosen = people[:4]
    photos = [photo for person in chosen for photo in (*person.enrolled, person.probe)]
    ids = detect_ids(client, image_server, photos)
    identity_of = {face_id: photo.identity for face_id, photo in zip(ids, photos, strict=True)}

    result = client.face.group(ids)
    grouped = [face_id for group in result.groups for face_id in group]
    assert sorted(grouped + list(result.messy_group)) == sorted(ids)
    sizes = [len(group) for group in result.groups]
    assert sizes == sorted(sizes, reverse=True)
    for group in result.groups:  # no group mixes two people
        assert len({identity_of[face_id] for face_id in group}) == 1
    assert len(grouped) >= len(ids) - 2  # nearly every face found its own person

    similar = client.face.find_similar(ids[0], face_ids=ids[1:], max_num_of_candidates_returned=3)
    assert similar and identity_of[similar[0].face_id] == photos[0].identity


def test_snapshot_operations_are_retired(client):
    with pytest.raises(APIErrorException) as refused:
        client.snapshot.take("PersonGroup", "some-group", [str(uuid.uuid4())])
    assert refused.value.response.status_code == 403
    assert refused.value.error.error.code == "InvalidRequest"
