"""Named console operators and the audit log, on both databases: argon2 passwords, TOTP, roles enforced by
the server (a viewer cannot act even by posting the form), every write named in the audit log and events."""

import csv
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pyotp

from tests.support import Api, assert_error

PASSWORD = "correct horse battery"


def operator(api: Api, login: str, role: str, totp: bool = False) -> dict[str, Any]:
    r = api.post("/operators", {"login": login, "name": login.title(), "role": role, "password": PASSWORD,
                                "totp": totp})
    assert r.status_code == 201, r.text
    return dict(r.json())


@contextmanager
def console_as(base_url: str, login: str, password: str = PASSWORD, code: str = "") -> Iterator[httpx.Client]:
    """A browser-like client signed in through the form (its CSRF token and cookie); header x-signed-in says
    whether the sign-in was accepted."""
    with httpx.Client(base_url=base_url, follow_redirects=False, timeout=10) as web:
        form = web.get("/console/login")
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert token is not None
        r = web.post("/console/login", data={"user_id": login, "api_key": password, "code": code,
                                             "csrf": token.group(1)})
        web.headers["x-signed-in"] = "yes" if r.status_code == 303 else "no"
        yield web


def csrf_of(web: httpx.Client, path: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', web.get(path).text)
    assert found is not None
    return found.group(1)


def test_accounts_are_checked_and_never_show_a_password(api: Api) -> None:
    made = operator(api, f"ops-{api.user_id[:6]}", "operator", totp=True)
    assert made["totp"] and made["totp_uri"].startswith("otpauth://totp/") and "password" not in made
    shown = api.get(f"/operators/{made['id']}").json()
    assert "totp_uri" not in shown and "password_hash" not in shown
    assert_error(api.post("/operators", {"login": "shorty", "name": "S", "password": "short"}), 400, "password")
    assert_error(api.post("/operators", {"login": made["login"], "name": "Again", "password": PASSWORD}), 409,
                 "login")
    assert_error(api.post("/operators", {"login": "0" * 32, "name": "Id", "password": PASSWORD}), 400, "login")
    assert_error(api.patch(f"/operators/{made['id']}", {"role": "root"}), 400, "role")


def test_a_viewer_can_look_but_not_act(api: Api) -> None:
    g = api.make_group("Viewer test")
    viewer = operator(api, f"view-{api.user_id[:6]}", "viewer")
    with console_as(api.base_url, viewer["login"]) as web:
        assert web.headers["x-signed-in"] == "yes"
        page = web.get(f"/console/groups/{g['id']}").text
        assert "you can look, not act" in page and 'id="slate-on"' not in page
        token = csrf_of(web, f"/console/groups/{g['id']}")
        refused = web.post(f"/console/groups/{g['id']}/act", data={"action": "slate_on", "csrf": token})
        assert refused.status_code == 403 and "Your role is viewer" in refused.text
        assert web.get(f"/console/groups/{g['id']}/confirm", params={"action": "slate_on"}).status_code == 403
    assert api.group(g["id"])["active_slicer_id"] != "no_slicer"  # nothing happened
    assert api.get("/audit", params={"who": viewer["login"]}).json()["items"] == []


def test_the_audit_log_names_the_operator_who_pressed_slate(api: Api) -> None:
    g = api.make_group("Slate test")
    made = operator(api, f"alice-{api.user_id[:6]}", "operator", totp=True)
    secret = parse_qs(urlsplit(made["totp_uri"]).query)["secret"][0]
    with console_as(api.base_url, made["login"], code="000000") as wrong:
        assert wrong.headers["x-signed-in"] == "no"  # the second factor is required
    with console_as(api.base_url, made["login"], code=pyotp.TOTP(secret).now()) as web:
        assert web.headers["x-signed-in"] == "yes"
        token = csrf_of(web, f"/console/groups/{g['id']}")
        done = web.post(f"/console/groups/{g['id']}/act", data={"action": "slate_on", "csrf": token})
        assert done.status_code == 303
    assert api.group(g["id"])["active_slicer_id"] == "no_slicer"
    name = f"{made['name']} ({made['login']})"
    entries = api.get("/audit", params={"who": made["login"]}).json()["items"]
    assert [(e["actor_kind"], e["actor_name"]) for e in entries] == [("operator", name)]
    assert "slate_on" in entries[0]["action"] and g["id"] in entries[0]["action"]
    reasons = [e["reason"] for e in api.get(f"/failover-groups/{g['id']}/events").json()["items"]]
    assert any(r.startswith("slate on air by hand") and f"(by {name})" in r for r in reasons), reasons
    # API writes are named too (the key's user), heartbeats are not; the CSV carries the same rows.
    api.make_channel("Audited")
    api.heartbeat("enc-1", g["id"])
    api_rows = api.get("/audit", params={"what": "/api/v4/channels"}).json()["items"]
    assert [(e["actor_kind"], e["actor_id"], e["action"]) for e in api_rows] == \
        [("api", api.user_id, "POST /api/v4/channels")]
    assert api.get("/audit", params={"what": "/status"}).json()["items"] == []
    got = api.get("/audit.csv")
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(got.text)))
    assert {(r["actor_kind"], r["actor_name"]) for r in rows} >= {("operator", name),
                                                                  ("api", f"API key of {api.user_id}")}
    for path in ("/audit", "/audit.csv"):  # a NUL (PostgreSQL text cannot hold one) is the caller's error
        refused = api.get(path, params={"what": "a\x00b"})
        assert refused.status_code == 400 and "'what'" in refused.text, (path, refused.text)


def test_disabling_an_operator_ends_their_session(api: Api, other: Api) -> None:
    made = operator(api, f"bob-{api.user_id[:6]}", "admin")
    with console_as(api.base_url, made["login"]) as web:
        assert web.get("/console").status_code == 200
        assert api.patch(f"/operators/{made['id']}", {"enabled": False}).status_code == 200
        assert web.get("/console").status_code == 303  # back to the sign-in form
    with console_as(api.base_url, made["login"]) as again:
        assert again.headers["x-signed-in"] == "no"
    assert_error(other.get(f"/operators/{made['id']}"), 404, made["id"])  # another tenant's account
