"""Checks on the Studio's sources that need no server: every label exists in English and
Spanish, every key the templates, scripts and pages use is in the catalogue, nothing is loaded
from outside the Studio, and the password hashing and usage history behave."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import rostro.studio
from rostro.studio.i18n import EN, ES, format_number, format_percent, pick_language, translator

STUDIO = Path(rostro.studio.__file__).parent
TEMPLATES = sorted((STUDIO / "templates").glob("*.html"))
SCRIPTS = sorted((STUDIO / "static").glob("*.js"))
PAGES = sorted(STUDIO.glob("*.py"))
# Keys built at run time from a prefix and a value (tiers, group kinds, windows, states).
DYNAMIC = {
    "tier.": ("F0", "S0"),
    "people.kind_": ("persongroups", "largepersongroups"),
    "usage.per_": ("minute", "second"),
    "js.training_": ("notstarted", "running", "succeeded", "failed"),
}


def used_keys() -> set[str]:
    keys = set()
    for path in TEMPLATES + PAGES:
        text = path.read_text(encoding="utf-8")
        keys |= set(re.findall(r"\bt\(\s*[\"']([a-z0-9_]+\.[a-z0-9_.]+)[\"']", text))
    for path in SCRIPTS:
        keys |= set(re.findall(r"[\"'](js\.[a-z0-9_]+)[\"']", path.read_text(encoding="utf-8")))
    keys -= set(DYNAMIC)  # the prefixes themselves, as written in "people.kind_" ~ kind
    for prefix, values in DYNAMIC.items():
        keys |= {prefix + value for value in values}
    return keys


def test_both_languages_have_the_same_labels():
    assert set(EN) == set(ES)
    for key in EN:  # the same placeholders, in whatever order the language needs
        assert set(re.findall(r"{(\w+)}", EN[key])) == set(re.findall(r"{(\w+)}", ES[key])), key


def test_every_label_in_use_is_translated():
    missing = sorted(key for key in used_keys() if key not in EN)
    assert not missing, missing
    assert len(used_keys()) > 150


def test_spanish_labels_are_not_left_in_english():
    same = [key for key in EN if EN[key] == ES[key] and not re.fullmatch(r"[\W\d{}A-Z0-9]*", EN[key])
            and key not in ("app.name",)]
    assert not same, same


def test_no_external_resources_in_templates_and_scripts():
    for path in TEMPLATES + SCRIPTS + sorted((STUDIO / "static").glob("*.css")):
        text = path.read_text(encoding="utf-8")
        urls = re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s\"')]*", text)
        urls = [u for u in urls if "www.w3.org/2000/svg" not in u]
        assert not urls, (path.name, urls)
        assert "@import" not in text and "fonts.googleapis" not in text


def test_templates_have_no_inline_scripts_or_styles():
    """The Content-Security-Policy allows scripts and styles from the Studio only."""
    for path in TEMPLATES:
        text = path.read_text(encoding="utf-8")
        inline = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", text)
        assert not inline, (path.name, inline)
        assert " style=" not in text and "<style" not in text and " on" + "click=" not in text


def test_translator_and_language_choice():
    t = translator("es")
    assert t("keys.key", n=2) == "CLAVE 2"
    assert translator("fr")("nav.try") == "Try it"
    assert pick_language(None, "es-ES,es;q=0.9,en;q=0.8") == "es"
    assert pick_language("en", "es-ES") == "en"
    assert pick_language(None, "de-DE") == "en"
    assert format_number(30000, "en") == "30,000"
    assert format_number(30000, "es") == "30\u00a0000"
    assert format_percent(0.125, "en") == "12.5\u00a0%"
    assert format_percent(0.125, "es") == "12,5\u00a0%"


def test_password_hashes_are_salted_scrypt():
    from rostro.studio.accounts import hash_password, verify_password

    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first != second and first.startswith("scrypt$16384$8$1$")
    assert verify_password("correct horse", first) and verify_password("correct horse", second)
    assert not verify_password("wrong horse", first)
    assert not verify_password("correct horse", "garbage")


def test_minute_history_keeps_an_hour(tmp_path):
    from rostro.store import resources
    from rostro.store.db import open_database
    from rostro.store.history import minute_history, record_error
    from rostro.store.usage import record_calls

    database = open_database(tmp_path / "rostro.db")
    now = 1_800_000_000.0 - 1_800_000_000.0 % 60 + 30
    with database.transaction() as connection:
        info = resources.create_resource(connection, "history", "F0", now=now)
        for minutes_ago in (0, 5, 59, 61):
            record_calls(connection, info.id, 3, now=now - 60 * minutes_ago)
        record_calls(connection, info.id, 1, now=now)  # the current minute again: kept
        record_error(connection, info.id, 400, now=now - 300)
        record_error(connection, info.id, 429, refused=True, now=now)
        record_error(connection, info.id, 503, now=now)
        record_error(connection, info.id, 200, now=now)  # a success: not an error
        history = minute_history(connection, info.id, now=now)
    database.close()
    assert len(history) == 60 and history[-1].start == int(now) - 30
    by_age = {round((history[-1].start - m.start) / 60): m for m in history}
    assert by_age[0].calls == 4 and by_age[5].calls == 3 and by_age[59].calls == 3
    assert sum(m.calls for m in history) == 10  # 61 minutes ago is outside the hour
    assert by_age[5].client_errors == 1
    assert by_age[0].throttled == 1 and by_age[0].server_errors == 1
    assert by_age[0].requests == 5 and by_age[0].errors == 2


@pytest.mark.parametrize("target, expected", [
    ("/studio/try", "/studio/try"), ("https://evil.example/studio", "/studio/resources"),
    ("//evil.example/studio", "/studio/resources"), ("/docs", "/studio/resources"),
    ("/studio\\..\\x", "/studio/resources"), (None, "/studio/resources"),
])
def test_sign_in_redirects_stay_inside_the_studio(target, expected):
    from rostro.studio.web import local_path

    assert local_path(target) == expected


@pytest.mark.parametrize("scheme, secure", [("http", False), ("https", True)])
def test_cookies_are_secure_over_https(scheme, secure):
    from starlette.requests import Request
    from starlette.responses import Response

    from rostro.studio.web import set_cookie

    request = Request({"type": "http", "scheme": scheme, "method": "GET", "path": "/studio",
                       "headers": [], "server": ("127.0.0.1", 443), "query_string": b""})
    response = Response()
    set_cookie(response, request, "rostro_session", "token")
    header = response.headers["set-cookie"]
    assert "HttpOnly" in header and "SameSite=strict" in header and "Path=/studio" in header
    assert ("Secure" in header) is secure


def test_catalogue_keys_are_written_once():
    """A repeated key in a dict literal silently keeps the last value."""
    import ast

    tree = ast.parse((STUDIO / "i18n.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict) and len(node.keys) > 20:
            keys = [key.value for key in node.keys if isinstance(key, ast.Constant)]
            assert len(keys) == len(set(keys)), sorted({k for k in keys if keys.count(k) > 1})
