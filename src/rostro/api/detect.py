"""``POST /face/v1.0/detect``: Face - Detect With Url / With Stream."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from rostro.api.auth import authorize
from rostro.api.errors import bad_argument, unsupported_feature
from rostro.api.face_json import ATTRIBUTE_FORMATTERS, detected_face
from rostro.api.images import analyse_image, image_media_type, request_image
from rostro.api.params import Query, QueryParam, parse_csv
from rostro.service.face_analysis import DetectParams, analyze_image, remember_faces
from rostro.service.state import service_state
from rostro.store.resources import ResourceRef
from rostro.vision.attributes import supported_attributes

# Every attribute name Azure's v1.0 Detect accepts, in the spec's order.
AZURE_ATTRIBUTES = (
    "age", "gender", "headPose", "smile", "facialHair", "glasses", "emotion", "hair", "makeup",
    "occlusion", "accessories", "blur", "exposure", "noise", "mask", "qualityForRecognition",
)
DETECTION_MODELS = ("detection_01", "detection_02", "detection_03")
RECOGNITION_MODELS = ("recognition_01", "recognition_02", "recognition_03", "recognition_04")
# Which attributes each detection model can return (Azure's matrix), in the spec's order (the
# order Azure's "Only face attributes ..." message lists them). detection_03: headPose, mask
# and qualityForRecognition in the v1.0 docs, and blur too in azure-ai-vision-face 1.0.0b2
# (FaceAttributeTypeDetection03: blur, headPose, mask) and Azure's .NET and Java docs.
MODEL_ATTRIBUTES = {
    "detection_01": tuple(a for a in AZURE_ATTRIBUTES if a != "mask"),
    "detection_02": (),
    "detection_03": tuple(a for a in AZURE_ATTRIBUTES
                          if a in ("headPose", "blur", "mask", "qualityForRecognition")),
}
QUALITY_MODELS = ("recognition_03", "recognition_04")


RETURN_FACE_ID = QueryParam(
    "returnFaceId", "boolean", True,
    "Return faceIds of the detected faces (kept for faceIdTimeToLive seconds).")
RETURN_LANDMARKS = QueryParam(
    "returnFaceLandmarks", "boolean", False, "Return the 27 face landmarks.")
RETURN_ATTRIBUTES = QueryParam(
    "returnFaceAttributes", "csv", None,
    "Comma-separated attribute names, no spaces, e.g. `age,gender`. 'detection_01' supports "
    "all but mask; 'detection_02' none; 'detection_03' headPose, blur, mask and "
    "qualityForRecognition (which needs recognition_03 or recognition_04).",
    enum=AZURE_ATTRIBUTES)
RECOGNITION_MODEL = QueryParam(
    "recognitionModel", "string", "recognition_01",
    "Recognition model the faceIds are associated with.", enum=RECOGNITION_MODELS,
    invalid_message="'recognitionModel' is invalid.")
RETURN_RECOGNITION_MODEL = QueryParam(
    "returnRecognitionModel", "boolean", False, "Return 'recognitionModel' in each face.")
DETECTION_MODEL = QueryParam(
    "detectionModel", "string", "detection_01", "Detection model.", enum=DETECTION_MODELS,
    invalid_message="'detectionModel' is invalid.")
FACE_ID_TTL = QueryParam(
    "faceIdTimeToLive", "integer", 86400, "Seconds the faceIds are kept (60 to 86400).",
    minimum=60, maximum=86400, range_message="Argument faceIdTimeToLive out of range.")
DETECT_PARAMS = (RETURN_FACE_ID, RETURN_LANDMARKS, RETURN_ATTRIBUTES, RECOGNITION_MODEL,
                 RETURN_RECOGNITION_MODEL, DETECTION_MODEL, FACE_ID_TTL)


def engine_attributes() -> frozenset[str]:
    """Attributes this installation can compute and spell the Azure way."""
    return supported_attributes() & frozenset(ATTRIBUTE_FORMATTERS)


def parse_detect_params(query: Query) -> DetectParams:
    """Parse and check Detect's query against Azure's rules (400 BadArgument on error)."""
    params = DetectParams(
        return_face_id=query.flag(RETURN_FACE_ID),
        return_landmarks=query.flag(RETURN_LANDMARKS),
        attributes=parse_csv(query.raw(RETURN_ATTRIBUTES.name), AZURE_ATTRIBUTES,
                             RETURN_ATTRIBUTES.name),
        recognition_model=query.text(RECOGNITION_MODEL),
        return_recognition_model=query.flag(RETURN_RECOGNITION_MODEL),
        detection_model=query.text(DETECTION_MODEL),
        face_id_ttl=query.integer(FACE_ID_TTL),
    )
    model = params.detection_model
    if model == "detection_02":
        if params.attributes:
            raise bad_argument("'returnFaceAttributes' is not supported by detection_02.")
        if params.return_landmarks:
            raise bad_argument("'returnLandmarks' is not supported by detection_02.")
    allowed = MODEL_ATTRIBUTES[model]
    if any(name not in allowed for name in params.attributes):
        raise bad_argument(f"Only face attributes '{','.join(allowed).lower()}' are supported "
                           f"by {model}.")
    if ("qualityForRecognition" in params.attributes
            and params.recognition_model not in QUALITY_MODELS):
        raise bad_argument("'qualityForRecognition' is only supported when 'recognitionModel' "
                           "is 'recognition_03' or 'recognition_04'.")
    return params


# The attributes an operator can turn off per resource (`rostro resources set NAME
# --sensitive-attributes off`): the inferences Microsoft retired as too sensitive.
SENSITIVE_ATTRIBUTES = ("age", "gender", "emotion")


def check_resource_allows(resource: ResourceRef, attributes: tuple[str, ...]) -> None:
    """403 UnsupportedFeature, in Azure's Limited Access wording, when ``attributes`` ask for
    a sensitive attribute that ``resource`` has turned off."""
    asked = [name for name in attributes if name in SENSITIVE_ATTRIBUTES]
    if asked and not resource.sensitive_attributes:
        raise unsupported_feature("Feature is not supported, missing approval for one or more "
                                  f"of the following features: {', '.join(asked)}.")


DETECT_EXAMPLE = [{
    "faceId": "c5c24a82-6845-4031-9d5d-978df9175426",
    "recognitionModel": "recognition_01",
    "faceRectangle": {"top": 54, "left": 394, "width": 78, "height": 78},
    "faceAttributes": {"headPose": {"pitch": 1.6, "roll": 2.1, "yaw": 3.0}},
}]

OPENAPI = {
    "parameters": [param.openapi() for param in DETECT_PARAMS],
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {
                "type": "object", "required": ["url"],
                "properties": {"url": {"type": "string", "format": "uri",
                                       "description": "Public http(s) URL of the image."}}}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    },
    "responses": {
        "200": {"description": "Faces, largest first (at most 100; `[]` when none).",
                "content": {"application/json": {"example": DETECT_EXAMPLE}}},
        "default": {"description": "Error: `{\"error\": {\"code\", \"message\"}}`."},
    },
}

router = APIRouter()


@router.post(
    "/face/v1.0/detect", name="Detect", operation_id="Face_Detect", tags=["Face"],
    summary="Detect human faces in an image (JSON {url} or raw image bytes)",
    description="Detect faces; optionally return faceIds, landmarks and attributes. JPEG, "
                "PNG, GIF (first frame) and BMP from 1 KB to 6 MB and up to 4096x4096.",
    openapi_extra=OPENAPI, response_class=JSONResponse,
)
async def detect(request: Request, resource: ResourceRef = Depends(authorize)) -> JSONResponse:
    return await respond_detect(request, resource, parse_detect_params(Query(request.query_params)))


async def respond_detect(request: Request, resource: ResourceRef, params: DetectParams,
                         v12: bool = False) -> JSONResponse:
    """Answer a detect call whose parameters are parsed: read the image, analyse it off the
    event loop, remember faceIds if asked, and write Azure's JSON (``v12``: its spellings)."""
    state = service_state(request)
    image_media_type(request)
    check_resource_allows(resource, params.attributes)
    data = await request_image(request, state)
    faces = await analyse_image(state, data, analyze_image, state.analyzer, data, params)
    face_ids = (await run_in_threadpool(remember_faces, state, resource, faces, params)
                if params.return_face_id else [None] * len(faces))
    model = params.recognition_model if params.return_recognition_model else None
    return JSONResponse([
        detected_face(face, face_id=face_id, recognition_model=model,
                      landmarks=params.return_landmarks, attributes=params.attributes, v12=v12)
        for face, face_id in zip(faces, face_ids, strict=True)])
