"""Photos of named people from ../shared/eval/identity (dev) for the recognition tests.

Not a test module: the recognition tests import it. ``cast(root)`` picks the people and photos
the API can take (within Azure's image limits and with faces of at least 36 px: the
deepface photos and the Yale subjects; the CMU photos are 128x120 with ~35 px faces), and
``serve`` puts them on the test image server.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

MIN_BYTES, MAX_BYTES, MAX_SIDE = 1024, 6 * 1024 * 1024, 4096


@dataclass(frozen=True)
class Photo:
    path: Path
    identity: str
    source: str

    @property
    def name(self) -> str:
        """The photo's name on the image server."""
        return f"identity/{self.path.parent.name}/{self.path.name}"


@dataclass(frozen=True)
class Person:
    """A person to enroll: two photos to add, one held back to identify."""

    identity: str
    enrolled: tuple[Photo, Photo]
    probe: Photo


def usable(path: Path) -> bool:
    size = path.stat().st_size
    if not MIN_BYTES <= size <= MAX_BYTES:
        return False
    with Image.open(path) as image:
        return max(image.size) <= MAX_SIDE


def cast(root: Path, yale_subjects: int = 3) -> list[Person]:
    """Every deepface identity with at least three usable photos and the first
    ``yale_subjects`` Yale subjects: the first two photos (by name) enrolled, the third
    held back."""
    rows = list(csv.DictReader(open(root / "images.csv", newline="")))
    photos: dict[str, list[Photo]] = {}
    for row in sorted(rows, key=lambda r: r["image"]):
        if row["source"] not in ("deepface_tests", "yalefaces"):
            continue
        path = root / row["image"]
        if usable(path):
            photos.setdefault(row["identity"], []).append(Photo(path, row["identity"],
                                                                row["source"]))
    people = []
    yale = 0
    for identity in sorted(photos):
        found = photos[identity]
        if len(found) < 3:
            continue
        if found[0].source == "yalefaces":
            if yale >= yale_subjects:
                continue
            yale += 1
        people.append(Person(identity, (found[0], found[1]), found[2]))
    return people


def serve(image_server, people: list[Person]) -> None:
    """Put every photo of ``people`` on the image server under ``Photo.name``."""
    for person in people:
        for photo in (*person.enrolled, person.probe):
            image_server.files[photo.name] = photo.path.read_bytes()
