"""``POST /face/{v1.1-preview.1|v1.2-preview.1|v1.2}/detect``: Detect as the newer versions
answer it, for the ``azure-ai-vision-face`` SDK.

Same parameters and pipeline as v1.0 (``rostro.api.detect``), with the v1.2 differences:
enums are spelled lowercase-first (``noGlasses``, ``headwear``, ``high``) and the retired
attributes (gender, emotion, makeup) are not accepted, as in v1.2's ``returnFaceAttributes``
enum.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import JSONResponse

from rostro.api.auth import authorize
from rostro.api.detect import DETECT_EXAMPLE, parse_detect_params, respond_detect
from rostro.api.errors import invalid_argument
from rostro.api.params import Query
from rostro.api.versions import NEWER, mount
from rostro.store.resources import ResourceRef

#: Attributes v1.0 has and v1.2 does not.
NOT_IN_V12 = frozenset({"gender", "emotion", "makeup"})

family = APIRouter(tags=["Face"])


@family.post("/detect", name="Detect", summary="Detect faces (v1.2 spellings)",
             responses={200: {"content": {"application/json": {"example": DETECT_EXAMPLE}}}})
async def detect_v12(request: Request, resource: ResourceRef = Depends(authorize)) -> JSONResponse:
    params = parse_detect_params(Query(request.query_params))
    if NOT_IN_V12 & set(params.attributes):
        raise invalid_argument("returnFaceAttributes")
    return await respond_detect(request, resource, params, v12=True)


router = mount(family, versions=NEWER)
