"""The OpenAPI document (``/openapi.json``), completed the way clients and fuzzers read it.

FastAPI describes what it sees in the handlers; most handlers read their ids, queries and
bodies themselves (to answer Azure's errors), so ``complete`` adds what it cannot see:

- path parameters spelled as Azure's specification spells them (``personGroupId``...), and
  every ``{name}`` of a path declared as a parameter (the Snapshot routes take no argument);
- the JSON bodies and query parameters the handlers read (the fields Azure's specification
  names, with Rostro's limits), so that clients and fuzzers can build valid calls;
- success answers without a body (Azure's PUT, PATCH, DELETE and v1.0 train) as such;
- every status each operation can answer, errors in Azure's ``APIError`` schema
  (``{"error": {"code", "message"}}``), with ``Retry-After`` where Azure sends it. FastAPI's
  422 is dropped: a request that does not validate gets Azure's 400 BadArgument;
- the key in the ``subscription-key`` query parameter, which API Management also accepts.

tests/api/test_api_openapi.py checks the document against the running service with
schemathesis (statuses and response shapes).
"""

from __future__ import annotations

import re

from fastapi import FastAPI

from rostro.api import containers
from rostro.api.enroll import ADD_FACE_PARAMS

# Path parameters as Azure's specification names them (the handlers' Python names differ:
# one handler serves the four container kinds).
_AZURE_CONTAINER_IDS = {"persongroups": "personGroupId", "largepersongroups": "largePersonGroupId",
                        "facelists": "faceListId", "largefacelists": "largeFaceListId"}
_AZURE_PARAMETERS = {"person_id": "personId", "persisted_face_id": "persistedFaceId",
                     "operation_id": "operationId", "snapshot_id": "snapshotId"}

#: Azure's error schemas, named as in its Face v1.0 specification.
ERROR_SCHEMAS = {
    "APIError": {"type": "object", "description": "Error information returned by the API",
                 "required": ["error"],
                 "properties": {"error": {"$ref": "#/components/schemas/Error"}}},
    "Error": {"type": "object", "description": "Error body.", "required": ["code", "message"],
              "properties": {"code": {"type": "string"}, "message": {"type": "string"}}},
}

_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before calling again.",
                                "schema": {"type": "integer"}}}

#: What each error status means across the service (the operation's own codes included).
ERROR_STATUSES = {
    400: "BadArgument (a parameter, id or body that is not valid), InvalidURL, InvalidImage, "
         "InvalidImageSize, or the operation's own code (e.g. FaceListNotReady, "
         "PersonGroupNotTrained).",
    401: "The subscription key is missing or not valid.",
    403: "The month's call volume is used up (with Retry-After), QuotaExceeded (a container, "
         "person or face limit), UnsupportedFeature (e.g. sensitive attributes turned off), "
         "or InvalidRequest (an operation Azure retired).",
    404: "Not found: the container, person, persisted face, faceId or operation, with its own "
         "code (PersonGroupNotFound, FaceNotFound...).",
    409: "Conflict: the container already exists, or is under training.",
    415: "Invalid Media Type: the body is neither application/json nor "
         "application/octet-stream.",
    429: "The tier's rate limit is exceeded (with Retry-After).",
    500: "InternalServerError, with the request id (apim-request-id) to find it in the log.",
}

# Operations (method, path relative to the version) whose errors go beyond the common ones.
_IMAGE_BODY = re.compile(r"^post (/detect|/[a-z]+/\{[^}]+\}(/persons/\{personId\})?"
                         r"/persistedfaces)$")
_RECOGNITION = {"post /verify", "post /identify", "post /findsimilars", "post /group"}
_UNDER_TRAINING = {"post /identify", "post /findsimilars"}


_UUID = {"type": "string", "format": "uuid"}
_NAME = {"type": "string", "minLength": 1, "maxLength": containers.MAX_NAME}
_USER_DATA = {"type": "string", "maxLength": containers.MAX_USER_DATA}
_FACE_USER_DATA = {"type": "string", "maxLength": containers.MAX_FACE_USER_DATA}
_CONTAINER_ID = {"type": "string", "pattern": "^[a-z0-9_-]{1,64}$"}


def _object(required: tuple[str, ...] = (), **properties: dict) -> dict:
    schema: dict = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


_IMAGE = {"application/json": {"schema": _object(
              ("url",), url={"type": "string", "format": "uri",
                             "description": "Public http(s) URL of the image."})},
          "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}

#: Request bodies (JSON unless the content is given) of the operations, by a pattern on
#: ``method relative-path`` (``{kind}`` and ``{id}`` stand for a container's path and id).
_BODIES = (
    ("post /verify", _object(faceId1=_UUID, faceId2=_UUID, faceId=_UUID, personId=_UUID,
                             personGroupId=_CONTAINER_ID, largePersonGroupId=_CONTAINER_ID)),
    ("post /identify", _object(
        ("faceIds",), faceIds={"type": "array", "items": _UUID, "minItems": 1, "maxItems": 10},
        personGroupId=_CONTAINER_ID, largePersonGroupId=_CONTAINER_ID,
        maxNumOfCandidatesReturned={"type": "integer", "minimum": 1, "maximum": 100},
        confidenceThreshold={"type": "number", "minimum": 0, "maximum": 1})),
    ("post /findsimilars", _object(
        ("faceId",), faceId=_UUID, faceListId=_CONTAINER_ID, largeFaceListId=_CONTAINER_ID,
        faceIds={"type": "array", "items": _UUID, "maxItems": 1000},
        maxNumOfCandidatesReturned={"type": "integer", "minimum": 1, "maximum": 1000},
        mode={"type": "string", "enum": ["matchPerson", "matchFace"]})),
    ("post /group", _object(("faceIds",), faceIds={"type": "array", "items": _UUID,
                                                   "minItems": 2, "maxItems": 1000})),
    ("put /{kind}/{id}", _object(("name",), name=_NAME, userData=_USER_DATA,
                                 recognitionModel={"type": "string", "enum": [
                                     "recognition_01", "recognition_02", "recognition_03",
                                     "recognition_04"]})),
    ("patch /{kind}/{id}", _object(name=_NAME, userData=_USER_DATA)),
    ("post /{kind}/{id}/persons", _object(("name",), name=_NAME, userData=_USER_DATA)),
    ("patch /{kind}/{id}/persons/{id}", _object(name=_NAME, userData=_USER_DATA)),
    ("patch /{kind}/{id}(/persons/{id})?/persistedfaces/{id}",
     _object(userData=_FACE_USER_DATA)),
    ("post /{kind}/{id}(/persons/{id})?/persistedfaces", _IMAGE),
)
_QUERIES = (
    ("get /{kind}", (containers.START, containers.TOP, containers.RETURN_RECOGNITION_MODEL)),
    ("get /{kind}/{id}", (containers.RETURN_RECOGNITION_MODEL,)),
    ("get /{kind}/{id}/persons", (containers.START, containers.TOP)),
    ("get /{kind}/{id}/persistedfaces", (containers.START, containers.TOP)),
    ("post /{kind}/{id}(/persons/{id})?/persistedfaces", ADD_FACE_PARAMS),
)


def _pattern(template: str) -> re.Pattern:
    """A template of ``_BODIES``/``_QUERIES`` as a regex: ``{kind}`` is a container
    collection, ``{id}`` any path parameter, ``(...)?`` an optional part."""
    kinds = "(?:" + "|".join(_AZURE_CONTAINER_IDS) + ")"
    regex = (re.escape(template).replace(r"\(", "(").replace(r"\)", ")").replace(r"\?", "?")
             .replace(r"\{kind\}", kinds).replace(r"\{id\}", r"\{[^}]+\}"))
    return re.compile(f"^{regex}$")


_BODY_PATTERNS = tuple((_pattern(t), body) for t, body in _BODIES)
_QUERY_PATTERNS = tuple((_pattern(t), params) for t, params in _QUERIES)


def _declare_inputs(relative: str, operation: dict) -> None:
    """Add the body and query parameters the handler of ``relative`` reads, where FastAPI
    declared none."""
    for pattern, body in _BODY_PATTERNS:
        if pattern.match(relative) and "requestBody" not in operation:
            content = body if "type" not in body else {"application/json": {"schema": body}}
            operation["requestBody"] = {"required": relative.startswith(("post", "put")),
                                        "content": content}
    for pattern, params in _QUERY_PATTERNS:
        if pattern.match(relative):
            declared = {p["name"] for p in operation.setdefault("parameters", [])}
            operation["parameters"] += [p.openapi() for p in params if p.name not in declared]


def _relative(method: str, path: str) -> str:
    """``method /path`` without the ``/face/<version>`` prefix."""
    return f"{method} /" + path.split("/", 3)[3] if path.startswith("/face/") else \
        f"{method} {path}"


def _azure_parameter_names(schema: dict) -> dict:
    """Rename the path parameters of the OpenAPI document to Azure's spelling."""
    paths = {}
    for path, operations in schema.get("paths", {}).items():
        names = dict(_AZURE_PARAMETERS)
        for collection, azure in _AZURE_CONTAINER_IDS.items():
            if f"/{collection}/{{container_id}}" in path:
                names["container_id"] = azure
        for python, azure in names.items():
            path = path.replace(f"{{{python}}}", f"{{{azure}}}")
        for operation in operations.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter.get("in") == "path" and parameter["name"] in names:
                    parameter["name"] = names[parameter["name"]]
        paths[path] = operations
    schema["paths"] = paths
    return schema


def _declare_path_parameters(path: str, operation: dict) -> None:
    """Declare each ``{name}`` of ``path`` that the operation does not (a string)."""
    parameters = operation.setdefault("parameters", [])
    declared = {p["name"] for p in parameters if p.get("in") == "path"}
    for name in re.findall(r"\{([^}]+)\}", path):
        if name not in declared:
            parameters.append({"name": name, "in": "path", "required": True,
                               "schema": {"type": "string"}})


def error_statuses(method: str, path: str, operation: dict) -> list[int]:
    """The error statuses ``method path`` can answer (every one: the service's own checks,
    its key and tier checks, and a failure of its own)."""
    statuses = {401, 500}
    if not path.startswith("/face/"):  # Rostro's own endpoints: key check only
        return sorted(statuses)
    statuses |= {403, 429}  # the tier: month's quota, rate limit; retired operations
    if _retired(operation):
        return sorted(statuses)
    relative = _relative(method, path)
    statuses.add(400)
    if "{" in path or relative in _RECOGNITION:
        statuses.add(404)
    if (method == "put" and "{" in path) or relative in _UNDER_TRAINING:
        statuses.add(409)
    if _IMAGE_BODY.match(relative):
        statuses.add(415)
    return sorted(statuses)


def _retired(operation: dict) -> bool:
    return "Snapshot (retired)" in operation.get("tags", [])


def _error_response(status: int) -> dict:
    response = {"description": ERROR_STATUSES[status],
                "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/APIError"}}}}
    if status in (403, 429):
        response["headers"] = dict(_RETRY_AFTER)
    return response


def _bodiless(method: str, relative: str) -> bool:
    """Whether the success of an operation has an empty body: Azure's PUT, PATCH and DELETE
    of containers, persons and faces, and v1.0's train (202)."""
    return method in ("put", "patch", "delete") or relative.endswith("/train")


def complete(schema: dict) -> dict:
    """Complete FastAPI's document (see the module docstring); return it."""
    schema = _azure_parameter_names(schema)
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas.update(ERROR_SCHEMAS)
    schemes = components.setdefault("securitySchemes", {})
    schemes["APIKeyQuery"] = {"type": "apiKey", "in": "query", "name": "subscription-key",
                              "description": "The key as a query parameter (as API "
                                             "Management accepts it)."}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            _declare_path_parameters(path, operation)
            relative = _relative(method, path)
            _declare_inputs(relative, operation)
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            if _retired(operation):  # they only ever refuse
                responses.pop("200", None)
            elif _bodiless(method, relative):
                for status, response in responses.items():
                    if status.startswith("2"):
                        response.pop("content", None)
                        response["description"] = "Success, with an empty body."
            if "default" in responses:
                responses["default"] = {"description": "Error response.", "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/APIError"}}}}
            for status in error_statuses(method, path, operation):
                responses.setdefault(str(status), _error_response(status))
            if operation.get("security"):
                operation["security"] = [*operation["security"], {"APIKeyQuery": []}]
    return schema


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` return the completed document (built once)."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = complete(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend it
