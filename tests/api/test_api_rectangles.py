"""Detect's faceRectangle against a real `rostro serve`: Azure's shapes (detection_01 square,
detection_03 taller), clipped to the image, ordered strictly by size, accepted back as
targetFace by every add-face route; blur on detection_03."""

from __future__ import annotations

import uuid

import numpy as np
import pytest
from api_service import STREAM, Api
from conftest import encode
from PIL import Image

NEWER = ("v1.2-preview.1", "v1.2")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def inside(rect: dict, width: int, height: int) -> bool:
    return (rect["left"] >= 0 and rect["top"] >= 0 and rect["left"] + rect["width"] <= width
            and rect["top"] + rect["height"] <= height)


def as_target(rect: dict) -> str:
    return f"{rect['left']},{rect['top']},{rect['width']},{rect['height']}"


@pytest.fixture(scope="module")
def api(service) -> Api:
    return Api(service.base, service.key)


@pytest.fixture(scope="module")
def edge_photos(astronaut_rgb) -> dict[str, tuple[bytes, int, int]]:
    """The astronaut cut so that her face touches the left edge, and the top edge."""
    left = np.ascontiguousarray(astronaut_rgb[:, 205:])  # her face spans x ~177..270
    top = np.ascontiguousarray(astronaut_rgb[95:, :])  # ... and y ~60..175
    return {name: (encode(rgb, "JPEG", quality=92), rgb.shape[1], rgb.shape[0])
            for name, rgb in (("left", left), ("top", top))}


def test_detection_01_is_square_and_detection_03_taller(api, images):
    """Azure's published responses: detection_01 rectangles square, detection_03 rectangles
    taller than wide and reaching higher (forehead); both on the face, inside the image."""
    one = api.ok("POST", "/detect", data=images["face.jpg"], headers=STREAM,
                 params={"returnFaceId": "false"})[0]["faceRectangle"]
    three = api.ok("POST", "/detect", data=images["face.jpg"], headers=STREAM,
                   params={"returnFaceId": "false", "detectionModel": "detection_03"}
                   )[0]["faceRectangle"]
    assert one["width"] == one["height"]
    assert three["height"] > three["width"] and three["top"] < one["top"]
    assert inside(one, 512, 512) and inside(three, 512, 512)


@pytest.mark.parametrize("edge", ["left", "top"])
@pytest.mark.parametrize("model", ["detection_01", "detection_03"])
def test_a_face_at_the_edge_gets_the_part_of_its_rectangle_inside(api, edge_photos, edge, model):
    data, width, height = edge_photos[edge]
    faces = api.ok("POST", "/detect", data=data, headers=STREAM,
                   params={"returnFaceId": "false", "detectionModel": model})
    assert len(faces) == 1
    rect = faces[0]["faceRectangle"]
    assert inside(rect, width, height)
    assert rect[edge] == 0  # clipped at that edge, not shifted inside
    if model == "detection_01":  # the square lost its part past the edge
        cut, kept = ("width", "height") if edge == "left" else ("height", "width")
        assert rect[cut] < rect[kept]


def _containers(api: Api) -> list[str]:
    """One of each add-face target under ``api``'s version: its persistedfaces path."""
    group, large, flist, lflist = (unique(p) for p in ("pg", "lpg", "fl", "lfl"))
    body = {"name": "rectangles", "recognitionModel": "recognition_04"}
    paths = []
    for kind, container in (("persongroups", group), ("largepersongroups", large)):
        api.ok("PUT", f"/{kind}/{container}", json=body)
        person = api.ok("POST", f"/{kind}/{container}/persons", json={"name": "p"})["personId"]
        paths.append(f"/{kind}/{container}/persons/{person}/persistedfaces")
    for kind, container in (("facelists", flist), ("largefacelists", lflist)):
        api.ok("PUT", f"/{kind}/{container}", json=body)
        paths.append(f"/{kind}/{container}/persistedfaces")
    return paths


@pytest.mark.parametrize("version,models", [("v1.0", ("detection_01", "detection_03")),
                                            ("v1.2", ("detection_01",))])
def test_every_detected_rectangle_is_accepted_back_as_target_face(service, images, edge_photos,
                                                                  version, models):
    """detect -> add face with that faceRectangle as targetFace, on every add-face route,
    for each face of a two-face photo and for faces clipped at the image's edge (v1.2 shares
    the v1.0 code: one model there keeps the test short)."""
    api = Api(service.base, service.key, version)
    paths = _containers(api)
    photos = [images["two.jpg"], edge_photos["left"][0], edge_photos["top"][0]]
    for model in models:
        for photo in photos:
            faces = api.ok("POST", "/detect", data=photo, headers=STREAM,
                           params={"returnFaceId": "false", "detectionModel": model})
            assert faces
            for face in faces:
                for path in paths:
                    response = api.call("POST", path, data=photo, headers=STREAM, params={
                        "targetFace": as_target(face["faceRectangle"]),
                        "detectionModel": model})
                    assert response.status_code == 200, (path, model, response.text)


def test_target_face_past_the_image_is_clipped_and_one_outside_is_refused(api, images,
                                                                          edge_photos):
    path = _containers(api)[2]  # a face list
    photo = edge_photos["left"][0]
    rect = api.ok("POST", "/detect", data=photo, headers=STREAM,
                  params={"returnFaceId": "false"})[0]["faceRectangle"]
    # The whole square the client may draw around a face cut by the edge: past the image.
    whole = {"left": rect["left"] - 25, "top": rect["top"],
             "width": rect["width"] + 25, "height": rect["height"]}
    assert api.call("POST", path, data=photo, headers=STREAM,
                    params={"targetFace": as_target(whole)}).status_code == 200
    refused = api.call("POST", path, data=images["two.jpg"], headers=STREAM,
                       params={"targetFace": "800,10,200,200"})
    assert refused.status_code == 400
    assert refused.json()["error"] == {"code": "BadArgument",
                                       "message": "Argument targetFace out of range."}


def test_order_is_strictly_by_rectangle_area_then_top_then_left(api, astronaut_rgb):
    """Tiles of one face at three sizes, several of each size: largest first, and among
    rectangles of one area the upper one first, then the left one -- every time."""
    face = astronaut_rgb[30:230, 130:320]
    canvas = np.full((900, 1200, 3), 255, np.uint8)
    tiles = [(170, 0, 0), (170, 0, 600), (120, 300, 0), (120, 300, 400), (120, 300, 800),
             (90, 600, 0), (90, 600, 300), (90, 600, 600), (90, 600, 900)]
    for size, top, left in tiles:
        tile = np.asarray(Image.fromarray(face).resize((size * 190 // 200, size)))
        canvas[top + 20:top + 20 + tile.shape[0], left + 20:left + 20 + tile.shape[1]] = tile
    data = encode(canvas, "PNG")
    first = api.ok("POST", "/detect", data=data, headers=STREAM, params={"returnFaceId": "false"})
    assert len(first) == len(tiles)
    keys = [(-r["width"] * r["height"], r["top"], r["left"])
            for r in (f["faceRectangle"] for f in first)]
    assert keys == sorted(keys)
    again = api.ok("POST", "/detect", data=data, headers=STREAM, params={"returnFaceId": "false"})
    assert again == first


@pytest.mark.parametrize("version", ["v1.0", *NEWER])
def test_blur_is_a_detection_03_attribute(service, images, version):
    """azure-ai-vision-face 1.0.0b2: FaceAttributeTypeDetection03 = blur, headPose, mask."""
    api = Api(service.base, service.key, version)
    faces = api.ok("POST", "/detect", data=images["face.jpg"], headers=STREAM, params={
        "returnFaceId": "false", "detectionModel": "detection_03",
        "returnFaceAttributes": "blur,headPose,mask"})
    blur = faces[0]["faceAttributes"]["blur"]
    assert list(blur) == ["blurLevel", "value"] and blur["blurLevel"] == "low"
