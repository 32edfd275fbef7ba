"""What every Studio page shares: templates, language, the signed-in session, CSRF checks and
the security headers.

Cookies (path ``/studio``, HttpOnly, SameSite=Strict, Secure when served over https):
``rostro_session`` (the session token), ``rostro_login`` (the sign-in form's own CSRF token,
double-submitted before a session exists) and ``rostro_lang``. Every POST carries the
session's CSRF token in the ``csrf`` field and must come from the Studio's own origin.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from rostro import __version__
from rostro.service.state import service_state
from rostro.store.db import Database
from rostro.store.studio_accounts import SessionInfo
from rostro.studio import accounts
from rostro.studio.i18n import LANGUAGES, catalogue, format_number, pick_language, translator

#: A Studio response of any kind (secure() returns what it was given).
R = TypeVar("R", bound=Response)

PREFIX = "/studio"
SESSION_COOKIE = "rostro_session"
LOGIN_COOKIE = "rostro_login"
LANG_COOKIE = "rostro_lang"
HERE = Path(__file__).parent

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    # Try it shows the photo the operator gave: a local file (blob:) or any http(s) URL.
    "img-src 'self' data: blob: http: https:; connect-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-store",  # pages show keys
    "Referrer-Policy": "same-origin",  # "no-referrer" makes Chromium send Origin: null
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}

templates = Environment(loader=FileSystemLoader(HERE / "templates"),
                        autoescape=select_autoescape(["html"]), trim_blocks=True,
                        lstrip_blocks=True)


def database(request: Request) -> Database:
    return service_state(request).database


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def set_cookie(response: Response, request: Request, name: str, value: str,
               max_age: int | None = None) -> None:
    """Set a Studio cookie: HttpOnly, SameSite=Strict, path /studio, Secure over https."""
    response.set_cookie(name, value, max_age=max_age, path=PREFIX, httponly=True,
                        samesite="strict", secure=is_https(request))


def clear_cookie(response: Response, request: Request, name: str) -> None:
    response.delete_cookie(name, path=PREFIX, httponly=True, samesite="strict",
                           secure=is_https(request))


def secure(response: R) -> R:
    """Add the security headers to a Studio response."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def language(request: Request) -> str:
    return pick_language(request.cookies.get(LANG_COOKIE),
                         request.headers.get("accept-language", ""))


def local_path(target: str | None, default: str = PREFIX + "/resources") -> str:
    """Return ``target`` if it is a path inside the Studio (no open redirects), else
    ``default``."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith(PREFIX) or "\\" in target:
        return default
    return target


def redirect(url: str) -> Response:
    return secure(RedirectResponse(url, status_code=303))


def login_redirect(request: Request) -> Response:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return redirect(f"{PREFIX}/login?next={quote(here, safe='')}")


@dataclass(frozen=True)
class Page:
    """A request from a signed-in operator: its session and language."""

    request: Request
    session: SessionInfo
    lang: str

    @property
    def endpoint(self) -> str:
        """The Face API endpoint as the portal shows it (with its trailing slash)."""
        return str(self.request.base_url)

    def render(self, template: str, status: int = 200, **context) -> HTMLResponse:
        return render(self.request, template, self.lang, status=status,
                      csrf=self.session.csrf_token, signed_in=True, **context)

    async def form(self) -> FormData | None:
        """Return the POSTed form if its CSRF token and origin are right, else None."""
        form = await self.request.form()
        if not same_origin(self.request):
            return None
        sent = form.get("csrf")
        if not isinstance(sent, str) or not hmac.compare_digest(
                sent.encode(), self.session.csrf_token.encode()):
            return None
        return form

    def forbidden(self) -> HTMLResponse:
        return self.render("message.html", status=403, title=self.t("csrf.title"),
                           message=self.t("csrf.message"))

    def t(self, key: str, **values) -> str:
        return translator(self.lang)(key, **values)


def same_origin(request: Request) -> bool:
    """False when the browser says the request came from another origin."""
    origin = request.headers.get("origin")
    if origin is None:  # not sent by every browser; SameSite=Strict still guards the cookie
        return True
    return origin.rstrip("/") == str(request.base_url).rstrip("/")


async def open_page(request: Request) -> Page | None:
    """Return the Page of a signed-in operator, or None (the caller redirects to sign-in).
    A Face API key does not count: only the session cookie does."""
    token = request.cookies.get(SESSION_COOKIE)
    session = await run_in_threadpool(accounts.session_for, database(request), token)
    if session is None:
        return None
    return Page(request, session, language(request))


async def open_form(request: Request) -> tuple[Page, FormData] | Response:
    """For a Studio POST: the operator's Page and the CSRF-checked form, or the Response to
    send instead (the sign-in redirect, or 403 for a missing or wrong CSRF token)."""
    page = await open_page(request)
    if page is None:
        return login_redirect(request)
    form = await page.form()
    if form is None:
        return page.forbidden()
    return page, form


def render(request: Request, template: str, lang: str, status: int = 200,
           **context) -> HTMLResponse:
    """Render ``template`` in ``lang`` with the Studio's common context."""
    translate = translator(lang)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    html = templates.get_template(template).render(
        t=translate, n=lambda value: format_number(value, lang), lang=lang,
        languages=LANGUAGES, here=here, prefix=PREFIX,
        version=__version__, signed_in=context.pop("signed_in", False), **context)
    return secure(HTMLResponse(html, status_code=status))


def script_data(value: object) -> Markup:
    """Return ``value`` as JSON safe to put inside ``<script type="application/json">``."""
    text = json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
    return Markup(text.replace("&", "\\u0026"))


def js_strings(lang: str) -> Markup:
    """The catalogue entries the page scripts use (keys starting with ``js.``)."""
    strings = {key: value for key, value in catalogue(lang).items() if key.startswith("js.")}
    return script_data(strings)


templates.globals["script_data"] = script_data
templates.globals["js_strings"] = js_strings
