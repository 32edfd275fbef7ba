"""Try it and People: pages whose scripts call the Face API itself with the chosen resource's
key 1, so they take exactly the path any client takes (auth, tier limits, usage counting,
validation, errors). The server renders the page, its labels and the resource's key; the
photo goes from the browser straight to the API.
"""

from __future__ import annotations

import re

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from rostro.api.detect import MODEL_ATTRIBUTES, RECOGNITION_MODELS, engine_attributes
from rostro.store import resources as store_resources
from rostro.studio.web import PREFIX, database, login_redirect, open_page

GROUP_KINDS = ("persongroups", "largepersongroups")
PAGE_SIZE = 50  # persons per page: a group of thousands stays quick to show
_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")

router = APIRouter(include_in_schema=False)


def _resources(db) -> list[store_resources.ResourceInfo]:
    with db.transaction() as connection:
        return store_resources.list_resources(connection)


def _selected(resources: list, name: str | None):
    return next((r for r in resources if r.name == name), resources[0] if resources else None)


@router.get(PREFIX + "/try")
async def try_page(request: Request) -> Response:
    page = await open_page(request)
    if page is None:
        return login_redirect(request)
    resources = await run_in_threadpool(_resources, database(request))
    selected = _selected(resources, request.query_params.get("resource"))
    return page.render(
        "try.html", title=page.t("try.title"), section="try", resources=resources,
        selected=selected.name if selected else None, endpoint=page.endpoint,
        attributes=MODEL_ATTRIBUTES["detection_01"], supported=engine_attributes())


def _identifier(value: str | None) -> str:
    return value if value and _ID.match(value) else ""


@router.get(PREFIX + "/people")
async def people_page(request: Request) -> Response:
    page = await open_page(request)
    if page is None:
        return login_redirect(request)
    params = request.query_params
    resources = await run_in_threadpool(_resources, database(request))
    selected = _selected(resources, params.get("resource"))
    kind = params.get("kind") if params.get("kind") in GROUP_KINDS else ""
    group = _identifier(params.get("group")) if kind else ""
    person = _identifier(params.get("person")) if group else ""
    view = "person" if person else "group" if group else "groups"
    page_number = params.get("page", "1")
    return page.render(
        "people.html", title=page.t("people.title"), section="people", resources=resources,
        selected=selected, endpoint=page.endpoint, view=view, kind=kind, group=group,
        person=person, start=_identifier(params.get("start")),
        page=int(page_number) if page_number.isdigit() else 1, page_size=PAGE_SIZE,
        kinds=GROUP_KINDS, recognition_models=RECOGNITION_MODELS)
