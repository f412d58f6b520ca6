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
        path, body = resources(api)[kind]
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
