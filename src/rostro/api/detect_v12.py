"""``POST /face/{v1.1-preview.1|v1.2-preview.1|v1.2}/detect``: Detect as the newer versions
answer it, for the ``azure-ai-vision-face`` SDK.

Same parameters and pipeline as v1.0 (``rostro.api.detect``), with the v1.2 differences:
enums are spelled lowercase-first (``noGlasses``, ``headwear``, ``high``) and the retired
attributes (gender, emotion, makeup) are not accepted, as in v1.2's ``returnFaceAttributes``
enum.
"""

from __future__ import annotations

import anyio.to_thread
from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from rostro.api.auth import authorize
from rostro.api.detect import (
    DETECT_EXAMPLE, analyze_image, check_engine_support, parse_detect_params, remember_faces,
)
from rostro.api.errors import invalid_argument
from rostro.api.faces import detected_face
from rostro.api.images import image_media_type, request_image
from rostro.api.params import Query
from rostro.api.state import service_state
from rostro.api.versions import NEWER, mount
from rostro.store.resources import ResourceRef

#: Attributes v1.0 has and v1.2 does not.
NOT_IN_V12 = frozenset({"gender", "emotion", "makeup"})

family = APIRouter(tags=["Face"])


@family.post("/detect", name="Detect", summary="Detect faces (v1.2 spellings)",
             responses={200: {"content": {"application/json": {"example": DETECT_EXAMPLE}}}})
async def detect_v12(request: Request, resource: ResourceRef = Depends(authorize)) -> JSONResponse:
    state = service_state(request)
    params = parse_detect_params(Query(request.query_params))
    if NOT_IN_V12 & set(params.attributes):
        raise invalid_argument("returnFaceAttributes")
    image_media_type(request)
    check_engine_support(params.attributes)
    data = await request_image(request, state)
    faces = await anyio.to_thread.run_sync(analyze_image, state.analyzer, data, params,
                                           limiter=state.inference)
    face_ids = (await run_in_threadpool(remember_faces, state, resource, faces, params)
                if params.return_face_id else [None] * len(faces))
    model = params.recognition_model if params.return_recognition_model else None
    return JSONResponse([
        detected_face(face, face_id=face_id, recognition_model=model,
                      landmarks=params.return_landmarks, attributes=params.attributes, v12=True)
        for face, face_id in zip(faces, face_ids, strict=True)])


router = mount(family, versions=NEWER)
