"""Face embeddings on real photos: same face close, different person far, unit length, stable."""

from __future__ import annotations

import numpy as np
import pytest

from rostro.vision.embedder import SAME_PERSON_THRESHOLD, SFaceEmbedder, points5_from_68


def _largest_face(analyzer, image):
    faces = analyzer.detect(image)
    assert faces, "no face found"
    return faces[0]


def _embedding(analyzer, image):
    return analyzer.embed(image, _largest_face(analyzer, image))


@pytest.fixture(scope="module")
def astronaut_embedding(analyzer, astronaut):
    return _embedding(analyzer, astronaut)


def test_embedding_is_a_unit_float32_vector_and_deterministic(analyzer, astronaut, astronaut_embedding):
    assert astronaut_embedding.shape == (SFaceEmbedder.dimension,)
    assert astronaut_embedding.dtype == np.float32
    assert np.linalg.norm(astronaut_embedding) == pytest.approx(1.0, abs=1e-5)
    again = _embedding(analyzer, astronaut)
    np.testing.assert_array_equal(again, astronaut_embedding)


def test_mirrored_and_brightened_copies_are_closer_than_another_person(
        analyzer, astronaut, cameraman, astronaut_embedding):
    mirrored = _embedding(analyzer, np.ascontiguousarray(astronaut[:, ::-1]))
    brightened = _embedding(analyzer, np.clip(astronaut * 1.3 + 20, 0, 255).astype(np.uint8))
    grey = np.repeat(astronaut.mean(axis=2, keepdims=True), 3, axis=2).astype(np.uint8)
    greyed = _embedding(analyzer, grey)
    other = _embedding(analyzer, cameraman)
    different = float(astronaut_embedding @ other)
    for copy in (mirrored, brightened, greyed):
        same = float(astronaut_embedding @ copy)
        assert same > different + 0.3
        assert same >= SAME_PERSON_THRESHOLD  # the shipped threshold says "same person"
    assert different < SAME_PERSON_THRESHOLD  # ... and "different" for the cameraman


def test_given_landmarks_give_the_same_embedding_as_fitting_them(analyzer, astronaut, astronaut_embedding):
    face = _largest_face(analyzer, astronaut)
    points, _ = analyzer.landmarker.fit(astronaut, face.box)
    np.testing.assert_allclose(analyzer.embed(astronaut, face, points), astronaut_embedding, atol=1e-6)
    # The full analysis reuses the landmarks it fitted for the request.
    from rostro.vision.analyzer import Request

    analysed = analyzer.analyze(astronaut, Request(landmarks=True, embedding=True))[0]
    np.testing.assert_allclose(analysed.embedding, astronaut_embedding, atol=1e-6)


def test_without_a_landmarker_the_detector_points_align_the_face(analyzer, astronaut,
                                                                 astronaut_embedding):
    plain = SFaceEmbedder(analyzer.cache.require("sface"))
    face = _largest_face(analyzer, astronaut)
    np.testing.assert_allclose(plain.alignment_points(astronaut, face),
                               [[p.x, p.y] for p in face.points5])
    embedding = plain.embed(astronaut, face)
    assert np.linalg.norm(embedding) == pytest.approx(1.0, abs=1e-5)
    # Two alignments of one frontal face: nearly the same vector, not exactly.
    assert 0.8 < float(embedding @ astronaut_embedding) < 0.99999


def test_flip_average_embeds_the_crop_and_its_mirror(analyzer, astronaut):
    flipping = SFaceEmbedder(analyzer.cache.require("sface"), analyzer.landmarker, flip_average=True)
    face = _largest_face(analyzer, astronaut)
    crop = flipping.align(astronaut, face)
    both = flipping.embed_aligned(np.stack([crop, crop[:, ::-1]]))
    expected = both.mean(axis=0) / np.linalg.norm(both.mean(axis=0))
    np.testing.assert_allclose(flipping.embed(astronaut, face), expected, atol=1e-6)


def test_points5_from_68_takes_eye_centres_nose_tip_and_mouth_corners():
    points = np.zeros((68, 2))
    points[36:42] = [[10, 20], [12, 18], [14, 18], [16, 20], [14, 22], [12, 22]]  # centre (13, 20)
    points[42:48] = points[36:42] + [30, 0]
    points[30] = [28, 35]
    points[48], points[54] = [15, 45], [41, 45]
    np.testing.assert_allclose(points5_from_68(points),
                               [[13, 20], [43, 20], [28, 35], [15, 45], [41, 45]])
    with pytest.raises(ValueError):
        points5_from_68(np.zeros((5, 2)))
