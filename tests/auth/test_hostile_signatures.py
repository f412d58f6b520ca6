"""A hostile pass on the signature: timestamps, zip bombs, binding, nonces, the verified-signature cache."""

import base64
import json
import time
import zlib
from pathlib import Path

import pytest

from feedgate.auth.signing import bound_params, sign, signed_params
from tests.support import (
    Api,
    Backend,
    PostgresServer,
    assert_error,
    call,
    signed_raw,
    started_backend,
    two_instances,
    wait_for,
)


class TestTimestamps:
    @pytest.mark.parametrize("stamp", [float("nan"), float("inf"), 1.7e9, "1700000000", True, None, [1]])
    def test_only_an_integer_timestamp_is_accepted(self, api: Api, stamp: object) -> None:
        value = time.time() if stamp == 1.7e9 else stamp
        params = signed_raw(api, {"_owner": api.user_id, "_timestamp": value})
        assert_error(call(api, "GET", "/api/v4/channels", params), 401, "_timestamp")
        body = json.dumps({"desc": "nan"}).encode()
        assert_error(call(api, "POST", "/api/v4/channels", params, body), 401, "_timestamp")
        assert api.get("/channels").json()["total_items"] == 0

    @pytest.mark.parametrize("digits", [400, 5000])
    def test_huge_timestamps_are_401_not_500(self, api: Api, digits: int) -> None:
        text = f'{{"_owner": "{api.user_id}", "_timestamp": {"9" * digits}}}'
        msg = base64.b64encode(zlib.compress(text.encode(), 9)).decode()
        assert_error(call(api, "GET", "/api/v4/channels", {"msg": msg, "sig": sign(msg, api.api_key)}), 401)
        assert_error(call(api, "GET", "/api/v4/channels", {"msg": msg, "sig": "0" * 64}), 401)

    def test_deep_nesting_is_401_without_credentials(self, api: Api) -> None:
        text = "[" * 100_000 + "]" * 100_000
        msg = base64.b64encode(zlib.compress(text.encode(), 9)).decode()
        assert_error(call(api, "GET", "/api/v4/channels", {"msg": msg, "sig": "0" * 64}), 401, "msg")

    def test_a_zip_bomb_is_refused_before_it_inflates(self, api: Api) -> None:
        bomb = base64.b64encode(zlib.compress(b" " * 16_000_000, 9)).decode()  # ~21 KB of URL, 16 MB inflated
        assert len(bomb) < 30_000
        r = call(api, "GET", "/api/v4/channels", {"msg": bomb, "sig": "0" * 64})
        assert_error(r, 401, "msg")
        modest = base64.b64encode(zlib.compress(b" " * 9_000, 9)).decode()
        assert_error(call(api, "GET", "/api/v4/channels", {"msg": modest, "sig": sign(modest, api.api_key)}),
                     401, "8192")

    def test_a_malformed_sig_is_refused_before_any_work(self, api: Api) -> None:
        params = signed_params(api.user_id, api.api_key)
        assert_error(call(api, "GET", "/api/v4/channels", {**params, "sig": "zz" * 32}), 401, "sig")


class TestBinding:
    def test_a_captured_get_signature_cannot_delete_when_bound(self, api: Api) -> None:
        channel = api.make_channel("keep me")
        captured = bound_params(api.user_id, api.api_key, "GET", "/api/v4/channels", None)
        assert call(api, "GET", "/api/v4/channels", captured).status_code == 200
        r = call(api, "DELETE", f"/api/v4/channels/{channel['id']}", captured)
        assert_error(r, 401, "_method")
        assert api.get(f"/channels/{channel['id']}").status_code == 200

    def test_path_and_body_are_bound(self, api: Api) -> None:
        body = json.dumps({"desc": "bound"}).encode()
        params = bound_params(api.user_id, api.api_key, "POST", "/api/v4/channels", body)
        assert_error(call(api, "POST", "/api/v4/audiences", params, body), 401, "_path")
        params = bound_params(api.user_id, api.api_key, "POST", "/api/v4/channels", body)
        assert_error(call(api, "POST", "/api/v4/channels", params, json.dumps({"desc": "other"}).encode()),
                     401, "_body_sha256")
        assert api.get("/channels").json()["total_items"] == 0

    def test_a_bound_post_is_accepted_once(self, api: Api) -> None:
        body = json.dumps({"desc": "once"}).encode()
        params = bound_params(api.user_id, api.api_key, "POST", "/api/v4/channels", body)
        assert call(api, "POST", "/api/v4/channels", params, body).status_code == 201
        assert_error(call(api, "POST", "/api/v4/channels", params, body), 401, "_nonce")
        assert api.get("/channels").json()["total_items"] == 1

    def test_bound_heartbeats_work_on_the_hot_path_and_are_not_replayable(self, api: Api) -> None:
        g = api.make_group("bound")
        path = "/api/v4/slicers/hb1/status"
        for expected in (200, 200, 200):  # registration (FastAPI route), then steady beats (hot route)
            body = json.dumps({"hostname": "h", "failover_group_id": g["id"]}).encode()
            params = bound_params(api.user_id, api.api_key, "PUT", path, body)
            assert call(api, "PUT", path, params, body).status_code == expected
            time.sleep(0.3)
        assert_error(call(api, "PUT", path, params, body), 401, "_nonce")

    def test_vendor_clients_stay_accepted_unbound(self, api: Api) -> None:
        params = signed_params(api.user_id, api.api_key)
        assert call(api, "POST", "/api/v4/channels", params, json.dumps({"desc": "v"}).encode()).status_code == 201


def test_strict_mode_refuses_unbound_requests(tmp_path: Path) -> None:
    with started_backend("sqlite", f"sqlite:///{tmp_path / 'strict.db'}", FEEDGATE_AUTH_STRICT="1") as b:
        api = b.new_user()
        assert_error(call(api, "GET", "/api/v4/channels", signed_params(api.user_id, api.api_key)), 401, "_method")
        bound = bound_params(api.user_id, api.api_key, "GET", "/api/v4/channels", None)
        assert call(api, "GET", "/api/v4/channels", bound).status_code == 200


def test_nonces_are_shared_by_instances_on_postgresql(postgres: PostgresServer) -> None:
    with two_instances(postgres) as (a, b):
        body = json.dumps({"desc": "once across instances"}).encode()
        params = bound_params(a.user_id, a.api_key, "POST", "/api/v4/channels", body)
        assert call(a, "POST", "/api/v4/channels", params, body).status_code == 201
        assert_error(call(b, "POST", "/api/v4/channels", params, body), 401, "_nonce")
        assert a.get("/channels").json()["total_items"] == 1


class TestVerifiedSignatureCache:
    """The cache of verified (msg, sig) pairs never accepts what the full check would refuse."""

    def test_a_cached_signature_is_refused_once_its_timestamp_leaves_the_window(self, tmp_path: Path) -> None:
        with started_backend("sqlite", f"sqlite:///{tmp_path / 'w.db'}", FEEDGATE_TIMESTAMP_WINDOW_S="2") as b:
            api = b.new_user()
            params = signed_params(api.user_id, api.api_key)
            assert call(api, "GET", "/api/v4/channels", params).status_code == 200  # now cached
            time.sleep(3.2)
            assert_error(call(api, "GET", "/api/v4/channels", params), 401, "too old")

    def test_another_sig_for_a_cached_msg_is_refused(self, api: Api) -> None:
        params = signed_params(api.user_id, api.api_key)
        assert call(api, "GET", "/api/v4/channels", params).status_code == 200
        forged = {"msg": params["msg"], "sig": ("0" if params["sig"][0] != "0" else "1") + params["sig"][1:]}
        assert_error(call(api, "GET", "/api/v4/channels", forged), 401, "sig")

    def test_a_rotated_key_refuses_old_signatures_within_5_s(self, api: Api, backend: Backend) -> None:
        from feedgate.auth.service import rotate_key

        params = signed_params(api.user_id, api.api_key, timestamp=int(time.time()))
        assert call(api, "GET", "/api/v4/channels", params).status_code == 200  # cached with the old key
        with backend.db.sessions() as session:
            new_key = rotate_key(session, api.user_id)
        assert new_key is not None
        rotated = time.monotonic()
        wait_for(lambda: call(api, "GET", "/api/v4/channels", params).status_code == 401, timeout=6)
        assert time.monotonic() - rotated <= 5.5
        fresh = signed_params(api.user_id, new_key.api_key)
        assert call(api, "GET", "/api/v4/channels", fresh).status_code == 200
