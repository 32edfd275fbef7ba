"""All Studio routes, under ``/studio`` (listed in ``rostro.server.ROUTERS``; none of them
appears in the Face API's OpenAPI document)."""

from __future__ import annotations

from fastapi import APIRouter

from rostro.studio import assets, resource_pages, signin, tools

router = APIRouter(include_in_schema=False)
for module in (signin, resource_pages, tools, assets):
    router.include_router(module.router)
