"""Resources pages: the list with the create form, a resource's Keys and Endpoint, its
sensitive-attributes switch and Usage, key regeneration and deletion (each behind a
confirmation page).

Everything goes through the same repository functions as ``rostro resources``, ``rostro keys``
and ``rostro usage`` (``rostro.store.resources``, ``rostro.store.usage``); the only Studio
addition is the resource's description (``rostro.store.studio_accounts``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from rostro.store import resources, studio_accounts
from rostro.store.errors import AlreadyExists, InvalidName, NotFound
from rostro.store.history import minute_history
from rostro.store.tiers import TIERS
from rostro.store.usage import usage_report
from rostro.studio.charts import minute_chart
from rostro.studio.i18n import format_percent
from rostro.studio.web import PREFIX, Page, database, login_redirect, open_form, open_page, redirect

# Tiers offered when creating a resource (as in the portal); "unlimited" stays CLI-only.
STUDIO_TIERS = ("F0", "S0")

router = APIRouter(include_in_schema=False)


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def _list_rows(db) -> list[dict]:
    with db.snapshot() as connection:  # a resource deleted meanwhile is in none of the reads
        infos = resources.list_resources(connection)
        notes = studio_accounts.descriptions(connection)
        reports = {info.name: usage_report(connection, info.name) for info in infos}
    return [{
        "name": info.name, "tier": info.tier, "description": notes.get(info.id, ""),
        "calls": reports[info.name].calls_this_month, "quota": reports[info.name].monthly_quota,
        "created": f"{_utc(info.created_at):%Y-%m-%d %H:%M} UTC",
        "created_iso": _utc(info.created_at).isoformat(),
    } for info in infos]


@router.get(PREFIX + "/resources")
async def resources_page(request: Request) -> Response:
    page = await open_page(request)
    if page is None:
        return login_redirect(request)
    rows = await run_in_threadpool(_list_rows, database(request))
    notice = None
    if request.query_params.get("deleted"):
        notice = page.t("resources.deleted", name=request.query_params["deleted"])
    return _render_list(page, rows, notice=notice)


def _render_list(page: Page, rows: list[dict], status: int = 200, error: str | None = None,
                 notice: str | None = None, form: dict | None = None) -> Response:
    form = form or {}
    return page.render(
        "resources.html", status=status, title=page.t("resources.title"), section="resources",
        rows=rows, error=error, notice=notice, tiers=[TIERS[name] for name in STUDIO_TIERS],
        form_name=form.get("name", ""), form_tier=form.get("tier", "F0"),
        form_description=form.get("description", ""))


def _create(db, name: str, tier: str, description: str) -> None:
    with db.transaction() as connection:
        info = resources.create_resource(connection, name, tier)
        studio_accounts.set_description(connection, info.id, description)


@router.post(PREFIX + "/resources")
async def create_resource(request: Request) -> Response:
    opened = await open_form(request)
    if isinstance(opened, Response):
        return opened
    page, form = opened
    values = {name: str(form.get(name, "")).strip() for name in ("name", "tier", "description")}
    error = None
    if values["tier"] not in STUDIO_TIERS:
        error = page.t("resources.bad_tier")
    else:
        try:
            await run_in_threadpool(_create, database(request), values["name"], values["tier"],
                                    values["description"])
        except InvalidName:
            error = page.t("resources.bad_name", name=values["name"])
        except AlreadyExists:
            error = page.t("resources.exists", name=values["name"])
    if error:
        rows = await run_in_threadpool(_list_rows, database(request))
        return _render_list(page, rows, status=400, error=error, form=values)
    return redirect(f"{PREFIX}/resources/{quote(values['name'])}?created=1")


def _resource(db, name: str):
    with db.transaction() as connection:
        info = resources.get_resource(connection, name)
        sensitive = resources.sensitive_attributes_enabled(connection, info.id)
        return info, studio_accounts.descriptions(connection).get(info.id, ""), sensitive


def _usage_context(page: Page, db, name: str) -> dict:
    with db.snapshot() as connection:
        report = usage_report(connection, name)
        info = resources.get_resource(connection, name)
        history = minute_history(connection, info.id)
    hour: dict[str, Any] = {  # counts, then the error rate as shown
        "requests": sum(m.requests for m in history),
        "client_errors": sum(m.client_errors for m in history),
        "throttled": sum(m.throttled for m in history),
        "server_errors": sum(m.server_errors for m in history),
    }
    errors = hour["client_errors"] + hour["throttled"] + hour["server_errors"]
    hour["rate"] = (format_percent(errors / hour["requests"], page.lang) if hour["requests"]
                    else "—")
    chart = minute_chart(history, page.t("usage.chart_title"), page.t("usage.bar"),
                         page.t("usage.axis"))
    rate_used = (report.calls_this_second if report.rate_window == "second"
                 else report.calls_this_minute)
    return {"usage": report, "hour": hour, "chart": chart, "rate_used": rate_used,
            "resets": f"{_utc(report.month_resets_at):%Y-%m-%d %H:%M} UTC"}


def _not_found(page: Page, name: str) -> Response:
    return page.render("message.html", status=404, title=page.t("resources.not_found_title"),
                       message=page.t("resources.not_found", name=name))


@router.get(PREFIX + "/resources/{name}")
async def resource_page(request: Request, name: str) -> Response:
    page = await open_page(request)
    if page is None:
        return login_redirect(request)
    db = database(request)
    try:
        info, description, sensitive = await run_in_threadpool(_resource, db, name)
        usage = await run_in_threadpool(_usage_context, page, db, name)
    except NotFound:
        return _not_found(page, name)
    notice = None
    if request.query_params.get("created"):
        notice = page.t("resources.created", name=name)
    elif request.query_params.get("regenerated"):
        notice = page.t("keys.regenerated", n=request.query_params["regenerated"])
    elif request.query_params.get("sensitive") in ("on", "off"):
        notice = page.t(f"sensitive.changed_{request.query_params['sensitive']}")
    return page.render("resource.html", title=info.name, section="resources", resource=info,
                       description=description, sensitive=sensitive, endpoint=page.endpoint,
                       notice=notice, **usage)


def _set_sensitive(db, name: str, enabled: bool) -> None:
    with db.transaction() as connection:
        resources.set_sensitive_attributes(connection, name, enabled)


@router.post(PREFIX + "/resources/{name}/sensitive")
async def set_sensitive(request: Request, name: str) -> Response:
    """Turn the resource's sensitive attributes (age, gender, emotion) on or off."""
    opened = await open_form(request)
    if isinstance(opened, Response):
        return opened
    page, form = opened
    enabled = str(form.get("enabled", ""))
    if enabled not in ("on", "off"):
        return page.render("message.html", status=400, title=page.t("sensitive.title"),
                           message=page.t("sensitive.hint"))
    try:
        await run_in_threadpool(_set_sensitive, database(request), name, enabled == "on")
    except NotFound:
        return _not_found(page, name)
    return redirect(f"{PREFIX}/resources/{quote(name)}?sensitive={enabled}")


@router.get(PREFIX + "/resources/{name}/usage")
async def usage_fragment(request: Request, name: str) -> Response:
    """The Usage section alone, for the page's periodic refresh."""
    page = await open_page(request)
    if page is None:
        return login_redirect(request)
    try:
        usage = await run_in_threadpool(_usage_context, page, database(request), name)
    except NotFound:
        return _not_found(page, name)
    return page.render("usage.html", **usage)


def _confirm_delete(page: Page, name: str, status: int = 200, error: str | None = None):
    return page.render(
        "confirm.html", status=status, title=page.t("confirm.delete_title", name=name),
        section="resources", message=page.t("confirm.delete_message", name=name),
        action=f"{PREFIX}/resources/{quote(name)}/delete", confirm_name=name, error=error,
        button=page.t("confirm.delete_button"), cancel=f"{PREFIX}/resources/{quote(name)}")


@router.get(PREFIX + "/resources/{name}/delete")
async def delete_page(request: Request, name: str) -> Response:
    page = await open_page(request)
    if page is None:
        return login_redirect(request)
    try:
        await run_in_threadpool(_resource, database(request), name)
    except NotFound:
        return _not_found(page, name)
    return _confirm_delete(page, name)


def _delete(db, name: str) -> None:
    with db.transaction() as connection:
        resources.delete_resource(connection, name)


@router.post(PREFIX + "/resources/{name}/delete")
async def delete_resource(request: Request, name: str) -> Response:
    opened = await open_form(request)
    if isinstance(opened, Response):
        return opened
    page, form = opened
    if str(form.get("confirm", "")).strip() != name:
        return _confirm_delete(page, name, 400, page.t("confirm.mismatch"))
    try:
        await run_in_threadpool(_delete, database(request), name)
    except NotFound:
        return _not_found(page, name)
    return redirect(f"{PREFIX}/resources?deleted={quote(name)}")


def _slot(value: str) -> int | None:
    return int(value) if value in ("1", "2") else None


@router.get(PREFIX + "/resources/{name}/keys/{slot}/regenerate")
async def regenerate_page(request: Request, name: str, slot: str) -> Response:
    page = await open_page(request)
    if page is None:
        return login_redirect(request)
    number = _slot(slot)
    if number is None:
        return _not_found(page, name)
    other = 2 if number == 1 else 1
    return page.render(
        "confirm.html", title=page.t("confirm.regenerate_title", n=number), section="resources",
        message=page.t("confirm.regenerate_message", n=number, other=other, name=name),
        action=f"{PREFIX}/resources/{quote(name)}/keys/{number}/regenerate",
        button=page.t("keys.regenerate", n=number), cancel=f"{PREFIX}/resources/{quote(name)}")


def _regenerate(db, name: str, slot: int) -> None:
    with db.transaction() as connection:
        resources.regenerate_key(connection, name, slot)


@router.post(PREFIX + "/resources/{name}/keys/{slot}/regenerate")
async def regenerate_key(request: Request, name: str, slot: str) -> Response:
    opened = await open_form(request)
    if isinstance(opened, Response):
        return opened
    page, form = opened
    number = _slot(slot)
    if number is None:
        return _not_found(page, name)
    try:
        await run_in_threadpool(_regenerate, database(request), name, number)
    except NotFound:
        return _not_found(page, name)
    return redirect(f"{PREFIX}/resources/{quote(name)}?regenerated={number}")
