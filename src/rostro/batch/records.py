"""One photo in, one output record out: the unit of work of ``rostro detect``.

The local loop and the Ray workers both call ``analyse_file``, so every backend computes the
same record for the same file, and the CLI writes the same bytes from it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import cv2

from rostro.api.face_json import detected_face
from rostro.service.url_fetch import FetchError, FetchPolicy, fetch_bytes
from rostro.vision.analyzer import Analyzer, Request
from rostro.vision.draw import annotate
from rostro.vision.errors import ImageError, VisionError
from rostro.vision.image import decode_image

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".bmp"}


def is_url(source: str) -> bool:
    """Whether ``source`` is an http(s) URL rather than a path."""
    return source.startswith(("http://", "https://"))


def expand_sources(sources: list[str]) -> list[str]:
    """Return URLs and files as given, and the images inside folders (recursively, sorted)."""
    expanded = []
    for source in sources:
        path = Path(source)
        if not is_url(source) and path.is_dir():
            expanded += sorted(str(p) for p in path.rglob("*")
                               if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            expanded.append(source)
    return expanded


@dataclass(frozen=True)
class DetectOptions:
    """What to compute and return for each photo."""

    landmarks: bool = False
    attributes: tuple[str, ...] = ()  # Azure attribute names, already validated
    annotate: bool = False  # also return a PNG copy with boxes, landmarks and labels

    @property
    def request(self) -> Request:
        """The analyzer request these options ask for."""
        return Request(landmarks=self.landmarks, attributes=frozenset(self.attributes))


@dataclass(frozen=True)
class Record:
    """The result for one source: Azure DetectedFace bodies, or why it could not be read."""

    source: str
    faces: tuple[dict, ...] | None  # None when the source could not be read
    error: str | None = None
    annotated: bytes | None = None  # PNG, only when DetectOptions.annotate

    def to_json(self) -> dict:
        """The record without its image, as a JSON object (the Ray backend's shard files)."""
        if self.error is not None:
            return {"image": self.source, "error": self.error}
        return {"image": self.source, "faces": list(self.faces or ())}

    @classmethod
    def from_json(cls, data: dict) -> Record:
        """Inverse of ``to_json`` (the annotated image is not kept)."""
        if "error" in data:
            return cls(data["image"], None, data["error"])
        return cls(data["image"], tuple(data["faces"]))

    def without_image(self) -> Record:
        """This record with its annotated PNG dropped (once written)."""
        return replace(self, annotated=None)


def _load(source: str, base_dir: Path | None):
    if is_url(source):
        return decode_image(fetch_bytes(source, FetchPolicy(allow_private=True)))
    return decode_image(((base_dir or Path()) / source).read_bytes())


def _label(index: int, face, body: dict) -> str:
    parts = [f"#{index + 1}", f"{face.detection.score:.2f}"]
    attributes = body.get("faceAttributes", {})
    for key in ("gender", "age"):
        if key in attributes:
            parts.append(str(attributes[key]))
    if "headPose" in attributes:
        parts.append("yaw {yaw:+.0f}".format(**attributes["headPose"]))
    return " ".join(parts)


def analyse_file(analyzer: Analyzer, source: str, options: DetectOptions,
                 base_dir: Path | None = None) -> Record:
    """Read, decode and analyse one file or URL; an unreadable source gives an error record.
    A relative path is read under ``base_dir`` (the caller's working folder, for workers that
    run elsewhere); the record keeps ``source`` as given. Model errors (ModelMissing) are
    raised: they concern every file, not this one."""
    try:
        image = _load(source, base_dir)
    except (OSError, ImageError, FetchError) as exc:
        return Record(source, None, str(exc))
    faces = analyzer.analyze(image, options.request)
    bodies = tuple(detected_face(f, landmarks=options.landmarks, attributes=options.attributes)
                   for f in faces)
    png = None
    if options.annotate:
        labels = [_label(i, f, b) for i, (f, b) in enumerate(zip(faces, bodies, strict=True))]
        ok, encoded = cv2.imencode(".png", annotate(image, faces, labels))
        if not ok:
            raise VisionError(f"could not encode the annotated copy of {source}")
        png = encoded.tobytes()
    return Record(source, bodies, annotated=png)


def annotated_path(directory: Path, source: str) -> Path:
    """Where the annotated copy of ``source`` goes: ``<directory>/<stem>.annotated.png``."""
    name = Path(source.rstrip("/").split("/")[-1] if is_url(source) else source).stem
    return directory / f"{name}.annotated.png"


def save_annotated(directory: Path, record: Record) -> None:
    """Write the record's annotated PNG (if it has one) into ``directory``."""
    if record.annotated is not None:
        annotated_path(directory, record.source).write_bytes(record.annotated)

