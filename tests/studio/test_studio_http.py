"""The Studio's sign-in and its guards, over plain HTTP against a real `rostro serve`:
cookies, CSRF, the separation of Face API keys and Studio sessions, the admin password
command, and the usage history (calls per minute, error answers)."""

from __future__ import annotations

import json
import re
from http.cookies import SimpleCookie

import pytest
import requests
from studio_server import csrf_of
from studio_server import login as _login


def _cookies(response: requests.Response) -> dict[str, dict[str, str]]:
    """Return each Set-Cookie of ``response`` as {name: {attribute: value}}."""
    found = {}
    for header in response.raw.headers.getlist("set-cookie"):
        jar = SimpleCookie()
        jar.load(header)
        for name, morsel in jar.items():
            flags = {k: v for k, v in morsel.items() if v}
            for flag in ("httponly", "secure"):
                flags[flag] = flag in header.lower()
            found[name] = flags
    return found


def test_first_start_prints_a_password_that_signs_in(studio_server):
    session, answer = _login(studio_server, studio_server.password)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/studio/resources"
    page = session.get(studio_server.base + "/studio/resources", timeout=30)
    assert page.status_code == 200 and "default" in page.text
    # The password is printed once: a restart does not print a new one.
    assert studio_server.log.read_text().count("admin password:") == 1


def test_session_cookie_is_httponly_strict_and_scoped(studio_server):
    _, answer = _login(studio_server, studio_server.password)
    cookie = _cookies(answer)["rostro_session"]
    assert cookie["httponly"] and cookie["samesite"].lower() == "strict"
    assert cookie["path"] == "/studio"
    assert not cookie["secure"]  # plain http on loopback; Secure is set when served over https


def test_pages_carry_security_headers(studio_session, studio_server):
    answer = studio_session.get(studio_server.base + "/studio/resources", timeout=30)
    policy = answer.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["x-frame-options"] == "DENY"


def test_wrong_password_is_refused(studio_server):
    session, answer = _login(studio_server, "not-the-password")
    assert answer.status_code == 401
    assert "rostro_session" not in session.cookies
    assert session.get(studio_server.base + "/studio/resources", allow_redirects=False,
                       timeout=30).status_code == 303


def test_login_form_needs_its_csrf_token(studio_server):
    session = requests.Session()
    session.get(studio_server.base + "/studio/login", timeout=30)
    answer = session.post(studio_server.base + "/studio/login", allow_redirects=False,
                          data={"csrf": "forged", "password": studio_server.password}, timeout=30)
    assert answer.status_code == 403 and "rostro_session" not in session.cookies


def test_next_only_redirects_inside_the_studio(studio_server):
    for target in ("https://example.org/", "//example.org/studio", "/docs"):
        _, answer = _login(studio_server, studio_server.password, next_path=target)
        assert answer.headers["location"] == "/studio/resources", target
    _, answer = _login(studio_server, studio_server.password, next_path="/studio/try")
    assert answer.headers["location"] == "/studio/try"


def test_forms_need_the_session_csrf_token(studio_session, studio_server):
    url = studio_server.base + "/studio/resources"
    for data, headers in (({"name": "forged1", "tier": "F0"}, {}),
                          ({"name": "forged2", "tier": "F0", "csrf": "wrong"}, {})):
        answer = studio_session.post(url, data=data, headers=headers, allow_redirects=False,
                                     timeout=30)
        assert answer.status_code == 403
    token = csrf_of(studio_session.get(url, timeout=30).text)
    cross = studio_session.post(url, data={"name": "forged3", "tier": "F0", "csrf": token},
                                headers={"Origin": "http://evil.example"}, allow_redirects=False,
                                timeout=30)
    assert cross.status_code == 403
    listing = studio_session.get(url, timeout=30).text
    assert "forged1" not in listing and "forged3" not in listing


def test_face_api_key_does_not_open_the_studio(studio_server):
    answer = requests.get(studio_server.base + "/studio/resources", allow_redirects=False,
                          headers={"Ocp-Apim-Subscription-Key": studio_server.key}, timeout=30)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/studio/login")
    answer = requests.get(studio_server.base + "/studio/resources?subscription-key="
                          + studio_server.key, allow_redirects=False, timeout=30)
    assert answer.status_code == 303


def test_studio_session_does_not_open_the_face_api(studio_session, studio_server):
    cookie = studio_session.cookies.get("rostro_session")
    answer = requests.post(studio_server.base + "/face/v1.0/detect", json={"url": "x"},
                           headers={"Cookie": f"rostro_session={cookie}"}, timeout=30)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "401"


def test_studio_is_not_in_the_openapi_document(studio_server):
    paths = requests.get(studio_server.endpoint + "openapi.json", timeout=30).json()["paths"]
    assert not [path for path in paths if path.startswith("/studio")]


def test_create_and_delete_resource_with_confirmation(studio_session, studio_server):
    base = studio_server.base + "/studio/resources"
    token = csrf_of(studio_session.get(base, timeout=30).text)
    created = studio_session.post(base, allow_redirects=False, timeout=30, data={
        "csrf": token, "name": "to-delete", "tier": "S0", "description": "temporary"})
    assert created.status_code == 303
    page = studio_session.get(base + "/to-delete", timeout=30).text
    assert "temporary" in page and "S0" in page
    refused = studio_session.post(base + "/to-delete/delete", allow_redirects=False, timeout=30,
                                  data={"csrf": token, "confirm": "wrong-name"})
    assert refused.status_code == 400
    assert "to-delete" in studio_server.cli("resources", "list").stdout
    deleted = studio_session.post(base + "/to-delete/delete", allow_redirects=False, timeout=30,
                                  data={"csrf": token, "confirm": "to-delete"})
    assert deleted.status_code == 303
    assert "to-delete" not in studio_server.cli("resources", "list").stdout


def test_bad_resource_names_are_explained(studio_session, studio_server):
    base = studio_server.base + "/studio/resources"
    token = csrf_of(studio_session.get(base, timeout=30).text)
    for name, message in (("no spaces", "not a valid name"), ("default", "already exists")):
        answer = studio_session.post(base, data={"csrf": token, "name": name, "tier": "F0"},
                                     timeout=30)
        assert answer.status_code == 400 and message in answer.text
    answer = studio_session.post(base, data={"csrf": token, "name": "x-unlimited",
                                             "tier": "unlimited"}, timeout=30)
    assert answer.status_code == 400  # the Studio offers the portal's tiers only


def test_regenerate_key_keeps_the_other_key(studio_session, studio_server):
    studio_server.cli("resources", "create", "rotate", "--tier", "S0")
    old1, old2 = re.findall(r"KEY \d: (\w+)", studio_server.cli("keys", "show", "rotate").stdout)
    url = studio_server.base + "/studio/resources/rotate/keys/1/regenerate"
    confirm = studio_session.get(url, timeout=30)
    assert confirm.status_code == 200 and "Key 2 keeps working" in confirm.text
    answer = studio_session.post(url, data={"csrf": csrf_of(confirm.text)},
                                 allow_redirects=False, timeout=30)
    assert answer.status_code == 303
    new1, new2 = re.findall(r"KEY \d: (\w+)", studio_server.cli("keys", "show", "rotate").stdout)
    assert new1 != old1 and new2 == old2


def test_sensitive_attributes_switch(studio_session, studio_server):
    """The resource page turns age, gender and emotion off and on (same setting as the CLI)."""
    studio_server.cli("resources", "create", "guarded", "--tier", "S0")
    url = studio_server.base + "/studio/resources/guarded"
    page = studio_session.get(url, timeout=30).text
    assert "Sensitive attributes" in page and "On: age, gender and emotion are answered." in page
    answer = studio_session.post(url + "/sensitive", allow_redirects=False, timeout=30,
                                 data={"csrf": csrf_of(page), "enabled": "off"})
    assert answer.status_code == 303
    listed = json.loads(studio_server.cli("resources", "list", "--json").stdout)
    assert {"name": "guarded", "tier": "S0", "sensitiveAttributes": False} in listed
    page = studio_session.get(studio_server.base + answer.headers["location"], timeout=30).text
    assert "Sensitive attributes are off." in page and "Turn on" in page
    refused = studio_session.post(url + "/sensitive", allow_redirects=False, timeout=30,
                                  data={"enabled": "on"})  # no CSRF token
    assert refused.status_code == 403
    studio_session.post(url + "/sensitive", timeout=30,
                        data={"csrf": csrf_of(page), "enabled": "on"})
    listed = json.loads(studio_server.cli("resources", "list", "--json").stdout)
    assert {"name": "guarded", "tier": "S0", "sensitiveAttributes": True} in listed


def test_usage_shows_calls_per_minute_and_error_rates(studio_session, studio_server):
    studio_server.cli("resources", "create", "metered", "--tier", "F0")
    key = studio_server.cli("keys", "show", "metered", "--key", "1").stdout.strip()
    detect = studio_server.base + "/face/v1.0/detect"
    headers = {"Ocp-Apim-Subscription-Key": key}
    assert requests.post(detect, headers=headers, json={}, timeout=30).status_code == 400
    assert requests.post(detect + "?returnFaceAttributes=nose", headers=headers,
                         json={"url": "http://127.0.0.1/x.jpg"}, timeout=30).status_code == 400
    fragment = studio_session.get(studio_server.base + "/studio/resources/metered/usage",
                                  timeout=30).text
    assert re.search(r'id="calls-month">2<', fragment)
    assert re.search(r'id="hour-requests">2<', fragment)
    assert re.search(r'id="error-rate">100\.0\u00a0%<', fragment)
    bars = re.findall(r'<rect class="calls"', fragment)
    errors = re.findall(r'<rect class="errors"', fragment)
    assert len(errors) == 1 and not bars  # one minute with 2 calls, both with errors


def test_throttled_calls_count_as_refused(studio_session, studio_server):
    studio_server.cli("resources", "create", "busy", "--tier", "F0")
    key = studio_server.cli("keys", "show", "busy", "--key", "1").stdout.strip()
    statuses = [requests.post(studio_server.base + "/face/v1.0/detect", json={},
                              headers={"Ocp-Apim-Subscription-Key": key}, timeout=30).status_code
                for _ in range(22)]
    if 429 not in statuses:
        pytest.skip("the minute turned over during the burst")
    fragment = studio_session.get(studio_server.base + "/studio/resources/busy/usage",
                                  timeout=30).text
    refused = statuses.count(429)
    row = re.search(r'id="hour-requests">(\d+)</td><td class="num">(\d+)</td>\s*'
                    r'<td class="num">(\d+)</td>', fragment)
    assert row and int(row.group(1)) == 22 and int(row.group(3)) == refused


def test_admin_password_command_changes_it_and_ends_sessions(studio_server):
    session, answer = _login(studio_server, studio_server.password)
    assert answer.status_code == 303
    try:
        studio_server.cli("admin", "password", "--stdin", input="a-new-password-123\n")
        assert session.get(studio_server.base + "/studio/resources", allow_redirects=False,
                           timeout=30).status_code == 303  # signed out
        assert _login(studio_server, studio_server.password)[1].status_code == 401
        assert _login(studio_server, "a-new-password-123")[1].status_code == 303
    finally:
        studio_server.cli("admin", "password", "--stdin", input=studio_server.password + "\n")


def test_admin_password_refuses_short_passwords(studio_server):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "rostro.cli", "admin", "password", "--stdin"],
                            input="short\n", env=studio_server.env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0 and "at least 8" in result.stderr


def test_repeated_failures_lock_sign_in_for_a_while(studio_server):
    """Kept last in this module: it locks sign-in from 127.0.0.1 for a minute."""
    statuses = [_login(studio_server, f"guess-{attempt}")[1].status_code for attempt in range(6)]
    assert statuses[-1] == 429 and 401 in statuses
    locked = _login(studio_server, studio_server.password)[1]
    assert locked.status_code == 429 and "Too many failed attempts" in locked.text

