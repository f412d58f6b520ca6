"""The v4 signature over real HTTP: every way a signed request can be wrong is a 401 naming why."""

import base64
import json
import time
import zlib

import httpx
import pytest

from feedgate.auth.signing import encode_msg, sign, signed_params
from tests.support import Api, assert_error


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


def test_signing_matches_the_seed_recipe() -> None:
    """The seed's api_auth: base64(zlib(json, 9)) and hex HMAC-SHA256 over the base64 text."""
    import hashlib
    import hmac

    params = signed_params("u1", "k1", {"a": 1}, timestamp=1700000000)
    obj = json.loads(zlib.decompress(base64.b64decode(params["msg"])))
    assert obj == {"a": 1, "_owner": "u1", "_timestamp": 1700000000}
    assert params["sig"] == hmac.new(b"k1", params["msg"].encode(), hashlib.sha256).hexdigest()


def raw(api: Api, params: dict[str, str]) -> httpx.Response:
    return httpx.get(api.base_url + "/api/v4/channels", params=params)
