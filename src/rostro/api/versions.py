"""API versions in the path: ``/face/v1.0`` (the full v1.0 surface) and the newer versions
whose subset the ``azure-ai-vision-face`` SDK uses (same resource paths; v1.2 differences are
lowercase-first enums and long-running training with ``operation-Location``).

A resource family writes its routes once, relative to the version (``/persongroups/...``),
and ``mount`` puts them under each version it belongs to. Only the v1.0 copy appears in the
OpenAPI document; the others are listed in docs/api.md.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter
from starlette.requests import Request

V10 = "v1.0"
NEWER = ("v1.1-preview.1", "v1.2-preview.1", "v1.2")
ALL = (V10, *NEWER)


def mount(family: APIRouter, versions: Iterable[str] = ALL) -> APIRouter:
    """Return a router with ``family``'s routes under ``/face/<version>`` for each version."""
    router = APIRouter()
    for version in versions:
        router.include_router(family, prefix=f"/face/{version}", include_in_schema=version == V10)
    return router


def api_version(request: Request) -> str:
    """The version in the request's path (``v1.0`` when the path carries none)."""
    parts = request.url.path.split("/")
    return parts[2] if len(parts) > 2 and parts[1] == "face" and parts[2] in ALL else V10


def is_v12(request: Request) -> bool:
    """True for the versions that answer with v1.2's spellings."""
    return api_version(request) != V10
