"""The Studio's own static files (CSS, scripts, icon), served from the package: no CDN."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from starlette.responses import Response

from rostro.studio.web import PREFIX, secure

STATIC = Path(__file__).parent / "static"
MEDIA_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
               ".svg": "image/svg+xml"}

router = APIRouter(include_in_schema=False)


@router.get(PREFIX + "/static/{name}")
async def static_file(name: str) -> Response:
    path = STATIC / name
    media_type = MEDIA_TYPES.get(path.suffix)
    # Only plain names of files shipped in static/ (no paths, no other types).
    if media_type is None or "/" in name or name.startswith(".") or not path.is_file():
        return secure(Response("Not found", status_code=404, media_type="text/plain"))
    response = Response(path.read_bytes(), media_type=media_type)
    secure(response)
    response.headers["Cache-Control"] = "no-cache"
    return response
