"""The corners of the v4 contract: null in PATCH, `@id` echoes, messages, HTTP manners, paging in msg."""

import time
from typing import Any

import httpx
import pytest

from tests.support import Api, assert_error


def resources(api: Api) -> dict[str, tuple[str, dict[str, Any]]]:
    """One of each PATCHable resource: its path and its body as read back."""
    g = api.make_group("patch")
    ch = api.make_channel("patch", external_id="ch-x")
    aud = api.post("/audiences", {"desc": "a", "country_codes": ["US"], "zip_codes": ["90503"],
                                  "external_id": "aud-x"}).json()
    rule = api.post("/rules", {"desc": "r", "audience": aud["id"], "alternate_content_type": "asset",
                               "alternate_content_id": "asset-1", "external_id": "rule-x"}).json()
    blk = api.post(f"/channels/{ch['id']}/blackouts", {"blackout_id": "B1", "desc": "d", "external_id": "b-x",
                                                        "rules": [rule["id"]]}).json()
    return {"group": (f"/failover-groups/{g['id']}", g), "channel": (f"/channels/{ch['id']}", ch),
            "audience": (f"/audiences/{aud['id']}", aud), "rule": (f"/rules/{rule['id']}", rule),
            "blackout": (f"/channels/{ch['id']}/blackouts/{blk['id']}", blk)}


CLEARED = {  # resource -> field -> what null leaves
    "channel": {"external_id": ""},
    "audience": {"external_id": "", "country_codes": [], "zip_codes": [], "dma_codes": [], "ip_networks": [],
                 "devices": []},
    "rule": {"external_id": "", "audience": ""},
    "blackout": {"desc": "", "external_id": "", "rules": []},
}
REFUSED = {  # resource -> fields whose null is a 400
    "group": ["name", "mode", "auto_failback", "hot_warm", "heartbeat_timeout_ms", "dropped_frames_pct"],
    "channel": ["desc"],
    "audience": ["desc", "match_type", "type"],
    "rule": ["desc", "all_viewers", "alternate_content_type", "alternate_content_loop"],
    "blackout": ["blackout_id"],
}


class TestNullInPatch:
    @pytest.mark.parametrize("kind", sorted(REFUSED))
    def test_null_on_a_field_that_cannot_be_empty_is_400_and_changes_nothing(self, api: Api, kind: str) -> None:
        path, _ = resources(api)[kind]
        before = api.get(path).json()
        for field in REFUSED[kind]:
            assert_error(api.patch(path, {field: None}), 400, f"'{field}'", "null")
        assert api.get(path).json() == before  # `updated` did not move either

    @pytest.mark.parametrize("kind", sorted(CLEARED))
    def test_null_clears_a_clearable_field(self, api: Api, kind: str) -> None:
        path, _ = resources(api)[kind]
        if kind == "rule":  # a rule without an audience is for all viewers
            assert api.patch(path, {"all_viewers": True}).status_code == 200
        for field, empty in CLEARED[kind].items():
            r = api.patch(path, {field: None})
            assert r.status_code == 200, f"{field}: {r.text}"
            assert api.get(path).json()[field] == empty, field

    @pytest.mark.parametrize("kind", sorted(REFUSED))
    def test_updated_moves_only_when_something_changed(self, api: Api, kind: str) -> None:
        path, _ = resources(api)[kind]
        same = {"group": {"name": "patch"}, "channel": {"desc": "patch"}, "audience": {"desc": "a"},
                "rule": {"desc": "r"}, "blackout": {"desc": "d"}}[kind]
        before = api.get(path).json()
        time.sleep(0.01)
        assert api.patch(path, same).status_code in (200, 204)
        after = api.get(path).json()
        assert after.get("updated") == before.get("updated") and after == before
        field, value = next(iter(same.items()))
        assert api.patch(path, {field: value + "!"}).status_code in (200, 204)
        moved = api.get(path).json()
        assert moved[field] == value + "!"
        if "updated" in before:
            assert moved["updated"] > before["updated"]

    def test_set_no_slicer_null_stays_400(self, api: Api) -> None:
        g = api.make_group("slate")
        assert_error(api.put(f"/failover-groups/{g['id']}/set_no_slicer", {"no_slicer": None}), 400, "no_slicer")


class TestIdsAndMessages:
    def test_delete_answers_the_path_that_was_asked(self, api: Api) -> None:
        aud = api.post("/audiences", {"desc": "a", "country_codes": ["US"], "external_id": "by-ext"}).json()
        assert api.delete("/audiences/by-ext").json()["@id"] == "/api/v4/audiences/by-ext"
        rule = api.post("/rules", {"desc": "r", "all_viewers": True, "external_id": "rule-ext"}).json()
        assert api.delete("/rules/rule-ext").json()["@id"] == "/api/v4/rules/rule-ext"
        ch = api.make_channel("c")
        b = api.post(f"/channels/{ch['id']}/blackouts", {"blackout_id": "B", "external_id": "b-ext"}).json()
        assert api.delete(f"/channels/{ch['id']}/blackouts/b-ext").json()["@id"] == \
            f"/api/v4/channels/{ch['id']}/blackouts/b-ext"
        for gone in (f"/audiences/{aud['id']}", f"/rules/{rule['id']}", f"/channels/{ch['id']}/blackouts/{b['id']}"):
            assert api.get(gone).status_code == 404

    def test_the_documents_slip_blackouts_plus_id_without_a_slash_still_works(self, api: Api) -> None:
        ch = api.make_channel("c")
        b = api.post(f"/channels/{ch['id']}/blackouts", {"blackout_id": "B", "desc": "d"}).json()
        slip = f"/channels/{ch['id']}/blackouts{b['id']}"
        assert api.get(slip).json()["id"] == b["id"]
        assert api.patch(slip, {"desc": "e"}).json()["desc"] == "e"
        assert api.delete(slip).json()["message"] == "Deleted"
        assert api.get(f"/channels/{ch['id']}/blackouts/{b['id']}").status_code == 404

    def test_no_message_shows_a_python_repr(self, api: Api) -> None:
        ch = api.make_channel("c")
        api.post(f"/channels/{ch['id']}/blackouts", {"blackout_id": "B"})
        body = assert_error(api.post(f"/channels/{ch['id']}/blackouts", {"blackout_id": "B"}), 409, "'blackout_id'")
        assert "None" not in body["description"]
        body = assert_error(api.patch(f"/channels/{ch['id']}", {"desc": None}), 400, "'desc'")
        assert "None" not in body["description"] and "PydanticCustomError" not in body["description"]


class TestParamsInsideMsg:
    def test_paging_inside_msg_is_read_and_the_query_string_wins(self, api: Api) -> None:
        from feedgate.auth.signing import signed_params

        ids = [api.post("/audiences", {"desc": f"a{i}", "country_codes": ["US"]}).json()["id"] for i in range(3)]
        every = [a["id"] for a in api.get("/audiences").json()["items"]]
        assert sorted(every) == sorted(ids)
        in_msg = signed_params(api.user_id, api.api_key, data={"page": 2, "page_size": 1})
        body = api.http.get("/audiences", params=in_msg).json()
        assert [a["id"] for a in body["items"]] == every[1:2] and body["total_items"] == 3
        both = api.http.get("/audiences", params={**in_msg, "page_size": "2"}).json()
        assert [a["id"] for a in both["items"]] == every[2:3]  # page 2 of 2 per page: the query's size wins

    def test_viewer_fields_inside_msg_reach_the_decision(self, api: Api) -> None:
        from feedgate.auth.signing import signed_params
        from tests.support import blackout_setup

        ch, r1, _ = blackout_setup(api)
        api.put(f"/channels/{ch['id']}/program", {"blackout_id": "BNA", "title": "Game"})
        params = signed_params(api.user_id, api.api_key, data={"repl.cbcc": "US", "repl.cbzip": "90503"})
        body = api.http.get(f"/channels/{ch['id']}/playback", params=params).json()
        assert body["rule"] == r1["id"] and body["viewer"]["zip"] == "90503"
        elsewhere = {**params, "repl.cbcc": "CA", "repl.cbzip": "10001"}
        query_wins = api.http.get(f"/channels/{ch['id']}/playback", params=elsewhere).json()
        assert query_wins["viewer"]["country"] == "CA" and query_wins["blacked_out"] is False


class TestHttpManners:
    def test_head_works_wherever_get_does(self, api: Api) -> None:
        g = api.make_group("head")
        for path in ("/failover-groups", f"/failover-groups/{g['id']}", "/audiences", "/rules", "/channels"):
            got, head = api.get(path), api.request("HEAD", path)
            assert head.status_code == 200 and head.content == b"", path
            assert head.headers["content-length"] == got.headers["content-length"]
        assert httpx.head(api.base_url + "/healthz").status_code == 200
        assert api.request("HEAD", "/failover-groups/nope").status_code == 404

    def test_options_answers_allow(self, api: Api) -> None:
        r = httpx.options(api.base_url + "/api/v4/audiences/some-id")
        assert r.status_code == 204
        assert r.headers["allow"] == "DELETE, GET, HEAD, OPTIONS, PATCH"
        assert httpx.options(api.base_url + "/api/v4/no-such-thing").status_code == 404

    def test_405_carries_allow_and_the_error_body(self, api: Api) -> None:
        r = api.request("POST", "/failover-groups/some-id")
        assert_error(r, 405, "POST", "/api/v4/failover-groups/some-id")
        assert r.headers["allow"] == "DELETE, GET, HEAD, OPTIONS, PATCH"
        r = api.request("DELETE", "/failover-groups")
        assert_error(r, 405)
        assert r.headers["allow"] == "GET, HEAD, OPTIONS, POST"

    def test_an_over_long_url_or_head_gets_json_414_or_431(self, api: Api) -> None:
        r = httpx.get(api.base_url + "/api/v4/channels", params={"x": "y" * 40_000})
        assert_error(r, 414, "URL")
        r = httpx.get(api.base_url + "/healthz", headers={f"x-h{i}": "v" * 1000 for i in range(40)})
        assert_error(r, 431, "headers")
        assert httpx.get(api.base_url + "/healthz").status_code == 200
