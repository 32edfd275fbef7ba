"""Compare Rostro's detector with Azure's published answers on the photos they were given.

Two public lab write-ups publish Azure Vision Studio's detect JSON (detection_03: it returns
``mask``) together with the photo: github.com/grapiuna/azure-dio2 (README.md, input/03.jpg,
12 faces) and github.com/elvis1701/Lab-IA-ReconhecimentoFacial (README.md, file.jpg, 1 face).
Fetch them, then:

    python scripts/fit/check_photos.py README.md:photo.jpg [README.md:photo.jpg ...]

For every Azure face (matched to the detection whose box overlaps it most) it prints

- detection_03: Azure's rectangle against YuNet's own box (IoU, size ratios, centre shift);
- the five points: the face scale (rostro.vision.rectangle.face_frame) measured on YuNet's
  points over the one measured on Azure's, and the eye and mouth midpoints' offsets;
- detection_01: the rectangle rostro.vision.rectangle.SHAPES puts on Azure's points against
  the one Rostro reports from YuNet's points (azure_rectangle): IoU, side ratio, centre shift.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

from rostro.vision.analyzer import Analyzer  # noqa: E402
from rostro.vision.image import read_image  # noqa: E402
from rostro.vision.rectangle import SHAPES, azure_rectangle, face_frame, rectangle_from_points  # noqa: E402
from rostro.vision.types import Box, Point  # noqa: E402

FIVE = ("pupilLeft", "pupilRight", "noseTip", "mouthLeft", "mouthRight")


def azure_faces(readme: Path) -> list[dict]:
    """Every face object with a faceRectangle and landmarks in the README's JSON blocks."""
    faces = []
    for block in re.findall(r"```\w*\n(\[.*?\])\n```", readme.read_text(), re.S):
        try:
            faces += [f for f in json.loads(block) if "faceRectangle" in f and "faceLandmarks" in f]
        except json.JSONDecodeError:
            continue
    unique = {json.dumps(f["faceRectangle"], sort_keys=True): f for f in faces}
    return list(unique.values())


def _centre(box: Box) -> np.ndarray:
    return np.array([box.left + box.width / 2, box.top + box.height / 2])


def main(pairs: list[str]) -> None:
    analyzer = Analyzer()
    rows = []
    for pair in pairs:
        readme, photo = (Path(p) for p in pair.split(":"))
        image = read_image(str(photo))
        height, width = image.shape[:2]
        detections = analyzer.detector.detect(image)
        for face in azure_faces(readme):
            r = face["faceRectangle"]
            azure = Box(r["left"], r["top"], r["width"], r["height"])
            found = max(detections, key=lambda d: d.box.iou(azure))
            points = tuple(Point(face["faceLandmarks"][n]["x"], face["faceLandmarks"][n]["y"])
                           for n in FIVE)
            theirs, ours = face_frame(points), face_frame(found.points5)
            square_theirs = rectangle_from_points(points, SHAPES["detection_01"])
            square_ours = azure_rectangle(found, "detection_01", width, height)
            rows.append({
                "d03 iou": found.box.iou(azure),
                "d03 width ratio": azure.width / found.box.width,
                "d03 height ratio": azure.height / found.box.height,
                "d03 centre dx/w": (_centre(azure) - _centre(found.box))[0] / found.box.width,
                "d03 centre dy/h": (_centre(azure) - _centre(found.box))[1] / found.box.height,
                "scale yunet/azure": ours.scale / theirs.scale,
                "eye dy/scale": (ours.eye - theirs.eye)[1] / theirs.scale,
                "mouth dy/scale": ((ours.eye + ours.axis) - (theirs.eye + theirs.axis))[1] / theirs.scale,
                "d01 iou": square_ours.iou(square_theirs),
                "d01 side ratio": square_ours.width / square_theirs.width,
                "d01 centre dy/side": (_centre(square_ours) - _centre(square_theirs))[1] / square_theirs.width,
            })
    print(f"{len(rows)} faces")
    for key in rows[0]:
        values = np.array([row[key] for row in rows])
        print(f"{key:20s} median {np.median(values):+.3f}  mean {values.mean():+.3f}  "
              f"min {values.min():+.3f}  max {values.max():+.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
