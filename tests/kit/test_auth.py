"""The signed-request check over real HTTP: every way to get it wrong answers 401 with the error body."""

import base64
import json
import time
import zlib

import httpx
import pytest

from feedgate.auth.signing import encode_msg, sign, signed_params
from tests.support import Api, assert_error


def raw(api: Api, params: dict[str, str]) -> httpx.Response:
    return httpx.get(api.base_url + "/api/v4/channels", params=params)


class TestSignedRequests:
    def test_valid_signature_is_accepted(self, api: Api) -> None:
        assert raw(api, signed_params(api.user_id, api.api_key)).status_code == 200

    def test_missing_msg(self, api: Api) -> None:
        assert_error(raw(api, {"sig": "00"}), 401, "msg")

    def test_missing_sig(self, api: Api) -> None:
        params = signed_params(api.user_id, api.api_key)
        assert_error(raw(api, {"msg": params["msg"]}), 401, "sig")

    @pytest.mark.parametrize("msg, why", [
        ("%%%not-base64%%%", "base64"),
        (base64.b64encode(b"plain text, not zlib").decode(), "zlib"),
        (base64.b64encode(zlib.compress(b"{not json", 9)).decode(), "JSON"),
        (base64.b64encode(zlib.compress(b"[1, 2]", 9)).decode(), "object"),
    ])
    def test_undecodable_msg(self, api: Api, msg: str, why: str) -> None:
        assert_error(raw(api, {"msg": msg, "sig": sign(msg, api.api_key)}), 401, why)

    def test_unknown_owner(self, api: Api) -> None:
        params = signed_params("0" * 32, api.api_key)
        assert_error(raw(api, params), 401, "0" * 32)

    def test_missing_owner(self, api: Api) -> None:
        msg = encode_msg({"_timestamp": int(time.time())})
        assert_error(raw(api, {"msg": msg, "sig": sign(msg, api.api_key)}), 401, "_owner")

    def test_bad_signature(self, api: Api) -> None:
        params = signed_params(api.user_id, "not-the-key")
        assert_error(raw(api, params), 401, "sig")

    def test_signature_of_another_message(self, api: Api) -> None:
        good = signed_params(api.user_id, api.api_key)
        other = signed_params(api.user_id, api.api_key, {"x": 1})
        assert_error(raw(api, {"msg": good["msg"], "sig": other["sig"]}), 401, "sig")

    def test_too_old(self, api: Api) -> None:
        params = signed_params(api.user_id, api.api_key, timestamp=int(time.time()) - 302)
        assert_error(raw(api, params), 401, "too old")

    def test_too_far_in_future(self, api: Api) -> None:
        # int() truncates: 302 keeps a full second clear of the 300 s window.
        params = signed_params(api.user_id, api.api_key, timestamp=int(time.time()) + 302)
        assert_error(raw(api, params), 401, "future")

    def test_within_window_is_accepted(self, api: Api) -> None:
        params = signed_params(api.user_id, api.api_key, timestamp=int(time.time()) - 250)
        assert raw(api, params).status_code == 200

    def test_non_numeric_timestamp(self, api: Api) -> None:
        msg = encode_msg({"_owner": api.user_id, "_timestamp": "now"})
        assert_error(raw(api, {"msg": msg, "sig": sign(msg, api.api_key)}), 401, "_timestamp")

    def test_every_v4_route_requires_signature(self, api: Api) -> None:
        for path in ("/failover-groups", "/slicers", "/audiences", "/rules", "/channels/x/playback"):
            assert_error(httpx.get(api.base_url + "/api/v4" + path), 401)

    def test_api_key_never_in_server_log(self, api: Api, backend) -> None:  # type: ignore[no-untyped-def]
        api.get("/channels")
        assert api.api_key not in backend.server.log()


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


class TestPaging:
    @pytest.mark.parametrize("params, field", [
        ({"page": 0}, "page"), ({"page": -1}, "page"), ({"page_size": 0}, "page_size"),
        ({"page_size": 41}, "page_size"), ({"page": "x"}, "page"), ({"page": 10**18}, "page"),
        ({"after": "yesterday"}, "after"),
        ({"order": "nonsense"}, "order"),
    ])
    def test_out_of_range_is_400(self, api: Api, params: dict[str, object], field: str) -> None:
        assert_error(api.get("/channels", params=params), 400, field)

    def test_pages_and_links(self, api: Api) -> None:
        for i in range(45):
            api.make_channel(f"ch{i:02d}")
        first = api.get("/channels").json()
        assert first["total_items"] == 45 and len(first["items"]) == 40
        assert first["@links"]["next"] == "/api/v4/channels?page=2&page_size=40"
        assert "prev" not in first["@links"]
        second = api.get("/channels", params={"page": 2}).json()
        assert [c["desc"] for c in second["items"]] == ["ch40", "ch41", "ch42", "ch43", "ch44"]
        assert second["@links"]["last"] == "/api/v4/channels?page=2&page_size=40"
        assert "next" not in second["@links"] and second["@links"]["prev"].startswith("/api/v4/channels?page=1")
        ordered = api.get("/channels", params={"order": "-desc", "page_size": 3}).json()
        assert [c["desc"] for c in ordered["items"]] == ["ch44", "ch43", "ch42"]

    def test_after_and_include_deleted(self, api: Api) -> None:
        old = api.make_channel("old")
        time.sleep(0.05)
        mark = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1000) % 1000:03d}Z"
        time.sleep(0.05)
        new = api.make_channel("new")
        gone = api.make_channel("gone")
        assert api.delete(f"/channels/{gone['id']}").status_code == 200
        recent = api.get("/channels", params={"after": mark}).json()
        assert [c["id"] for c in recent["items"]] == [new["id"]]
        with_deleted = api.get("/channels", params={"after": mark, "include_deleted": "true"}).json()
        assert {"id": gone["id"], "deleted": True}.items() <= with_deleted["items"][-1].items()
        assert old["id"] not in [c["id"] for c in with_deleted["items"]]
        assert with_deleted["total_items"] == 2


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


def test_signing_matches_the_seed_recipe() -> None:
    """The seed's api_auth: base64(zlib(json, 9)) and hex HMAC-SHA256 over the base64 text."""
    import hashlib
    import hmac

    params = signed_params("u1", "k1", {"a": 1}, timestamp=1700000000)
    obj = json.loads(zlib.decompress(base64.b64decode(params["msg"])))
    assert obj == {"a": 1, "_owner": "u1", "_timestamp": 1700000000}
    assert params["sig"] == hmac.new(b"k1", params["msg"].encode(), hashlib.sha256).hexdigest()
