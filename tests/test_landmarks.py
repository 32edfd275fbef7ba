"""Azure's 27 landmarks and head pose on real photos."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from rostro.vision.analyzer import Request

AZURE_ORDER = [
    "pupilLeft", "pupilRight", "noseTip", "mouthLeft", "mouthRight", "eyebrowLeftOuter",
    "eyebrowLeftInner", "eyeLeftOuter", "eyeLeftTop", "eyeLeftBottom", "eyeLeftInner",
    "eyebrowRightInner", "eyebrowRightOuter", "eyeRightInner", "eyeRightTop", "eyeRightBottom",
    "eyeRightOuter", "noseRootLeft", "noseRootRight", "noseLeftAlarTop", "noseRightAlarTop",
    "noseLeftAlarOutTip", "noseRightAlarOutTip", "upperLipTop", "upperLipBottom", "underLipTop",
    "underLipBottom",
]


@pytest.fixture(scope="module")
def face(analyzer, astronaut):
    faces = analyzer.analyze(astronaut, Request(landmarks=True, pose=True))
    assert len(faces) == 1
    return faces[0]


def test_landmarks_have_azure_names_in_azure_order(face):
    assert list(face.landmarks) == AZURE_ORDER


def test_landmarks_are_anatomically_ordered(face):
    p = face.landmarks
    # Left and right are the image's sides, as in Azure's examples.
    for left, right in [("pupilLeft", "pupilRight"), ("mouthLeft", "mouthRight"),
                        ("eyeLeftOuter", "eyeLeftInner"), ("eyeLeftInner", "eyeRightInner"),
                        ("eyeRightInner", "eyeRightOuter"), ("eyebrowLeftOuter", "eyebrowLeftInner"),
                        ("eyebrowRightInner", "eyebrowRightOuter"),
                        ("noseLeftAlarOutTip", "noseRightAlarOutTip")]:
        assert p[left].x < p[right].x, (left, right)
    # Top to bottom: brows, eyes, nose tip, lips.
    column = ["eyebrowLeftInner", "pupilLeft", "noseTip", "upperLipTop", "upperLipBottom",
              "underLipTop", "underLipBottom"]
    ys = [p[name].y for name in column]
    assert ys == sorted(ys), dict(zip(column, ys))
    assert p["eyeLeftTop"].y < p["eyeLeftBottom"].y
    assert p["eyeRightTop"].y < p["eyeRightBottom"].y


def test_landmarks_lie_inside_the_face_box(face):
    box = face.box
    margin = 0.1 * box.width
    for name, point in face.landmarks.items():
        assert box.left - margin <= point.x <= box.left + box.width + margin, name
        assert box.top - margin <= point.y <= box.top + box.height + margin, name


def test_frontal_face_has_small_angles(face):
    assert abs(face.pose.yaw) < 15
    assert abs(face.pose.roll) < 10
    assert abs(face.pose.pitch) < 20


def test_mirroring_flips_yaw_and_roll_but_not_pitch(analyzer, astronaut, face):
    mirrored = analyzer.analyze(np.ascontiguousarray(astronaut[:, ::-1]), Request(pose=True))[0].pose
    assert mirrored.yaw == pytest.approx(-face.pose.yaw, abs=3)
    assert mirrored.roll == pytest.approx(-face.pose.roll, abs=3)
    assert mirrored.pitch == pytest.approx(face.pose.pitch, abs=3)


@pytest.mark.parametrize("degrees", [-20, 20])
def test_roll_follows_an_in_plane_rotation(analyzer, astronaut, face, degrees):
    # OpenCV's positive angle turns the image counter-clockwise; Azure's roll grows clockwise.
    height, width = astronaut.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    rotated = cv2.warpAffine(astronaut, matrix, (width, height))
    pose = analyzer.analyze(rotated, Request(pose=True))[0].pose
    assert pose.roll - face.pose.roll == pytest.approx(-degrees, abs=6)


def test_yaw_sign_follows_where_the_face_turns(analyzer, face):
    # Turning the face towards the image's right moves the nose tip right of the eyes' midpoint.
    p = face.landmarks
    nose_offset = p["noseTip"].x - (p["pupilLeft"].x + p["pupilRight"].x) / 2
    assert np.sign(nose_offset) == np.sign(face.pose.yaw) or abs(face.pose.yaw) < 3


@pytest.mark.parametrize(("pose", "axis", "sign"), [
    ("left", "yaw", 1), ("right", "yaw", -1), ("up", "pitch", 1)])
def test_pose_signs_on_turned_heads(analyzer, eval_data, pose, axis, sign):
    """CMU faces photographed looking left (their left: the image's right), right and up."""
    from rostro.vision.image import read_image

    files = sorted(eval_data("identity/dev/cmufaces").glob(f"*/*_{pose}_*_open.png"))[:8]
    angles = []
    for path in files:
        faces = analyzer.analyze(read_image(str(path)), Request(pose=True))
        if faces:
            angles.append(getattr(faces[0].pose, axis))
    assert len(angles) >= 6
    assert np.median(angles) * sign > 15
