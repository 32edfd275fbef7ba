"""The analyzer: plans which models a request needs, loads each once, runs them per face."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import numpy as np

from rostro.models.cache import ModelCache
from rostro.vision.attributes import AttributeEngine
from rostro.vision.detector import YuNetDetector
from rostro.vision.embedder import SFaceEmbedder
from rostro.vision.landmarks import TDDFALandmarker, azure_landmarks
from rostro.vision.rectangle import reading_order, select_faces
from rostro.vision.runtime import LoadOnce
from rostro.vision.types import Box, Detection, Face, Point

T = TypeVar("T")

log = logging.getLogger(__name__)

MAX_FACES = 100


@dataclass(frozen=True)
class Request:
    """What to compute for each face. Detection always runs; everything else only if asked."""

    landmarks: bool = False
    pose: bool = False
    embedding: bool = False
    attributes: frozenset[str] = frozenset()  # see rostro.vision.attributes
    max_faces: int = MAX_FACES
    min_face: float = 0.0  # faces whose rectangle's shorter side is below this are dropped
    shape: str = "detection_01"  # the rectangle's shape (rostro.vision.rectangle.SHAPES)


@dataclass(frozen=True)
class DetectorSettings:
    """Tuning of the detector, chosen on the detection dev set (see docs/accuracy.md)."""

    score_threshold: float = 0.6  # YuNet's published default, kept (see docs/accuracy.md)
    nms_threshold: float = 0.3
    max_side: int = 1280  # larger images are shrunk to this longer side
    upscale_below: int = 640  # images with a shorter longer side are enlarged ...
    upscale_area: int = 800 * 600  # ... to at most this many pixels ...
    max_upscale: float = 2.0  # ... and by at most this factor (one network pass either way)


class Analyzer:
    """Runs the engine's models on images. Safe to share between threads.

    Models load lazily, once, the first time a request needs them; ``load_all`` loads them
    up front (for servers and benchmarks). A missing model raises ModelMissing, whose message
    names `rostro models pull`.
    """

    def __init__(self, cache: ModelCache | None = None,
                 detector: DetectorSettings | None = None) -> None:
        self.cache = cache or ModelCache()
        self.detector_settings = detector or DetectorSettings()
        self._models = LoadOnce()

    def _model(self, name: str, build: Callable[[], T]) -> T:
        def logged() -> T:
            log.info("loading model %s", name)
            return build()

        return self._models.get(name, logged)

    @property
    def detector(self) -> YuNetDetector:
        s = self.detector_settings
        return self._model("detector", lambda: YuNetDetector(
            self.cache.require("yunet"), s.score_threshold, s.nms_threshold, s.max_side,
            s.upscale_below, s.upscale_area, s.max_upscale))

    @property
    def embedder(self) -> SFaceEmbedder:
        # The embedder aligns faces by the 3D landmark fit (see rostro.vision.embedder).
        # Fetched out here: _model's lock is not re-entrant.
        landmarker = self.landmarker
        return self._model("embedder", lambda: SFaceEmbedder(self.cache.require("sface"),
                                                             landmarker))

    @property
    def landmarker(self) -> TDDFALandmarker:
        return self._model("landmarker", lambda: TDDFALandmarker(
            self.cache.require("tddfa"), self.cache.require("tddfa-bfm")))

    @property
    def attributes(self) -> AttributeEngine:
        return self._model("attributes", lambda: AttributeEngine(self))

    def load_all(self) -> None:
        """Load every model now instead of on first use."""
        _ = self.detector, self.embedder, self.landmarker

    def detect(self, image: np.ndarray, max_faces: int = MAX_FACES,
               min_face: float = 0.0) -> list[Detection]:
        """Return detected faces in a BGR image, largest detector box first (ties by top, then
        left), at most ``max_faces``; ``min_face`` applies to the detector's box."""
        found = [d for d in self.detector.detect(image)
                 if min(d.box.width, d.box.height) >= min_face]
        order = reading_order([d.box for d in found])
        return [found[i] for i in order[:max_faces]]

    def locate(self, image: np.ndarray, shape: str = "detection_01", max_faces: int = MAX_FACES,
               min_face: float = 0.0) -> list[tuple[Detection, Box]]:
        """Return (detection, reported rectangle) pairs for a BGR image: the rectangle of
        ``shape`` clipped to the image (rostro.vision.rectangle), faces whose rectangle's shorter
        side is under ``min_face`` dropped, largest rectangle first (ties by top, then left),
        then at most ``max_faces`` (rostro.vision.rectangle.select_faces)."""
        height, width = image.shape[:2]
        return select_faces(self.detector.detect(image), shape, width, height, max_faces,
                            min_face)

    def embed(self, image: np.ndarray, detection: Detection,
              landmarks68: np.ndarray | None = None) -> np.ndarray:
        """Return the unit-length recognition embedding of one detected face.

        ``landmarks68`` ((68, 2), when already fitted for this face) saves the landmark pass.
        """
        return self.embedder.embed(image, detection, landmarks68)

    def analyze_face(self, image: np.ndarray, detection: Detection, request: Request,
                     rectangle: Box | None = None) -> Face:
        """Compute what ``request`` asks for on one detected face (reported at ``rectangle``).

        Every model here works from the detector's own box and points, not from the reported
        rectangle: the landmark fit's crop, the embedding's alignment and the attribute crops
        were tuned on YuNet's box."""
        face = Face(detection=detection, rectangle=rectangle)
        needs_pose = request.pose or "headPose" in request.attributes
        if request.landmarks or needs_pose:
            points, pose = self.landmarker.fit(image, detection.box)
            face = replace(
                face,
                landmarks68=tuple(Point(float(x), float(y)) for x, y in points),
                landmarks=azure_landmarks(points) if request.landmarks else None,
                pose=pose if needs_pose else None,
            )
        if request.embedding:
            fitted = (None if face.landmarks68 is None
                      else np.array([[p.x, p.y] for p in face.landmarks68]))
            face = replace(face, embedding=self.embed(image, detection, fitted))
        if request.attributes:
            face = replace(face, attributes=self.attributes.run(image, face, request.attributes))
        return face

    def analyze(self, image: np.ndarray, request: Request | None = None) -> list[Face]:
        """Detect faces in a BGR image and analyse each as ``request`` asks; largest reported
        rectangle first."""
        request = request or Request()
        located = self.locate(image, request.shape, request.max_faces, request.min_face)
        return [self.analyze_face(image, d, request, rectangle) for d, rectangle in located]


def open_analyzer(models_root: Path | None = None) -> Analyzer:
    """Return an Analyzer over the model cache at ``models_root`` (default: ``$ROSTRO_HOME``)."""
    return Analyzer(ModelCache(models_root))
