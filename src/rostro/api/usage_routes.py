"""``GET /rostro/v1.0/usage``: the calling resource's balance (Rostro's own endpoint).

Authenticated with the same key header as the Face operations; not counted as a call.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from rostro.api.auth import authenticate
from rostro.service.state import service_state
from rostro.store.resources import ResourceRef
from rostro.store.usage import usage_report

router = APIRouter()

EXAMPLE = {
    "resource": "default", "tier": "F0",
    "rateLimit": {"calls": 20, "per": "minute", "remaining": 17},
    "callsThisSecond": 1, "callsThisMinute": 3, "callsThisMonth": 1250,
    "monthlyQuota": 30000, "monthRemaining": 28750, "monthResetsAt": "2026-07-01T00:00:00Z",
}


@router.get(
    "/rostro/v1.0/usage", name="Usage", operation_id="Rostro_Usage", tags=["Rostro"],
    summary="Calls this second, minute and month of the key's resource, its limits and what "
            "remains",
    responses={200: {"content": {"application/json": {"example": EXAMPLE}}}},
)
async def get_usage(request: Request, resource: ResourceRef = Depends(authenticate)) -> JSONResponse:
    database = service_state(request).database

    def report():
        with database.transaction() as connection:
            return usage_report(connection, resource.name)

    return JSONResponse((await run_in_threadpool(report)).as_json())
