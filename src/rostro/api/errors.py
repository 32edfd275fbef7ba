"""Azure's error catalogue: every error leaves the service as
``{"error": {"code": ..., "message": ...}}`` with Azure's status, code and message.

Codes and messages follow the live service (see docs/api.md for the table and for the few
messages that are Rostro's own where Azure's exact text is unknown).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from rostro.api.versions import is_v12
from rostro.service.errors import NoFace, ServiceError, SeveralFaces, TargetOutsideImage
from rostro.vision.errors import ImageError, ImageTooLarge

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "apim-request-id"
ERROR_CODE_HEADER = "x-ms-error-code"  # v1.2 and its previews only

MISSING_KEY = ("Access denied due to missing subscription key. Make sure to include "
               "subscription key when making requests to an API.")
INVALID_KEY = ("Access denied due to invalid subscription key or wrong API endpoint. Make sure "
               "to provide a valid key for an active subscription and use a correct regional "
               "API endpoint for your resource.")


class ApiError(Exception):
    """An error answer: HTTP ``status``, Azure ``code`` and ``message``, extra ``headers``."""

    def __init__(self, status: int, code: str, message: str,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def response(self, request: Request | None = None) -> JSONResponse:
        """Return the JSON response for this error. Answering ``request`` on a v1.2-family
        path, the code is also in ``x-ms-error-code``, as Azure's newer versions send it (the
        new SDK reads it)."""
        headers = dict(self.headers)
        if request is not None and is_v12(request):
            headers[ERROR_CODE_HEADER] = self.code
        return error_response(self.status, self.code, self.message, headers)


def error_response(status: int, code: str, message: str,
                   headers: Mapping[str, str] | None = None) -> JSONResponse:
    """Return ``{"error": {"code", "message"}}`` with ``status``."""
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status,
                        headers=dict(headers or {}))


def bad_argument(message: str) -> ApiError:
    """400 BadArgument, e.g. ``Invalid argument returnFaceAttributes.``"""
    return ApiError(400, "BadArgument", message)


def invalid_argument(name: str) -> ApiError:
    """400 BadArgument ``Invalid argument NAME.`` (a parameter that does not parse)."""
    return bad_argument(f"Invalid argument {name}.")


def invalid_body() -> ApiError:
    return bad_argument("Request body is invalid.")


def json_parsing_error() -> ApiError:
    return bad_argument("JSON parsing error.")


def invalid_media_type() -> ApiError:
    return ApiError(415, "BadArgument", "Invalid Media Type.")


def invalid_url(detail: str | None = None, message: str | None = None) -> ApiError:
    """400 InvalidURL: ``Invalid image URL.`` (or ``message``), or the download-error message
    with ``detail``."""
    if detail is None:
        return ApiError(400, "InvalidURL", message or "Invalid image URL.")
    return ApiError(400, "InvalidURL", "Invalid image URL or error downloading from target "
                    f"server. Remote server error returned: \"{detail}\"")


def invalid_image() -> ApiError:
    return ApiError(400, "InvalidImage", "Decoding error, image format unsupported.")


def image_too_small() -> ApiError:
    return ApiError(400, "InvalidImageSize", "Image size is too small.")


def image_too_big() -> ApiError:
    return ApiError(400, "InvalidImageSize", "Image size is too big.")


def room_error(exc: ImageError | ServiceError) -> ApiError:
    """Azure's answer to an error of the rooms below (an image that cannot be decoded, a
    face that cannot be chosen): the one place these are mapped."""
    if isinstance(exc, ImageTooLarge):
        return image_too_big()
    if isinstance(exc, ImageError):
        return invalid_image()
    if isinstance(exc, NoFace):
        return ApiError(400, "InvalidImage", "No face detected in the image.")
    if isinstance(exc, SeveralFaces):
        return ApiError(400, "InvalidImage", "There is more than 1 face in the image.")
    if isinstance(exc, TargetOutsideImage):
        return bad_argument("Argument targetFace out of range.")
    raise TypeError(f"no Azure error for {exc!r}") from exc


def missing_key() -> ApiError:
    return ApiError(401, "401", MISSING_KEY)


def invalid_key() -> ApiError:
    return ApiError(401, "401", INVALID_KEY)


def unsupported_feature(message: str) -> ApiError:
    """403 UnsupportedFeature: something valid in Azure that this service cannot do."""
    return ApiError(403, "UnsupportedFeature", message)


def rate_limited(operation: str, tier: str, retry_after: int) -> ApiError:
    """429 with Retry-After, worded as the live service words it for the tier."""
    unit = "second" if retry_after == 1 else "seconds"
    advice = ("To increase your rate limit switch to a paid tier." if tier == "F0" else
              "Please contact Azure support service if you would like to further increase "
              "the default rate limit.")
    return ApiError(
        429, "429",
        f"Requests to the {operation} Operation under Face API - v1.0 have exceeded rate limit "
        f"of your current Face {tier} pricing tier. Please retry after {retry_after} {unit}. "
        f"{advice}",
        {"Retry-After": str(retry_after)})


def quota_exceeded(tier: str, retry_after: int) -> ApiError:
    """403 when the month's call volume is used up; Retry-After is the time to next month."""
    days = max(1, -(-retry_after // 86400))
    return ApiError(
        403, "403",
        f"Out of call volume quota for FaceAPI {tier} pricing tier. Please retry after {days} "
        f"{'day' if days == 1 else 'days'}. To increase your call volume switch to a paid tier.",
        {"Retry-After": str(retry_after)})


def not_found() -> ApiError:
    return ApiError(404, "404", "Resource not found")


def method_not_allowed(allow: str | None = None) -> ApiError:
    return ApiError(405, "405", "Method not allowed", {"Allow": allow} if allow else None)


def internal_error(request_id: str) -> ApiError:
    return ApiError(500, "InternalServerError",
                    f"An internal server error occurred. Request id: {request_id}.")


async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
    return exc.response(request)


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code == 404:
        return not_found().response(request)
    if exc.status_code == 405:
        return method_not_allowed((exc.headers or {}).get("Allow")).response(request)
    return ApiError(exc.status_code, str(exc.status_code), str(exc.detail)).response(request)


async def _database_value_error(request: Request, exc: DataError) -> JSONResponse:
    # A value the database refuses to store, e.g. text with a NUL character on PostgreSQL
    # (SQLite stores it): the request's fault, not the server's. The transaction rolled back.
    log.info("database refused a value: %s", exc.orig)
    return bad_argument("Invalid argument: a value the database cannot store.").response(request)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    for error in exc.errors():
        location = error.get("loc", ())
        if location and location[0] in ("query", "path", "header") and len(location) > 1:
            return bad_argument(f"Invalid argument {location[1]}.").response(request)
    return invalid_body().response(request)


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error the application raises in Azure's shape: ApiError as it is,
    Starlette's 404/405, FastAPI's parameter validation and the database's refused values."""
    # Each handler takes the class it is registered for (Starlette's type says any Exception).
    handlers: dict[type[Exception], Callable[[Request, Any], Awaitable[JSONResponse]]] = {
        ApiError: _api_error,
        StarletteHTTPException: _http_error,
        RequestValidationError: _validation_error,
        DataError: _database_value_error,
    }
    for exc_class, handler in handlers.items():
        app.add_exception_handler(exc_class, handler)
