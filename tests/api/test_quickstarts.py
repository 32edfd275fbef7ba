"""Microsoft's two Python Face quickstarts, call for call, against a real `rostro serve`.

The flows are those of the public Microsoft Learn quickstarts ("Quickstart: Use the Face
service", Python): with azure-cognitiveservices-vision-face 0.6.1 (detect, find similar,
verify, a person group enrolled only with faces rated ``QualityForRecognition.high``, train,
identify a group photo from a stream, verify against the person, a large person group, a face
list, a large face list, deletes) and with azure-ai-vision-face 1.0.0b2 (detection_03 +
recognition_04 with qualityForRecognition, a large person group with the same High gate,
train as a long-running operation, identify and verify, delete).

The "family": four people of ../shared/eval/identity dev (deepface photos, colour, in the
wild) with three photos each to enroll, resized so that their faces are 110, 160 and 220 px
(the 100-300 px of Azure's sample family photos) and cut to a portrait around the face, and
a group photo made of each person's fourth photo, cut the same way. Photos come from the local
image server (URL calls) and as bytes (stream calls). The quickstarts enroll only High faces,
so every person being enrolled and identified is what shows that qualityForRecognition rates
clear faces the way Azure does.
"""

from __future__ import annotations

import io
import time
import uuid
from dataclasses import dataclass

import numpy as np
import pytest
from PIL import Image

FACE_SIZES = (110, 160, 220)  # px, the three enrolled photos of each person
GROUP_FACE = 150  # px, faces in the group photo
FAMILY = ("deepface_person_01", "deepface_person_03", "deepface_person_10",
          "deepface_person_13")


@dataclass(frozen=True)
class Member:
    identity: str
    photos: tuple[str, ...]  # names on the image server, one face each


def _jpeg(rgb: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="JPEG", quality=92)
    return out.getvalue()


def _face_scaled(analyzer, rgb: np.ndarray, face: int, crop: bool = False) -> np.ndarray:
    """``rgb`` resized so that its largest face's shorter side is ``face`` px; with ``crop``,
    first cut to that face with a margin of its size (a portrait: no other face comes along,
    as in Azure's one-person family photos)."""
    found = analyzer.detect(np.ascontiguousarray(rgb[..., ::-1]), max_faces=1)
    assert found, "no face in a family photo"
    box = found[0].box
    if crop:
        margin = max(box.width, box.height)
        top, left = max(0, int(box.top - margin)), max(0, int(box.left - margin))
        rgb = rgb[top:int(box.top + box.height + margin), left:int(box.left + box.width + margin)]
    scale = face / min(box.width, box.height)
    h, w = rgb.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.LANCZOS))


@pytest.fixture(scope="module")
def family(eval_data, image_server, analyzer):
    """The four members (enrolled photos on the image server) and the group photo's bytes."""
    import csv

    root = eval_data("identity")
    rows = sorted(csv.DictReader(open(root / "images.csv", newline="")), key=lambda r: r["image"])
    members, portraits = [], []
    for identity in FAMILY:
        paths = [root / r["image"] for r in rows if r["identity"] == identity]
        assert len(paths) >= 4, identity
        names = []
        for path, face in zip(paths, FACE_SIZES):
            rgb = np.asarray(Image.open(path).convert("RGB"))
            name = f"quickstart/{identity}-{path.stem}.jpg"
            image_server.files[name] = _jpeg(_face_scaled(analyzer, rgb, face, crop=True))
            names.append(name)
        members.append(Member(identity, tuple(names)))
        portrait = _face_scaled(analyzer, np.asarray(Image.open(paths[3]).convert("RGB")),
                                GROUP_FACE, crop=True)
        portraits.append(portrait)
    height = min(p.shape[0] for p in portraits)
    group = np.concatenate([p[(p.shape[0] - height) // 2:][:height] for p in portraits], axis=1)
    image_server.files["quickstart/group.jpg"] = _jpeg(group)
    return members, image_server.files["quickstart/group.jpg"]


def _new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


# ------------------------------------------------------------- azure-cognitiveservices-vision-face


@pytest.fixture(scope="module")
def face_client(service):
    from azure.cognitiveservices.vision.face import FaceClient
    from msrest.authentication import CognitiveServicesCredentials

    return FaceClient(service.base, CognitiveServicesCredentials(service.key))


def _wait_trained(get_status) -> str:
    """The quickstart's polling loop (every 5 s there; quicker here)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = get_status().status
        if status in ("succeeded", "failed"):
            return status
        time.sleep(0.2)
    raise AssertionError("training did not finish")


def test_quickstart_0_6_1(face_client, image_server, family):
    from azure.cognitiveservices.vision.face.models import QualityForRecognition

    members, group_photo = family
    url = image_server.url
    detection, recognition = "detection_03", "recognition_04"

    # Detect a face in an image that contains a single face.
    single = face_client.face.detect_with_url(url=url(members[0].photos[0]),
                                              detection_model=detection)
    assert len(single) == 1 and single[0].face_id
    first_image_face_id = single[0].face_id

    # Find similar: the first face among the faces of another photo of the same person and
    # one photo of each other member.
    others = [members[0].photos[1]] + [m.photos[0] for m in members[1:]]
    second_ids = [face_client.face.detect_with_url(url=url(name), detection_model=detection)[0]
                  .face_id for name in others]
    similar = face_client.face.find_similar(face_id=first_image_face_id, face_ids=second_ids)
    assert similar and similar[0].face_id == second_ids[0]

    # Verify: two source photos against the same and the other person.
    source1 = face_client.face.detect_with_url(url(members[0].photos[1]),
                                               detection_model=detection)[0].face_id
    source2 = face_client.face.detect_with_url(url(members[1].photos[1]),
                                               detection_model=detection)[0].face_id
    target = face_client.face.detect_with_url(url(members[0].photos[2]),
                                              detection_model=detection)[0].face_id
    assert face_client.face.verify_face_to_face(source1, target).is_identical
    assert not face_client.face.verify_face_to_face(source2, target).is_identical

    # Create a person group; each member is a person; add only faces of High quality.
    group_id = _new_id("quickstart-pg")
    face_client.person_group.create(person_group_id=group_id, name=group_id,
                                    recognition_model=recognition)
    person_ids, added = {}, {}
    for member in members:
        person = face_client.person_group_person.create(group_id, name=member.identity)
        person_ids[person.person_id] = member.identity
        added[member.identity] = 0
        for name in member.photos:
            sufficient_quality = True
            detected = face_client.face.detect_with_url(
                url=url(name), detection_model=detection, recognition_model=recognition,
                return_face_attributes=["qualityForRecognition"])
            for face in detected:
                if face.face_attributes.quality_for_recognition != QualityForRecognition.high:
                    sufficient_quality = False
                    break
                box = face.face_rectangle
                face_client.person_group_person.add_face_from_url(
                    group_id, person.person_id, url(name),
                    target_face=[box.left, box.top, box.width, box.height],
                    detection_model=detection)
                added[member.identity] += 1
            if not sufficient_quality:
                continue
    assert added == {m.identity: len(m.photos) for m in members}, "faces below the High gate"

    # Train, polling the status; a failure deletes the group and stops.
    face_client.person_group.train(group_id)
    status = _wait_trained(lambda: face_client.person_group.get_training_status(group_id))
    if status == "failed":
        face_client.person_group.delete(person_group_id=group_id)
    assert status == "succeeded"

    # Identify the faces of a group photo (a stream), keeping High and Medium faces only;
    # verify each identified face against its person.
    faces = face_client.face.detect_with_stream(
        io.BytesIO(group_photo), detection_model=detection, recognition_model=recognition,
        return_face_attributes=["qualityForRecognition"])
    kept = [f for f in faces
            if f.face_attributes.quality_for_recognition in (QualityForRecognition.high,
                                                             QualityForRecognition.medium)]
    face_ids = [f.face_id for f in kept]
    # The group photo's small background faces are Low and left out; the members' are kept.
    assert len(face_ids) == len(members) < len(faces)
    results = face_client.face.identify(face_ids, group_id)
    order = sorted(kept, key=lambda f: f.face_rectangle.left)  # the photo's left-to-right order
    expected = {f.face_id: m.identity for f, m in zip(order, members, strict=True)}
    for result in results:
        assert result.candidates, f"{expected[result.face_id]} not identified"
        candidate = result.candidates[0]
        assert person_ids[candidate.person_id] == expected[result.face_id]
        verify = face_client.face.verify_face_to_person(
            face_id=result.face_id, person_id=candidate.person_id, person_group_id=group_id)
        assert verify.is_identical and verify.confidence >= 0.5

    # Large person group: the same enrollment, train and poll.
    large_id = _new_id("quickstart-lpg")
    face_client.large_person_group.create(large_person_group_id=large_id, name=large_id)
    for member in members:
        person = face_client.large_person_group_person.create(large_id, name=member.identity)
        for name in member.photos:
            face_client.large_person_group_person.add_face_from_url(large_id, person.person_id,
                                                                    url(name))
    face_client.large_person_group.train(large_id)
    assert _wait_trained(lambda: face_client.large_person_group.get_training_status(
        large_id)) == "succeeded"
    assert len(face_client.large_person_group_person.list(large_id)) == len(members)

    # Face list and large face list.
    list_id = _new_id("quickstart-fl")
    face_client.face_list.create(face_list_id=list_id, name=list_id)
    for member in members:
        face_client.face_list.add_face_from_url(list_id, url(member.photos[0]))
    assert len(face_client.face_list.get(list_id).persisted_faces) == len(members)

    large_list_id = _new_id("quickstart-lfl")
    face_client.large_face_list.create(large_face_list_id=large_list_id, name=large_list_id)
    for member in members:
        face_client.large_face_list.add_face_from_url(large_list_id, url(member.photos[0]))
    face_client.large_face_list.train(large_list_id)
    assert _wait_trained(lambda: face_client.large_face_list.get_training_status(
        large_list_id)) == "succeeded"
    assert len(face_client.large_face_list.list_faces(large_list_id)) == len(members)

    # Delete everything the quickstart made.
    face_client.person_group.delete(person_group_id=group_id)
    face_client.large_person_group.delete(large_person_group_id=large_id)
    face_client.face_list.delete(face_list_id=list_id)
    face_client.large_face_list.delete(large_face_list_id=large_list_id)
    assert group_id not in {g.person_group_id for g in face_client.person_group.list()}


# --------------------------------------------------------------------------- azure-ai-vision-face


def test_quickstart_1_0_0b2(service, image_server, family):
    from azure.ai.vision.face import FaceAdministrationClient, FaceClient
    from azure.ai.vision.face.models import (
        FaceAttributeTypeDetection03,
        FaceAttributeTypeRecognition04,
        FaceDetectionModel,
        FaceRecognitionModel,
        QualityForRecognition,
    )
    from azure.core.credentials import AzureKeyCredential

    members, group_photo = family
    credential = AzureKeyCredential(service.key)
    face_client = FaceClient(endpoint=service.base, credential=credential)
    face_admin_client = FaceAdministrationClient(endpoint=service.base, credential=credential)
    group_id = _new_id("quickstart-v12")

    face_admin_client.large_person_group.create(
        large_person_group_id=group_id, name=group_id,
        recognition_model=FaceRecognitionModel.RECOGNITION04)
    person_ids, added = {}, {}
    for member in members:
        person = face_admin_client.large_person_group.create_person(
            large_person_group_id=group_id, name=member.identity,
            user_data="Person created for quickstart")
        person_ids[person.person_id] = member.identity
        added[member.identity] = 0
        for name in member.photos:
            sufficient_quality = True
            detected = face_client.detect_from_url(
                url=image_server.url(name),
                detection_model=FaceDetectionModel.DETECTION03,
                recognition_model=FaceRecognitionModel.RECOGNITION04,
                return_face_id=True,
                return_face_attributes=[FaceAttributeTypeDetection03.HEAD_POSE,
                                        FaceAttributeTypeDetection03.MASK,
                                        FaceAttributeTypeRecognition04.QUALITY_FOR_RECOGNITION])
            for face in detected:
                if face.face_attributes.quality_for_recognition != QualityForRecognition.HIGH:
                    sufficient_quality = False
                    break
                box = face.face_rectangle
                face_admin_client.large_person_group.add_face_from_url(
                    large_person_group_id=group_id, person_id=person.person_id,
                    url=image_server.url(name),
                    target_face=[box.left, box.top, box.width, box.height],
                    detection_model=FaceDetectionModel.DETECTION03)
                added[member.identity] += 1
            if not sufficient_quality:
                continue
    assert added == {m.identity: len(m.photos) for m in members}, "faces below the High gate"

    poller = face_admin_client.large_person_group.begin_train(
        large_person_group_id=group_id, polling_interval=1)
    poller.result()
    assert poller.status().lower() == "succeeded"

    faces = face_client.detect(
        group_photo, detection_model=FaceDetectionModel.DETECTION03,
        recognition_model=FaceRecognitionModel.RECOGNITION04, return_face_id=True,
        return_face_attributes=[FaceAttributeTypeRecognition04.QUALITY_FOR_RECOGNITION])
    kept = [f for f in faces
            if f.face_attributes.quality_for_recognition != QualityForRecognition.LOW]
    face_ids = [f.face_id for f in kept]
    assert len(face_ids) == len(members) < len(faces)
    order = sorted(kept, key=lambda f: f.face_rectangle.left)
    expected = {f.face_id: m.identity for f, m in zip(order, members, strict=True)}
    results = face_client.identify_from_large_person_group(face_ids=face_ids,
                                                           large_person_group_id=group_id)
    for result in results:
        assert result.candidates, f"{expected[result.face_id]} not identified"
        candidate = result.candidates[0]
        assert person_ids[candidate.person_id] == expected[result.face_id]
        verify = face_client.verify_from_large_person_group(
            face_id=result.face_id, large_person_group_id=group_id,
            person_id=candidate.person_id)
        assert verify.is_identical and verify.confidence >= 0.5

    face_admin_client.large_person_group.delete(group_id)
