"""Counting error answers per resource, for the Studio's usage page (error rates).

A pure ASGI middleware: it watches the status of each response and, when it is an error
(4xx/5xx) and the request carried a known key (``request.state.resource``, set by
``rostro.api.auth``, with ``request.state.refused`` when the tier refused the call), counts it
in ``rostro.store.history``. Successful answers cost nothing
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
        status = 500  # what the client gets if the application raises

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            state = scope.get("state", {})
            resource, refused = state.get("resource"), bool(state.get("refused"))
            if resource is not None and error_class(status, refused) is not None:
                service = getattr(scope["app"].state, "service", None)
                if service is not None:
                    await run_in_threadpool(_record, service.database, resource.id, status,
                                            refused)
