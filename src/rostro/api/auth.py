"""Subscription keys and tier limits, as FastAPI dependencies.

``authorize`` is for Face operations: it finds the resource whose key was sent, then counts
the call against the resource's tier (429 with Retry-After over the rate, 403 when the month's
quota is used), both in one database transaction. ``authenticate`` only identifies the
resource (used by endpoints that are not Face calls, such as usage).
"""

from __future__ import annotations

from fastapi import Request, Security
from fastapi.security import APIKeyHeader
from starlette.concurrency import run_in_threadpool

from rostro.api.errors import invalid_key, missing_key, quota_exceeded, rate_limited
from rostro.service.state import service_state
from rostro.store import resources, usage
from rostro.store.resources import ResourceRef

KEY_HEADER = "Ocp-Apim-Subscription-Key"
KEY_QUERY = "subscription-key"  # API Management also accepts the key in the query string

key_header = APIKeyHeader(name=KEY_HEADER, auto_error=False,
                          description="Key 1 or key 2 of the resource (`rostro keys show NAME`).")


def _presented_key(request: Request, header_value: str | None) -> str:
    key = header_value or request.query_params.get(KEY_QUERY)
    if not key:
        raise missing_key()
    return key


def _operation(request: Request) -> str:
    route = request.scope.get("route")
    return getattr(route, "name", None) or "Face"


async def authorize(request: Request, key: str | None = Security(key_header)) -> ResourceRef:
    """Identify the resource and count one call; raise the Azure 401/403/429 errors."""
    presented = _presented_key(request, key)
    database = service_state(request).database

    def check():
        with database.transaction() as connection:
            resource = resources.authenticate(connection, presented)
            return resource, (usage.admit(connection, resource) if resource else None)

    resource, admission = await run_in_threadpool(check)
    if resource is None:
        raise invalid_key()
    request.state.resource = resource  # set before refusing: refusals count as errors too
    if not admission.allowed:
        request.state.refused = admission.reason
        if admission.reason == "quota":
            raise quota_exceeded(admission.tier.name, admission.retry_after)
        raise rate_limited(_operation(request), admission.tier.name, admission.retry_after)
    return resource


async def authenticate(request: Request, key: str | None = Security(key_header)) -> ResourceRef:
    """Identify the resource without counting a call; 401 when the key is missing or wrong."""
    presented = _presented_key(request, key)
    database = service_state(request).database

    def check():
        with database.transaction() as connection:
            return resources.authenticate(connection, presented)

    resource = await run_in_threadpool(check)
    if resource is None:
        raise invalid_key()
    request.state.resource = resource
    return resource
