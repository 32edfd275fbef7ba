"""Adding a face to a person or a face list ("AddFace"): the query parameters and the
request's image; ``rostro.service.enrollment`` chooses the face and embeds it.
"""

from __future__ import annotations

from starlette.requests import Request

from rostro.api.containers import MAX_FACE_USER_DATA
from rostro.api.detect import DETECTION_MODEL
from rostro.api.errors import bad_argument
from rostro.api.images import analyse_image, request_image
from rostro.api.params import Query, QueryParam
from rostro.service.enrollment import AddFaceParams, enroll_face
from rostro.service.state import service_state
from rostro.store.groups import NewFace

USER_DATA = QueryParam("userData", "string", None,
                       "Data attached to the face (at most 1 KB).")
TARGET_FACE = QueryParam(
    "targetFace", "csv", None,
    "left,top,width,height of the face to add, when the image has several faces.")
ADD_FACE_PARAMS = (USER_DATA, TARGET_FACE, DETECTION_MODEL)


def parse_add_face_params(request: Request) -> AddFaceParams:
    """userData (at most 1 KB), targetFace (four integers) and detectionModel."""
    query = Query(request.query_params)
    user_data = query.raw(USER_DATA.name)
    if user_data is not None and len(user_data.encode("utf-8")) > MAX_FACE_USER_DATA:
        raise bad_argument("'userData' is too long.")
    target = None
    raw = query.raw(TARGET_FACE.name)
    if raw is not None:
        try:
            values = tuple(int(part) for part in raw.split(","))
        except ValueError:
            raise bad_argument("Invalid argument targetFace.") from None
        if len(values) != 4 or values[2] <= 0 or values[3] <= 0:
            raise bad_argument("Invalid argument targetFace.")
        target = values
    return AddFaceParams(user_data, target, query.text(DETECTION_MODEL))


async def face_from_request(request: Request, params: AddFaceParams) -> NewFace:
    """Read the request's image (bytes or URL) and return the face to persist."""
    state = service_state(request)
    data = await request_image(request, state)
    return await analyse_image(state, data, enroll_face, state.analyzer, data, params)
