"""Writes that clash or fail: a 409 naming the field on every write (PATCH included), a JSON 500 with a
request ID that is also in the log, and a keep-alive connection that stays usable after either.

A `requests.Session` is the client the vendor's samples use: one pooled connection, reused."""

import re
from pathlib import Path

import requests
from sqlalchemy import text

from feedgate.auth.signing import signed_params
from tests.support import Api, Backend, started_backend


def session_for(api: Api) -> tuple[requests.Session, str]:
    return requests.Session(), api.base_url + "/api/v4"


def call(http: requests.Session, base: str, api: Api, method: str, path: str, body: object = None) -> requests.Response:
    return http.request(method, base + path, params=signed_params(api.user_id, api.api_key), json=body, timeout=30)


def test_a_patch_to_a_taken_value_is_a_409_naming_the_field_on_a_connection_that_stays_usable(
        backend: Backend) -> None:
    api = backend.new_user("patcher")
    http, base = session_for(api)
    ch = api.make_channel("patch")
    first = api.post(f"/channels/{ch['id']}/blackouts", {"blackout_id": "B1", "external_id": "x1"}).json()
    second = api.post(f"/channels/{ch['id']}/blackouts", {"blackout_id": "B2", "external_id": "x2"}).json()
    a1 = api.post("/audiences", {"desc": "a1", "country_codes": ["US"], "external_id": "aud-1"}).json()
    a2 = api.post("/audiences", {"desc": "a2", "country_codes": ["CA"], "external_id": "aud-2"}).json()
    r1 = api.post("/rules", {"desc": "r1", "all_viewers": True, "external_id": "rule-1"}).json()
    r2 = api.post("/rules", {"desc": "r2", "all_viewers": True, "external_id": "rule-2"}).json()
    c2 = api.make_channel("other", external_id="ch-2")
    clashes = [
        (f"/channels/{ch['id']}/blackouts/{second['id']}", {"blackout_id": "B1"}, "blackout_id"),
        (f"/channels/{ch['id']}/blackouts/{second['id']}", {"external_id": "x1"}, "external_id"),
        (f"/audiences/{a2['id']}", {"external_id": "aud-1"}, "external_id"),
        (f"/rules/{r2['id']}", {"external_id": "rule-1"}, "external_id"),
        (f"/channels/{ch['id']}", {"external_id": "ch-2"}, "external_id"),
    ]
    for path, body, field in clashes:
        before = api.get(path).json()
        r = call(http, base, api, "PATCH", path, body)
        assert r.status_code == 409, f"PATCH {path} {body}: {r.status_code} {r.text}"
        assert f"'{field}'" in r.json()["description"], r.text
        # The same pooled connection answers the next request, and the failed PATCH changed nothing.
        after = call(http, base, api, "GET", path)
        assert after.status_code == 200 and after.json() == before
    assert first["blackout_id"] == "B1" and a1["external_id"] == "aud-1" and r1 and c2
    # The same values on POST: the same 409, naming the same field.
    r = call(http, base, api, "POST", f"/channels/{ch['id']}/blackouts", {"blackout_id": "B1"})
    assert_error_like(r, 409, "'blackout_id'")
    r = call(http, base, api, "POST", "/audiences", {"desc": "dup", "country_codes": ["US"], "external_id": "aud-1"})
    assert_error_like(r, 409, "'external_id'")


def assert_error_like(r: requests.Response, status: int, mention: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["@type"] == "Error" and body["status"] == status and mention in body["description"], body


def test_an_unexpected_failure_is_a_json_500_with_a_request_id_in_the_log_and_the_connection_lives(
        tmp_path: Path) -> None:
    with started_backend("sqlite", f"sqlite:///{tmp_path / 'damaged.db'}") as backend:  # its own: it is damaged
        answers_500_and_lives(backend)


def answers_500_and_lives(backend: Backend) -> None:
    api = backend.new_user("broken-row")
    http, base = session_for(api)
    hook = api.post("/webhooks", {"url": "http://127.0.0.1:9/hook", "events": ["*"]}).json()
    # A row damaged outside the API (a hand edit, a bad restore): a list column that holds a number.
    with backend.db.sessions() as session, session.begin():
        session.execute(text("UPDATE webhooks SET events = '123' WHERE id = :id"), {"id": hook["id"]})
    r = call(http, base, api, "GET", f"/webhooks/{hook['id']}")
    assert r.status_code == 500, r.text
    body = r.json()
    assert body["@type"] == "Error" and body["status"] == 500
    request_id = body["request_id"]
    assert re.fullmatch(r"[0-9a-f]{16}", request_id) and request_id in body["description"]
    assert r.headers["X-Request-ID"] == request_id
    assert r.headers.get("Connection", "").lower() != "close"
    # The next request reuses the same connection and is answered.
    again = call(http, base, api, "GET", "/channels")
    assert again.status_code == 200
    log = backend.server.log()
    assert request_id in log and f"/api/v4/webhooks/{hook['id']}" in log
