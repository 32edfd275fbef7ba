"""The face detector (YuNet behind Analyzer) on real photos, and its resizing policy."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from rostro.vision.detector import YuNetDetector
from rostro.vision.image import decode_image
from rostro.vision.types import Box

# Where a person draws Eileen Collins' face in skimage's astronaut (512x512): hairline to chin,
# ear to ear.
ASTRONAUT_FACE = Box(178, 63, 90, 114)

pytestmark = pytest.mark.models


def _rotate_box(box: Box, size: int, quarter_turns: int) -> Box:
    """The box ``box`` becomes in a square image of side ``size`` after np.rot90(k)."""
    x1, y1, x2, y2 = box.left, box.top, box.left + box.width, box.top + box.height
    for _ in range(quarter_turns % 4):  # counter-clockwise: (x, y) -> (y, size - x)
        x1, y1, x2, y2 = y1, size - x2, y2, size - x1
    return Box(x1, y1, x2 - x1, y2 - y1)


def _assert_anatomical(points) -> None:
    left_eye, right_eye, nose, mouth_left, mouth_right = points
    assert left_eye.x < right_eye.x and mouth_left.x < mouth_right.x
    assert max(left_eye.y, right_eye.y) < nose.y < min(mouth_left.y, mouth_right.y)
    assert left_eye.x < nose.x < right_eye.x


def test_astronaut_has_one_face_where_a_person_would_draw_it(analyzer, astronaut):
    faces = analyzer.detect(astronaut)
    assert len(faces) == 1
    assert faces[0].box.iou(ASTRONAUT_FACE) > 0.8, faces[0].box
    assert faces[0].score > 0.9


def test_astronaut_points_are_anatomically_ordered_and_inside_the_box(analyzer, astronaut):
    face = analyzer.detect(astronaut)[0]
    _assert_anatomical(face.points5)
    box = face.box
    for point in face.points5:
        assert box.left <= point.x <= box.left + box.width
        assert box.top <= point.y <= box.top + box.height


def test_cameraman_has_one_face(analyzer, cameraman):
    faces = analyzer.detect(cameraman)
    assert len(faces) == 1
    box = faces[0].box
    # His face, three-quarter view, forehead to chin and ear to nose (drawn by hand).
    assert box.iou(Box(195, 108, 65, 87)) > 0.6, box
    left_eye, right_eye, _, mouth_left, mouth_right = faces[0].points5
    assert max(left_eye.y, right_eye.y) < min(mouth_left.y, mouth_right.y)


@pytest.mark.parametrize("name", ["coffee", "chelsea", "rocket"])
def test_no_face_in_photos_without_people(analyzer, name):
    from skimage import data

    picture = np.ascontiguousarray(getattr(data, name)()[..., ::-1])  # chelsea is a cat
    assert analyzer.detect(picture) == []


def test_small_faces_are_found_and_reported_in_original_pixels(analyzer, astronaut):
    # The astronaut shrunk to 64 px in a 400x300 picture: an 11x14 px face. The image is run
    # at twice its size; boxes come back in the picture's own coordinates.
    canvas = np.full((300, 400, 3), 128, np.uint8)
    canvas[100:164, 150:214] = cv2.resize(astronaut, (64, 64), interpolation=cv2.INTER_AREA)
    faces = analyzer.detect(canvas)
    assert len(faces) == 1
    scale = 64 / 512
    expected = Box(150 + ASTRONAUT_FACE.left * scale, 100 + ASTRONAUT_FACE.top * scale,
                   ASTRONAUT_FACE.width * scale, ASTRONAUT_FACE.height * scale)
    assert faces[0].box.iou(expected) > 0.6, faces[0].box


@pytest.mark.parametrize("quarter_turns", [1, 2, 3])
def test_rotated_face_box_is_found_but_its_points_assume_an_upright_face(analyzer, astronaut, quarter_turns):
    """Documented behaviour (docs/accuracy.md): YuNet still boxes a face turned by 90, 180 or
    270 degrees, but lays its five points out as on an upright face, so landmarks, pose and
    embeddings of such faces are unreliable. Camera photos are turned upright from their EXIF
    orientation when decoded (next test); other rotations are not corrected."""
    rotated = np.ascontiguousarray(np.rot90(astronaut, quarter_turns))
    expected = _rotate_box(analyzer.detect(astronaut)[0].box, astronaut.shape[0], quarter_turns)
    faces = analyzer.detect(rotated)
    assert any(face.box.iou(expected) > 0.6 for face in faces)
    best = max(faces, key=lambda face: face.box.iou(expected))
    assert best.score < analyzer.detect(astronaut)[0].score
    left_eye, right_eye = best.points5[:2]
    assert abs(left_eye.y - right_eye.y) < 0.25 * best.box.height  # eyes side by side: wrong


@pytest.mark.parametrize("orientation, quarter_turns", [(6, 1), (8, 3), (3, 2)])
def test_camera_rotation_in_exif_is_undone_before_detection(analyzer, astronaut, orientation, quarter_turns):
    stored = np.ascontiguousarray(np.rot90(astronaut[..., ::-1], quarter_turns))  # RGB
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    Image.fromarray(stored).save(buffer, format="JPEG", quality=95, exif=exif)
    picture = decode_image(buffer.getvalue())
    faces = analyzer.detect(picture)
    assert len(faces) == 1 and faces[0].box.iou(ASTRONAUT_FACE) > 0.8
    _assert_anatomical(faces[0].points5)


def test_score_threshold_can_be_lowered_per_call(analyzer, astronaut):
    detector = analyzer.detector
    default = detector.detect(astronaut)
    lowered = detector.detect(astronaut, score_threshold=0.05)
    assert len(lowered) > len(default)
    assert lowered[0] == default[0]  # greedy NMS: the faces above 0.6 do not change
    assert all(d.score >= 0.05 for d in lowered)


def test_resizing_policy(analyzer):
    detector: YuNetDetector = analyzer.detector
    assert detector.scale(480, 640) == 1.0  # the common size runs as is: one 640x480 pass
    assert detector.input_shape(480, 640) == (480, 640)
    assert detector.scale(300, 400) == 2.0  # small photos run at twice their size
    assert detector.input_shape(300, 400) == (608, 800)
    assert detector.scale(600, 600) == pytest.approx((800 * 600 / 600**2) ** 0.5)  # <= 800x600 px
    assert detector.scale(48, 48) == 2.0  # thumbnails: at most 2x
    assert detector.scale(630, 630) > 1.0
    assert detector.scale(2000, 3000) == pytest.approx(1280 / 3000)  # large ones shrink
