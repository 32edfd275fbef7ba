"""blur, exposure, noise and qualityForRecognition: classical measures, no model.

Each measure runs on the face only (the detector's box, turned upright) and gives a value on
[0, 1] cut at Azure's thresholds:

* blur: variance of the Laplacian of the face resized to 96 x 96 (so the value does not
  depend on the face's size in pixels), on a log scale: 1000 or more -> 0, 10 or less -> 1.
  Levels low < 0.25 <= medium < 0.75 <= high.
* exposure: mean grey level of the face, piecewise linear through (0, 0), (60, 0.25),
  (200, 0.75), (255, 1). Levels under < 0.25 <= good < 0.75 <= over.
* noise: Immerkaer's fast noise sigma (Laplacian-difference mask) on the face at its own
  resolution, through (0, 0), (6, 0.3), (15, 0.7), (30, 1). Levels low < 0.3 <= medium < 0.7
  <= high.
* qualityForRecognition: "low" / "medium" / "high" by cuts on face size, blur, exposure,
  noise, head pose and detector score, read off measured recognition: genuine-pair acceptance
  at the shipped threshold on identity dev and on synthetic degradations of its sharp faces
  (shrunk, blurred, darkened, over-exposed, noisy), by the worse face of each pair
  (``rostro eval quality``, docs/attributes.md). What the measurements said: SFace loses
  nothing measurable down to 40 px faces and little at 24 px, so size matters far less than
  blur (Gaussian sigma 4 % of the face costs 0.26 cosine), heavy noise, over-exposure, steep
  pose (the failing CMU "up" photos, pitch > 30) and a low detector score. The 80 px bound
  for high is Azure's (its High gate passes family photos with 80-200 px faces), not measured.

The blur, exposure and noise mappings were set by hand on real photos and checked for
direction: tests show each level rising with synthetic Gaussian blur,
darkening/brightening and added noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from rostro.vision.attributes import FaceContext, provides
from rostro.vision.attributes.crops import box_crop
from rostro.vision.attributes.values import Level

_NOISE_MASK = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)


def _level(value: float, cuts: tuple[float, float], names: tuple[str, str, str]) -> Level:
    name = names[0] if value < cuts[0] else names[1] if value < cuts[1] else names[2]
    return Level(name, float(value))


def face_gray(ctx: FaceContext, size: int | None) -> np.ndarray:
    """The face box in grey (float32): turned upright and resized to ``size`` x ``size``, or
    with ``size`` None cut straight from the image's own pixels (no resampling, which would
    smooth away the noise being measured)."""

    def compute() -> np.ndarray:
        if size is None:
            box = ctx.face.box
            h, w = ctx.image.shape[:2]
            x0, y0 = max(int(box.left), 0), max(int(box.top), 0)
            x1 = min(int(box.left + box.width), w)
            y1 = min(int(box.top + box.height), h)
            crop = ctx.image[y0:y1, x0:x1] if x1 - x0 >= 3 and y1 - y0 >= 3 else ctx.image
        else:
            crop = box_crop(ctx.image, ctx.face.detection, 1.0, size)
        return cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_BGR2GRAY).astype(np.float32)

    return ctx.once(f"gray:{size}", compute)


def blur_value(gray96: np.ndarray) -> float:
    variance = float(cv2.Laplacian(gray96, cv2.CV_32F, ksize=3).var())
    return float(np.clip((3.0 - np.log10(max(variance, 1e-6))) / 2.0, 0.0, 1.0))


def exposure_value(gray: np.ndarray) -> float:
    return float(np.interp(float(gray.mean()), [0, 60, 200, 255], [0.0, 0.25, 0.75, 1.0]))


def noise_sigma(gray: np.ndarray) -> float:
    """Immerkaer (1996): sigma = sqrt(pi/2) / (6 (W-2)(H-2)) * sum |I * M|."""
    h, w = gray.shape
    if h < 3 or w < 3:
        return 0.0
    response = cv2.filter2D(gray, cv2.CV_32F, _NOISE_MASK)[1:-1, 1:-1]
    return float(np.sqrt(np.pi / 2.0) * np.abs(response).sum() / (6.0 * (w - 2) * (h - 2)))


def noise_value(gray: np.ndarray) -> float:
    return float(np.interp(noise_sigma(gray), [0, 6, 15, 30], [0.0, 0.3, 0.7, 1.0]))


@provides("blur")
def blur(ctx: FaceContext) -> Level:
    return _level(blur_value(face_gray(ctx, 96)), (0.25, 0.75), ("low", "medium", "high"))


@provides("exposure")
def exposure(ctx: FaceContext) -> Level:
    return _level(exposure_value(face_gray(ctx, 96)), (0.25, 0.75), ("under", "good", "over"))


@provides("noise")
def noise(ctx: FaceContext) -> Level:
    return _level(noise_value(face_gray(ctx, None)), (0.3, 0.7), ("low", "medium", "high"))


def _pose(ctx: FaceContext):
    if ctx.face.pose is not None:
        return ctx.face.pose
    landmarker = ctx.engine.analyzer.landmarker
    return ctx.once("pose", lambda: landmarker.fit(ctx.image, ctx.face.box)[1])


@dataclass(frozen=True)
class RecognitionFeatures:
    """What qualityForRecognition reads from one face: shorter box side (px), blur, exposure
    and noise values (0..1, as above), |yaw| and |pitch| (degrees), detector score."""

    size: float
    blur: float
    exposure: float
    noise: float
    yaw: float
    pitch: float
    score: float


def recognition_features(ctx: FaceContext) -> RecognitionFeatures:
    """Measure the features of ``ctx``'s face (shared with blur/exposure/noise via the memo)."""
    box = ctx.face.box
    pose = _pose(ctx)
    return RecognitionFeatures(
        size=float(min(box.width, box.height)),
        blur=blur_value(face_gray(ctx, 96)),
        exposure=exposure_value(face_gray(ctx, 96)),
        noise=noise_value(face_gray(ctx, None)),
        yaw=abs(float(pose.yaw)), pitch=abs(float(pose.pitch)),
        score=float(ctx.face.detection.score))


# qualityForRecognition cuts, read off measured recognition (``rostro eval quality``, see the
# module doc): (high if at least / below, low if below / at least).
SIZE_HIGH, SIZE_LOW = 80, 24  # px, shorter box side
BLUR_HIGH, BLUR_LOW = 0.2, 0.45  # blur value
NOISE_HIGH, NOISE_LOW = 0.5, 0.8  # noise value
EXPOSURE_HIGH = (0.1, 0.7)  # exposure value range for high
EXPOSURE_LOW = (0.03, 0.8)  # outside this range: low
YAW_HIGH, YAW_LOW = 25, 45  # degrees, |yaw|
PITCH_HIGH, PITCH_LOW = 20, 30  # degrees, |pitch|
SCORE_HIGH, SCORE_LOW = 0.85, 0.75  # detector score


def recognition_quality(f: RecognitionFeatures) -> str:
    """"low", "medium" or "high" for features ``f``: low when any measure is past its low cut,
    high when every measure is within its high cut, else medium (cuts above, why: module doc)."""
    if (f.size < SIZE_LOW or f.blur >= BLUR_LOW or f.noise >= NOISE_LOW or f.yaw > YAW_LOW
            or f.pitch > PITCH_LOW or not EXPOSURE_LOW[0] <= f.exposure < EXPOSURE_LOW[1]
            or f.score < SCORE_LOW):
        return "low"
    if (f.size >= SIZE_HIGH and f.blur < BLUR_HIGH and f.noise < NOISE_HIGH
            and EXPOSURE_HIGH[0] <= f.exposure < EXPOSURE_HIGH[1] and f.yaw <= YAW_HIGH
            and f.pitch <= PITCH_HIGH and f.score >= SCORE_HIGH):
        return "high"
    return "medium"


@provides("qualityForRecognition")
def quality_for_recognition(ctx: FaceContext) -> str:
    """"low", "medium" or "high" for use as a recognition sample."""
    return recognition_quality(recognition_features(ctx))
