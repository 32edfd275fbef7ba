"""The edge of the service, in front of routing: path normalisation, request ids, and the
guarantee that a client never sees a stack trace.

- Paths: ``//`` collapses to ``/``, a trailing ``/`` is dropped, and the literal segments of
  known routes (``face``, ``v1.0``, ``detect``, ``persistedfaces``...) match in any case.
  Parameter segments (ids) are left as sent.
- Every response carries ``apim-request-id`` (as Azure's do); an unhandled error is logged
  with that id and answered ``500 {"error": {...}}``.
"""

from __future__ import annotations

import logging
import re
import uuid
from urllib.parse import quote

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rostro.api import versions
from rostro.api.errors import REQUEST_ID_HEADER, internal_error

log = logging.getLogger(__name__)

_SLASHES = re.compile(r"/{2,}")


def literal_segments(app) -> frozenset[str]:
    """Return the lowercased fixed segments of the application's path templates (its
    top-level routes and every operation of its OpenAPI document, included routers too)."""
    paths = [getattr(route, "path", "") or "" for route in app.routes]
    paths += list(app.openapi().get("paths", {}))
    literals = {part.lower() for path in paths for part in path.split("/")
                if part and not part.startswith("{")}
    return frozenset(literals | {version.lower() for version in versions.ALL})


def normalize_path(path: str, literals: frozenset[str]) -> str:
    """Collapse repeated slashes, drop a trailing slash, and in Face API paths (``/face/...``,
    ``/rostro/...``) lowercase known literal segments. Other paths (the Studio's pages, whose
    segments include user-chosen names) keep their case."""
    path = _SLASHES.sub("/", path)
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    if not path.lower().startswith(_API_PREFIXES):
        return path
    parts = [part.lower() if part.lower() in literals else part for part in path.split("/")]
    return "/".join(parts)


_API_PREFIXES = ("/face/", "/rostro/")


class EdgeMiddleware:
    """Pure ASGI middleware; ``routes_of`` is the application whose routes define the
    literal segments (read on the first request, after every router is included)."""

    def __init__(self, app: ASGIApp, routes_of) -> None:
        self.app = app
        self.routes_of = routes_of
        self._literals: frozenset[str] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._literals is None:
            self._literals = literal_segments(self.routes_of)
        path = normalize_path(scope["path"], self._literals)
        scope = dict(scope, path=path, raw_path=quote(path).encode("ascii"))
        request_id = str(uuid.uuid4())
        scope.setdefault("state", {})
        scope["state"]["request_id"] = request_id
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("request %s (%s %s) failed", request_id, scope.get("method"), path)
            if started:
                raise
            response = internal_error(request_id).response(Request(scope))
            response.headers[REQUEST_ID_HEADER] = request_id
            await response(scope, receive, send)
