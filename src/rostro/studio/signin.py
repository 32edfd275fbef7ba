"""Sign-in, sign-out and the language switch.

The sign-in form carries its own CSRF token (double-submitted: a cookie and a hidden field)
since no session exists yet. Failed attempts are slowed down per address and per account by
``rostro.studio.throttle`` (kept in the database: every worker and process shares it); a
held-back attempt gets 429 with Retry-After and its password is not checked.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from rostro.studio import accounts, throttle
from rostro.studio.i18n import LANGUAGES, translator
from rostro.studio.web import (
    LANG_COOKIE,
    LOGIN_COOKIE,
    PREFIX,
    SESSION_COOKIE,
    clear_cookie,
    database,
    language,
    local_path,
    open_page,
    redirect,
    render,
    same_origin,
    set_cookie,
)

router = APIRouter(include_in_schema=False)


def _client(request: Request) -> str | None:
    """The client's address: the peer, or what a trusted proxy forwarded (uvicorn replaces
    the peer only for the proxies of ``rostro serve --forwarded-allow-ips``)."""
    return request.client.host if request.client else None


def _login_form(request: Request, status: int = 200, error: str | None = None,
                next_path: str | None = None, has_admin: bool = True) -> Response:
    lang = language(request)
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", lang, status=status, title=_t(lang, "login.title"),
                      login_token=token, next=local_path(next_path), error=error,
                      has_admin=has_admin)
    set_cookie(response, request, LOGIN_COOKIE, token, max_age=3600)
    return response


def _t(lang: str, key: str) -> str:
    return translator(lang)(key)


@router.get(PREFIX)
async def studio_root(request: Request) -> Response:
    page = await open_page(request)
    return redirect(f"{PREFIX}/resources" if page else f"{PREFIX}/login")


@router.get(PREFIX + "/login")
async def login_page(request: Request) -> Response:
    if await open_page(request):
        return redirect(local_path(request.query_params.get("next")))
    has_admin = await run_in_threadpool(accounts.has_admin, database(request))
    return _login_form(request, next_path=request.query_params.get("next"), has_admin=has_admin)


@router.post(PREFIX + "/login")
async def login(request: Request) -> Response:
    form = await request.form()
    lang = language(request)
    sent_next = form.get("next")
    next_path = sent_next if isinstance(sent_next, str) else None
    sent, expected = form.get("csrf"), request.cookies.get(LOGIN_COOKIE, "")
    if (not same_origin(request) or not isinstance(sent, str) or not expected
            or not hmac.compare_digest(sent.encode(), expected.encode())):
        return _login_form(request, 403, _t(lang, "login.expired"), next_path)
    attempt = await run_in_threadpool(throttle.reserve, database(request), _client(request))
    if attempt.retry_after:
        response = _login_form(request, 429, _t(lang, "login.locked"), next_path)
        response.headers["Retry-After"] = str(attempt.retry_after)
        return response
    password = form.get("password")
    signed = (await run_in_threadpool(accounts.sign_in, database(request), password)
              if isinstance(password, str) and password else None)
    if signed is None:
        return _login_form(request, 401, _t(lang, "login.wrong"), next_path)
    await run_in_threadpool(throttle.succeeded, database(request), _client(request), attempt)
    response = redirect(local_path(next_path))
    set_cookie(response, request, SESSION_COOKIE, signed.token, max_age=accounts.SESSION_TTL)
    clear_cookie(response, request, LOGIN_COOKIE)
    return response


@router.post(PREFIX + "/logout")
async def logout(request: Request) -> Response:
    page = await open_page(request)
    if page is None:
        return redirect(f"{PREFIX}/login")
    if await page.form() is None:
        return page.forbidden()
    await run_in_threadpool(accounts.sign_out, database(request),
                            request.cookies.get(SESSION_COOKIE))
    response = redirect(f"{PREFIX}/login")
    clear_cookie(response, request, SESSION_COOKIE)
    return response


@router.get(PREFIX + "/language")
async def set_language(request: Request) -> Response:
    code = request.query_params.get("set", "")
    response = redirect(local_path(request.query_params.get("next")))
    if code in LANGUAGES:
        set_cookie(response, request, LANG_COOKIE, code, max_age=365 * 86400)
    return response
