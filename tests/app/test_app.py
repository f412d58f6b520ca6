"""The application's own manners: one error body for every failure, /healthz, /metrics, /openapi.json."""

import json

import httpx
import pytest

from tests.support import Api, assert_error


class TestErrorBodies:
    def test_unknown_route_is_404_error_body(self, api: Api) -> None:
        assert_error(api.get("/no-such-thing"), 404, "/api/v4/no-such-thing")

    def test_wrong_method_is_405_error_body(self, api: Api) -> None:
        assert_error(api.request("POST", "/failover-groups/abc/allowed-owners"), 405, "POST")

    def test_validation_error_is_400_not_422(self, api: Api) -> None:
        assert_error(api.post("/channels", {}), 400, "desc")

    def test_wrong_type_is_400_naming_field(self, api: Api) -> None:
        assert_error(api.post("/channels", {"desc": 5}), 400, "desc")

    def test_malformed_json_is_400(self, api: Api) -> None:
        r = api.http.post("/channels", content=b"{nope", params=api.params(),
                          headers={"Content-Type": "application/json"})
        assert_error(r, 400, "JSON")

    def test_unknown_fields_are_ignored(self, api: Api) -> None:
        r = api.post("/channels", {"desc": "x", "surprise": True})
        assert r.status_code == 201
        assert "surprise" not in r.json()


class TestService:
    def test_healthz(self, api: Api) -> None:
        assert httpx.get(api.base_url + "/healthz").json()["status"] == "ok"

    def test_metrics_count_requests(self, api: Api) -> None:
        api.get("/channels")
        text = httpx.get(api.base_url + "/metrics").text
        assert 'feedgate_requests_total{method="GET",route="/api/v4/channels",status="200"}' in text
        assert "feedgate_engine_leader 1.0" in text

    def test_openapi_and_docs(self, api: Api) -> None:
        schema = httpx.get(api.base_url + "/openapi.json").json()
        assert "/api/v4/failover-groups/{group_id}/activate_slicer" in schema["paths"]
        assert httpx.get(api.base_url + "/docs").status_code == 200


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", None, "text/plain"])
def test_json_bodies_whatever_the_content_type(api: Api, content_type: str | None) -> None:
    for method, path, body in _family_calls(api):
        headers = {"Content-Type": content_type} if content_type else {}
        r = httpx.request(method, f"{api.base_url}/api/v4{path}", params=api.params(),
                          content=json.dumps(body).encode(), headers=headers)
        assert r.status_code < 300, (method, path, r.status_code, r.text)


def test_a_body_that_is_not_json_says_so(api: Api) -> None:
    r = httpx.post(f"{api.base_url}/api/v4/channels", params=api.params(), content=b"desc=form",
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_error(r, 400, "JSON")
    assert api.get("/channels").json()["total_items"] == 0


def _family_calls(api: Api) -> list[tuple[str, str, dict]]:
    """One POST, PUT and PATCH of each resource family (what exists of each)."""
    group = api.make_group("ct")
    channel = api.make_channel("ct")
    audience = api.post("/audiences", {"desc": "ct", "country_codes": ["US"]}).json()
    rule = api.post("/rules", {"desc": "ct", "audience": audience["id"]}).json()
    blackout = api.post(f"/channels/{channel['id']}/blackouts", {"blackout_id": "B0", "rules": [rule["id"]]}).json()
    return [
        ("POST", "/failover-groups", {"name": "form"}),
        ("PUT", f"/failover-groups/{group['id']}/set_no_slicer", {"no_slicer": True}),
        ("PATCH", f"/failover-groups/{group['id']}", {"name": "patched"}),
        ("POST", "/channels", {"desc": "form"}),
        ("PUT", f"/channels/{channel['id']}/program", {"blackout_id": "B1"}),
        ("PATCH", f"/channels/{channel['id']}", {"desc": "patched"}),
        ("POST", "/audiences", {"desc": "form", "zip_codes": ["90503"]}),
        ("PATCH", f"/audiences/{audience['id']}", {"desc": "patched"}),
        ("POST", "/rules", {"desc": "form", "audience": audience["id"]}),
        ("PATCH", f"/rules/{rule['id']}", {"desc": "patched"}),
        ("POST", f"/channels/{channel['id']}/blackouts", {"blackout_id": "B2", "rules": [rule["id"]]}),
        ("PATCH", f"/channels/{channel['id']}/blackouts/{blackout['id']}", {"rules": []}),
        ("PUT", "/slicers/ct1/status", {"hostname": "form.example"}),
    ]
