"""Playback tokens on the decision endpoint, against a signer written here from the description alone
(not the server's code)."""

import hashlib
import hmac
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
import requests

from tests.support import Api, assert_error, blackout_setup, decide


def token_url(api: Api, channel_id: str, *, key: str | None = None, sig: str | None = None,
              **overrides: str) -> str:
    """tc=1, exp, rn, ct=c, cid, oid, extras; then &sig= the hex HMAC-SHA256 of the query as sent before it."""
    params = {"tc": "1", "exp": str(int(time.time()) + 600), "rn": "a1b2c3", "ct": "c", "cid": channel_id,
              "oid": api.user_id}
    params.update(overrides)
    query = urlencode(params)
    signature = sig or hmac.new((key or api.api_key).encode(), query.encode(), hashlib.sha256).hexdigest()
    return f"{api.base_url}/api/v4/channels/{channel_id}/playback?{query}&sig={signature}"


@pytest.fixture
def blacked_out(api: Api) -> dict:
    channel, _, _ = blackout_setup(api)
    assert api.put(f"/channels/{channel['id']}/program", {"blackout_id": "BNA"}).status_code == 200
    return channel


class TestPlaybackTokens:
    def test_a_valid_token_gets_the_same_decision_as_msg_sig(self, api: Api, blacked_out: dict) -> None:
        cid = blacked_out["id"]
        for viewer in ({"repl.cbzip": "90503", "repl.cbcc": "US"}, {"repl.cbcc": "US"}, {"repl.cbcc": "FR"},
                       {"repl.cbip": "198.51.100.7", "repl.cbcc": "US", "repl.cbzip": "90503"}):
            by_token = httpx.get(token_url(api, cid, **viewer))
            assert by_token.status_code == 200, by_token.text
            by_signature = decide(api, cid, **{k.replace(".", "_"): v for k, v in viewer.items()})
            assert by_token.json() == by_signature
        assert httpx.get(token_url(api, cid, **{"repl.cbzip": "90503", "repl.cbcc": "US"})).json()["content"] == {
            "type": "asset", "id": "la-asset", "loop": False}

    def test_the_viewer_ip_is_the_connection_unless_the_token_names_one(self, api: Api, blacked_out: dict) -> None:
        cid = blacked_out["id"]
        assert httpx.get(token_url(api, cid)).json()["viewer"]["ip"] == "127.0.0.1"
        assert httpx.get(token_url(api, cid, **{"repl.cbip": "203.0.113.9"})).json()["viewer"]["ip"] == "203.0.113.9"

    @pytest.mark.parametrize("case, status, mention", [
        ("expired", 401, "exp"),
        ("wrong_sig", 401, "sig"),
        ("altered", 401, "sig"),
        ("tc2", 401, "tc"),
        ("unknown_owner", 401, "oid"),
        ("other_channel", 403, "cid"),
        ("not_a_channel", 403, "ct"),
        ("sig_not_last", 401, "sig"),
    ])
    def test_refusals(self, api: Api, other: Api, blacked_out: dict, case: str, status: int, mention: str) -> None:
        cid = blacked_out["id"]
        if case == "expired":
            url = token_url(api, cid, exp=str(int(time.time()) - 5))
        elif case == "wrong_sig":
            url = token_url(api, cid, key="not-the-key")
        elif case == "altered":
            url = token_url(api, cid, **{"repl.cbzip": "90503"}).replace("repl.cbzip=90503", "repl.cbzip=10001")
        elif case == "tc2":
            url = token_url(api, cid, tc="2")
        elif case == "unknown_owner":
            url = token_url(api, cid, oid="0" * 32)
        elif case == "other_channel":
            mine = api.make_channel("elsewhere")["id"]
            url = token_url(api, mine).replace(f"/channels/{mine}/", f"/channels/{cid}/")
        elif case == "not_a_channel":
            url = token_url(api, cid, ct="a")
        else:
            url = token_url(api, cid) + "&repl.cbcc=FR"
        r = httpx.get(url)
        assert_error(r, status, mention)
        assert "rule" not in r.json() and "#EXTM3U" not in r.text

    def test_a_token_authorises_nothing_but_the_decision(self, api: Api, blacked_out: dict) -> None:
        cid = blacked_out["id"]
        query = token_url(api, cid).split("?", 1)[1]
        for method, path in (("GET", f"/api/v4/channels/{cid}"), ("DELETE", f"/api/v4/channels/{cid}"),
                             ("GET", f"/api/v4/channels/{cid}/program"), ("GET", "/api/v4/channels")):
            assert_error(httpx.request(method, f"{api.base_url}{path}?{query}"), 401, "msg")
        assert api.get(f"/channels/{cid}").status_code == 200

    def test_the_cli_builds_a_url_that_works(self, api: Api, blacked_out: dict) -> None:
        env = {**os.environ, "FEEDGATE_USER_ID": api.user_id, "FEEDGATE_API_KEY": api.api_key,
               "FEEDGATE_URL": api.base_url}
        feedgate = str(Path(sys.executable).parent / "feedgate")
        made = subprocess.run([feedgate, "playback-url", blacked_out["id"], "--ttl", "60", "--zip", "90503",
                               "--country", "US"], env=env, capture_output=True, text=True, check=True)
        url = made.stdout.strip()
        r = requests.get(url, timeout=10)
        assert r.status_code == 200, r.text
        assert r.json()["blacked_out"] is True and r.json()["content"]["id"] == "la-asset"
        exp = int(dict(p.split("=", 1) for p in url.split("?", 1)[1].split("&"))["exp"])
        assert time.time() < exp <= time.time() + 61


