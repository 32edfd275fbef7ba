"""Face attributes on real photos through the real engine, and their Azure JSON."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from rostro.api.face_json import ATTRIBUTE_ORDER, face_attributes
from rostro.vision.analyzer import Analyzer, Request
from rostro.vision.attributes import PROVIDERS, supported_attributes
from rostro.vision.attributes.values import EMOTIONS

pytestmark = pytest.mark.models

ALL = frozenset(supported_attributes())


@pytest.fixture(scope="module")
def astronaut_face(analyzer, astronaut):
    faces = analyzer.analyze(astronaut, Request(attributes=ALL, pose=True))
    assert len(faces) == 1
    return faces[0]


def test_every_engine_attribute_has_a_formatter():
    from rostro.api.face_json import ATTRIBUTE_FORMATTERS

    assert set(PROVIDERS) <= set(ATTRIBUTE_FORMATTERS)
    assert {"age", "gender", "emotion", "glasses", "smile", "headPose"} <= supported_attributes()


def test_astronaut_demographics_and_expression(astronaut_face):
    """Eileen Collins, smiling, no glasses, late thirties in the photo."""
    values = astronaut_face.attributes
    assert values["gender"] == "female"
    assert 25 <= values["age"] <= 50
    assert values["smile"] > 0.5
    assert values["glasses"] == "none"
    emotion = values["emotion"].as_dict()
    assert tuple(emotion) == EMOTIONS
    assert sum(emotion.values()) == pytest.approx(1.0, abs=1e-6)
    assert max(emotion, key=emotion.get) == "happiness"
    assert emotion["contempt"] == 0.0
    assert values["facialHair"].moustache < 0.5 and values["facialHair"].beard < 0.5
    assert not any(a.kind == "glasses" for a in values["accessories"])


def test_astronaut_quality(astronaut_face):
    values = astronaut_face.attributes
    assert values["blur"].level == "low"
    assert values["exposure"].level == "good"
    assert values["noise"].level == "low"
    assert values["qualityForRecognition"] == "high"


def test_azure_json_v10_and_v12(astronaut_face):
    body = face_attributes(astronaut_face, ALL)
    assert list(body) == [name for name in ATTRIBUTE_ORDER if name in body]
    assert body["gender"] == "female"
    assert body["glasses"] == "NoGlasses"
    assert list(body["emotion"]) == list(EMOTIONS)
    assert sum(body["emotion"].values()) == pytest.approx(1.0, abs=1e-9)
    assert set(body["facialHair"]) == {"moustache", "beard", "sideburns"}
    assert list(body["blur"]) == ["blurLevel", "value"] and body["blur"]["blurLevel"] == "low"
    assert body["exposure"]["exposureLevel"] == "goodExposure"
    assert list(body["noise"]) == ["noiseLevel", "value"]
    assert list(body["hair"]) == ["bald", "invisible", "hairColor"]
    colors = [c["confidence"] for c in body["hair"]["hairColor"]]
    assert colors == sorted(colors, reverse=True)
    assert body["qualityForRecognition"] == "High"
    assert isinstance(body["accessories"], list)
    v12 = face_attributes(astronaut_face, ALL, v12=True)
    assert v12["glasses"] == "noGlasses"
    assert v12["qualityForRecognition"] == "high"


def test_accessories_spelling_per_version(astronaut_face):
    from dataclasses import replace

    from rostro.vision.attributes.values import Accessory

    face = replace(astronaut_face, attributes={
        "accessories": (Accessory("headwear", 0.91), Accessory("glasses", 0.6))})
    assert face_attributes(face, ["accessories"]) == {
        "accessories": [{"type": "headWear", "confidence": 0.91},
                        {"type": "glasses", "confidence": 0.6}]}
    assert face_attributes(face, ["accessories"], v12=True)["accessories"][0]["type"] == "headwear"


def test_only_the_needed_models_run(models_root, astronaut):
    """Asking for age loads the dlib nets and FaceRes, never the emotion net; blur loads none."""
    from rostro.models.cache import ModelCache

    fresh = Analyzer(ModelCache(models_root))
    fresh.analyze(astronaut, Request(attributes=frozenset({"blur", "noise", "exposure"})))
    assert fresh.attributes.loaded() == frozenset()
    fresh.analyze(astronaut, Request(attributes=frozenset({"age"})))
    loaded = fresh.attributes.loaded()
    assert "net:age-gender" in loaded and "head:age" in loaded
    assert "net:emotion" not in loaded and "head:hair_color" not in loaded


def _levels(analyzer, images, name):
    values = []
    for image in images:
        faces = analyzer.analyze(image, Request(attributes=frozenset({name})))
        assert faces, "the degraded photo must still show a face"
        values.append(faces[0].attributes[name])
    return values


def test_blur_rises_with_gaussian_blur(analyzer, astronaut):
    images = [cv2.GaussianBlur(astronaut, (0, 0), s) if s else astronaut for s in (0, 2, 4)]
    levels = _levels(analyzer, images, "blur")
    values = [v.value for v in levels]
    assert values == sorted(values) and values[-1] - values[0] > 0.3
    assert levels[0].level == "low" and levels[-1].level in ("medium", "high")


def test_exposure_follows_brightness(analyzer, astronaut):
    images = [cv2.convertScaleAbs(astronaut, alpha=a, beta=b)
              for a, b in ((0.25, 0), (1.0, 0), (1.6, 90))]
    levels = _levels(analyzer, images, "exposure")
    values = [v.value for v in levels]
    assert values == sorted(values)
    assert [v.level for v in levels] == ["under", "good", "over"]


def test_noise_rises_with_added_noise(analyzer, astronaut):
    rng = np.random.default_rng(0)
    images = [np.clip(astronaut + rng.normal(0, s, astronaut.shape), 0, 255).astype(np.uint8)
              for s in (0, 10, 30)]
    levels = _levels(analyzer, images, "noise")
    values = [v.value for v in levels]
    assert values == sorted(values) and values[-1] - values[0] > 0.4
    assert levels[0].level == "low" and levels[-1].level == "high"


def _face_resized(analyzer, image: np.ndarray, face: int) -> np.ndarray:
    """``image`` scaled so that its largest face's shorter side is about ``face`` px."""
    box = analyzer.detect(image, max_faces=1)[0].box
    scale = face / min(box.width, box.height)
    return cv2.resize(image, None, fx=scale, fy=scale,
                      interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)


@pytest.mark.parametrize("face", [100, 200])
def test_sharp_frontal_face_is_high_quality(analyzer, astronaut, face):
    """Azure's quickstarts enroll only High faces, and its High passes clear frontal family
    photos with 80-200 px faces; Rostro's cuts (measured: docs/attributes.md) must too."""
    image = _face_resized(analyzer, astronaut, face)
    assert _levels(analyzer, [image], "qualityForRecognition") == ["high"]


def test_quality_falls_with_heavy_blur_and_downscaling(analyzer, astronaut):
    sharp = _face_resized(analyzer, astronaut, 100)
    blurred = cv2.GaussianBlur(sharp, (0, 0), 5)  # sigma 5 % of the face: recognition fails
    small = _face_resized(analyzer, astronaut, 50)
    levels = _levels(analyzer, [sharp, small, blurred], "qualityForRecognition")
    assert levels == ["high", "medium", "low"]


def test_red_lipstick_turns_lip_makeup_on(models_root, astronaut):
    """Painting the astronaut's lips red moves lipMakeup from false to true; asking for
    makeup runs FaceRes and the dlib nets (the heads' blocks), never the emotion net."""
    from rostro.models.cache import ModelCache
    from rostro.vision.attributes.values import Makeup

    fresh = Analyzer(ModelCache(models_root))
    request = Request(attributes=frozenset({"makeup"}))
    plain = fresh.analyze(astronaut, request)[0]
    assert isinstance(plain.attributes["makeup"], Makeup)
    assert plain.attributes["makeup"].lip is False
    assert "net:emotion" not in fresh.attributes.loaded()
    left, right = plain.detection.points5[3], plain.detection.points5[4]  # mouth corners
    width = right.x - left.x
    painted = astronaut.copy()
    cv2.ellipse(painted, (round((left.x + right.x) / 2), round((left.y + right.y) / 2)),
                (round(width * 0.5), round(width * 0.22)), 0, 0, 360, (50, 20, 170), -1)
    painted = cv2.addWeighted(painted, 0.5, astronaut, 0.5, 0)
    assert fresh.analyze(painted, request)[0].attributes["makeup"].lip is True
    assert face_attributes(plain, ["makeup"]) == {
        "makeup": {"eyeMakeup": plain.attributes["makeup"].eye, "lipMakeup": False}}


@pytest.mark.parametrize("image,kind,covered", [
    ("maksssksksss4.jpg", "face_mask", True),  # a surgical mask over nose and mouth
    ("maksssksksss48.jpg", "none", False),      # no mask
])
def test_mask_and_mouth_occlusion_on_the_mask_photos(models_root, eval_data, image, kind, covered):
    """The largest face of a detection-set photo (training data of the mask heads: a smoke test;
    the accuracy is cross-validated in docs/attributes.md). Asking for mask runs FaceRes and
    the region statistics only, never the emotion or age nets."""
    from rostro.models.cache import ModelCache
    from rostro.vision.attributes.values import Mask

    photo = cv2.imread(str(eval_data("detection") / "dev" / "facemask" / image))
    fresh = Analyzer(ModelCache(models_root))
    face = fresh.analyze(photo, Request(attributes=frozenset({"mask", "occlusion"})))[0]
    assert face.attributes["mask"] == Mask(kind, covered)
    assert face.attributes["occlusion"].mouth is (kind == "face_mask")
    loaded = fresh.attributes.loaded()
    assert "head:mask" in loaded and "net:faceres" in loaded
    assert "net:emotion" not in loaded and "net:age-gender" not in loaded
    assert face_attributes(face, ["mask"]) == {
        "mask": {"type": "faceMask" if covered else "noMask", "noseAndMouthCovered": covered}}


def test_astronaut_has_no_mask_and_no_occlusion(astronaut_face):
    body = face_attributes(astronaut_face, ["occlusion", "mask", "accessories"], v12=True)
    assert body["mask"] == {"type": "noMask", "noseAndMouthCovered": False}
    assert body["occlusion"] == {"foreheadOccluded": False, "eyeOccluded": False,
                                 "mouthOccluded": False}
    assert not any(a["type"] == "mask" for a in body["accessories"])


def test_mask_decision_rules():
    """uncertain under the calibrated threshold, whatever the covered head says."""
    from rostro.vision.attributes.mask import UNCERTAIN_BELOW, mask_decision
    from rostro.vision.attributes.values import Mask

    assert mask_decision(0.99, 0.9) == Mask("face_mask", True)
    assert mask_decision(0.99, 0.1) == Mask("face_mask", False)
    assert mask_decision(0.01, 0.9) == Mask("none", False)
    middle = (1 + UNCERTAIN_BELOW) / 2 - 0.01
    assert mask_decision(middle, 0.9) == Mask("face_mask", True)
    assert mask_decision(0.5, 0.9) == Mask("uncertain", False)
    assert mask_decision(1 - UNCERTAIN_BELOW + 0.01, 0.9) == Mask("uncertain", False)


def _painted_glasses(image, detection, lens_darkness: float | None):
    """The photo with thick black frames drawn around both eyes (a bridge between them) and,
    when ``lens_darkness`` is given, the lenses darkened to that fraction of their light."""
    points = np.array([[p.x, p.y] for p in detection.points5[:2]])
    distance = float(np.linalg.norm(points[1] - points[0]))
    out = image.copy()
    rim = max(2, int(0.09 * distance))
    for x, y in points:
        x0, y0 = int(x - 0.42 * distance), int(y - 0.25 * distance)
        x1, y1 = int(x + 0.42 * distance), int(y + 0.3 * distance)
        if lens_darkness is not None:
            out[y0:y1, x0:x1] = (out[y0:y1, x0:x1] * lens_darkness + 10).astype(np.uint8)
        cv2.rectangle(out, (x0, y0), (x1, y1), (15, 15, 15), rim)
    (lx, ly), (rx, ry) = points
    cv2.line(out, (int(lx + 0.42 * distance), int(ly - 0.1 * distance)),
             (int(rx - 0.42 * distance), int(ry - 0.1 * distance)), (15, 15, 15), rim)
    return out


def test_thick_frames_with_clear_lenses_are_not_sunglasses(analyzer, astronaut):
    """Issue 12's sample photo in miniature: thick black frames with clear lenses are not
    sunglasses (the eyes show through); the same frames with dark lenses are."""
    detection = analyzer.detect(astronaut)[0]
    answers = {}
    for name, darkness in (("clear", None), ("dark", 0.12)):
        painted = _painted_glasses(astronaut, detection, darkness)
        faces = analyzer.analyze(painted, Request(attributes=frozenset({"glasses", "occlusion"})))
        answers[name] = (faces[0].attributes["glasses"], faces[0].attributes["occlusion"].eye)
    assert answers["clear"] == ("reading", False)
    assert answers["dark"] == ("sunglasses", True)
