"""Counting error answers per resource, for the Studio's usage page (error rates).

A pure ASGI middleware: it watches the status of each response and, when it is an error
(4xx/5xx) and the request carried a known key (``request.state.resource``, set by
``rostro.api.auth``, with ``request.state.refused`` when the tier refused the call), counts it
in ``rostro.store.history`` before the answer's first byte leaves. Successful answers cost nothing
here: admitted calls are already counted by the tier check.
"""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rostro.store.history import error_class, record_error

log = logging.getLogger(__name__)


def _record(database, resource_id: int, status: int, refused: bool) -> None:
    try:
        with database.transaction() as connection:
            record_error(connection, resource_id, status, refused)
    except Exception:  # statistics must never turn an answer into a failure
        log.exception("could not count a %d answer for resource %d", status, resource_id)


class OutcomeMiddleware:
    """Counts error answers of requests made with a valid key."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        recorded = started = False

        async def count(status: int) -> None:
            nonlocal recorded
            state = scope.get("state", {})
            resource, refused = state.get("resource"), bool(state.get("refused"))
            if recorded or resource is None or error_class(status, refused) is None:
                return
            recorded = True
            service = getattr(scope["app"].state, "service", None)
            if service is not None:
                await run_in_threadpool(_record, service.database, resource.id, status, refused)

        async def watch(message: Message) -> None:
            # Counted before the answer leaves: a client that reads the usage page right after
            # its error sees it counted (after the answer, a busy machine raced the reader).
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                await count(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except BaseException:
            if not started:
                await count(500)  # what the client gets when the application raises
            raise
