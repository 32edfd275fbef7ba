"""Converted models compute what the originals compute in their own runtime (OpenCV DNN)."""

from __future__ import annotations

import numpy as np
import pytest

from rostro.models.cache import ModelCache
from rostro.models.fetch import read_member
from rostro.models.pull import archives_dir


def original_member(name: str) -> bytes:
    item = ModelCache().artifact(name)
    archive = archives_dir() / item.source.filename
    if not archive.is_file():
        pytest.skip(f"package archive {archive.name} not kept in {archives_dir()}")
    [member] = item.members
    return read_member(archive, member.path)


@pytest.fixture()
def original_file(tmp_path):
    def write(name: str):
        path = tmp_path / ModelCache().artifact(name).members[0].path.split("/")[-1]
        path.write_bytes(original_member(name))
        return str(path)

    return write


def test_yunet_matches_opencv_dnn(analyzer, astronaut, original_file):
    cv2 = pytest.importorskip("cv2")
    height, width = astronaut.shape[:2]
    reference = cv2.FaceDetectorYN.create(original_file("yunet"), "", (width, height), 0.6, 0.3, 5000)
    _, rows = reference.detect(astronaut)
    from rostro.vision.detector import YuNetDetector

    ours = YuNetDetector(analyzer.cache.require("yunet"), upscale_below=0).detect(astronaut)
    assert rows is not None and len(rows) == len(ours) == 1
    face = ours[0]
    mine = [face.box.left, face.box.top, face.box.width, face.box.height]
    mine += [c for p in face.points5 for c in (p.x, p.y)]
    np.testing.assert_allclose(mine, rows[0][:14], atol=0.05)
    assert face.score == pytest.approx(float(rows[0][14]), abs=1e-4)


def test_sface_matches_opencv_dnn(analyzer, astronaut, original_file):
    cv2 = pytest.importorskip("cv2")
    recognizer = cv2.FaceRecognizerSF.create(original_file("sface"), "")
    detection = analyzer.detect(astronaut)[0]
    from rostro.vision.align import align_face
    from rostro.vision.embedder import points_array

    crop = align_face(astronaut, points_array(detection))
    reference = recognizer.feature(crop).ravel()
    reference /= np.linalg.norm(reference)
    ours = analyzer.embedder.embed_aligned(crop[None])[0]
    assert float(reference @ ours) > 0.9999


def test_tddfa_constants_match_the_package_module():
    source = original_member("tddfa-bfm").decode()
    namespace: dict = {}
    exec(compile(source, "constant.py", "exec"), namespace)  # the package's own module
    import io

    from rostro.models.convert import tddfa_constants

    ours = np.load(io.BytesIO(tddfa_constants(original_member("tddfa-bfm"))))
    for name in ("PARAM_MEAN", "PARAM_STD", "U_BASE", "W_SHP_BASE", "W_EXP_BASE"):
        np.testing.assert_allclose(ours[name.lower()], namespace[name], rtol=1e-6)
