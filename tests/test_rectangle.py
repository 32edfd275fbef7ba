"""Azure-shaped rectangles (rostro.vision.rectangle) on synthetic detections: shapes, clipping,
the strict order and the 100-face cap after it."""

from __future__ import annotations

import random

from rostro.vision.rectangle import azure_rectangle, clip_box, minimum_face, reading_order, select_faces
from rostro.vision.types import Box, Detection, Point


def face_at(cx: float, cy: float, scale: float, roll_dy: float = 0.0) -> Detection:
    """A detection whose five points make a face of ``scale`` (eye distance and eye-to-mouth
    distance), eyes at ``cy``; ``roll_dy`` lowers the right eye (a rolled face)."""
    points = (Point(cx - scale / 2, cy), Point(cx + scale / 2, cy + roll_dy),
              Point(cx, cy + scale / 2), Point(cx - scale / 2, cy + scale),
              Point(cx + scale / 2, cy + scale))
    side = 2.6 * scale
    return Detection(Box(cx - side / 2, cy - scale, side, side * 1.25), 0.9, points)


def test_detection_01_is_a_square_between_eyes_and_mouth_and_03_is_the_box():
    face = face_at(200, 200, 40)
    square = azure_rectangle(face, "detection_01", 1000, 1000)
    assert square.width == square.height == round(2.1881 * 40 / 1.058)
    centre_y = square.top + square.height / 2
    assert 200 + 0.4 * 40 < centre_y < 200 + 0.55 * 40  # about half-way to the mouth
    assert abs(square.left + square.width / 2 - 200) <= 1
    assert azure_rectangle(face, "detection_02", 1000, 1000) == square
    box = azure_rectangle(face, "detection_03", 1000, 1000)
    assert (box.width, box.height) == (round(face.box.width), round(face.box.height))


def test_a_rolled_face_keeps_an_upright_square_of_the_same_size():
    upright = azure_rectangle(face_at(200, 200, 40), "detection_01", 1000, 1000)
    rolled = azure_rectangle(face_at(200, 200, 40, roll_dy=15), "detection_01", 1000, 1000)
    assert rolled.width == rolled.height
    assert abs(rolled.width - upright.width) <= 0.12 * upright.width


def test_a_face_at_the_edge_gets_the_part_of_its_rectangle_inside():
    for model in ("detection_01", "detection_03"):
        rect = azure_rectangle(face_at(10, 15, 40), model, 300, 200)
        assert rect.left == 0 and rect.top == 0
        assert rect.left + rect.width <= 300 and rect.top + rect.height <= 200
    assert clip_box(Box(-5, 190, 20, 20), 300, 200) == Box(0, 190, 15, 10)
    assert clip_box(Box(400, 10, 20, 20), 300, 200).width == 0


def test_profile_points_fall_back_to_the_box():
    face = face_at(200, 200, 40)
    folded = Detection(face.box, face.score, (face.points5[0],) * 2 + face.points5[2:3]
                       + (face.points5[2],) * 2)  # every point on the eye and nose: no scale
    square = azure_rectangle(folded, "detection_01", 1000, 1000)
    side = (face.box.width * face.box.height) ** 0.5
    assert square.width == round(0.384 * side * 2.1881 / 1.058)


def test_order_is_area_then_top_then_left():
    boxes = [Box(50, 10, 10, 10), Box(10, 10, 10, 10), Box(0, 0, 20, 20), Box(5, 5, 10, 10)]
    assert reading_order(boxes) == [2, 3, 1, 0]


def test_the_cap_keeps_the_largest_rectangles_and_the_minimum_applies_to_them():
    faces = [face_at(100 + 60 * (i % 30), 100 + 80 * (i // 30), 16 + 0.25 * i) for i in range(110)]
    random.Random(0).shuffle(faces)
    chosen = select_faces(faces, "detection_01", 2000, 1000, 100, minimum_face(2000, 1000))
    assert len(chosen) == 100
    every = select_faces(faces, "detection_01", 2000, 1000, 1000)
    dropped = [r for f, r in every if all(f is not g for g, _ in chosen)]
    assert len(dropped) == 10  # squares of 33 px and more: only the cap drops them
    assert min(r.area for _, r in chosen) >= max(r.area for r in dropped)
    keys = [(-r.area, r.top, r.left) for _, r in chosen]
    assert keys == sorted(keys)
    small = select_faces([face_at(100, 100, 12)], "detection_01", 640, 480, 100, minimum_face(640, 480))
    assert small == []  # a 25 px square, under the 30 px minimum
    assert minimum_face(3840, 2160) == 60
