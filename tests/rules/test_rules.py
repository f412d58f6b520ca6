"""Blackout rules over HTTP, as the Blackout API document describes them."""

import pytest

from tests.support import SEED_RULE, Api, assert_error, audience, rule


class TestAddRule:
    def test_seed_sample_and_defaults(self, api: Api) -> None:
        body = api.post("/rules", SEED_RULE).json()
        assert body["@type"] == "Rule"
        assert (body["audience"], body["alternate_content_id"], body["external_id"]) == ("", "", "")
        assert body["alternate_content_loop"] is True and body["all_viewers"] is True
        plain = rule(api, alternate_content_type="asset", alternate_content_id="a1")
        assert plain["all_viewers"] is False

    @pytest.mark.parametrize("body, field", [
        ({"alternate_content_type": "Slate"}, "alternate_content_type"),
        ({"alternate_content_type": "asset"}, "alternate_content_id"),
        ({"alternate_content_type": "slate", "alternate_content_id": "x"}, "alternate_content_id"),
        ({"audience": "nope"}, "audience"), ({"all_viewers": "yes"}, "all_viewers"),
    ])
    def test_invalid(self, api: Api, body: dict, field: str) -> None:
        assert_error(api.post("/rules", {"desc": "r", **body}), 400, field)

    def test_other_owners_audience_is_refused(self, api: Api, other: Api) -> None:
        foreign = audience(other)
        assert_error(api.post("/rules", {"desc": "r", "audience": foreign["id"]}), 400, foreign["id"])


class TestRuleEndpoints:
    def test_get_list_update_delete(self, api: Api, other: Api) -> None:
        r = rule(api, external_id="r-ext")
        assert api.get("/rules/r-ext").json()["id"] == r["id"]
        assert_error(other.get(f"/rules/{r['id']}"), 404)
        assert api.get("/rules").json()["total_items"] == 1
        updated = api.patch(f"/rules/{r['id']}", {"alternate_content_type": "asset",
                                                   "alternate_content_id": "062048d702734ca6a38f3e7f8e4f4488"}).json()
        assert updated["alternate_content_type"] == "asset" and updated["desc"] == "rule"
        assert api.delete(f"/rules/{r['id']}").json()["message"] == "Deleted"

    def test_409_when_used_by_blackout(self, api: Api) -> None:
        r = rule(api)
        ch = api.make_channel()
        b = api.post(f"/channels/{ch['id']}/blackouts", {"blackout_id": "BNA", "rules": [r["id"]]}).json()
        assert_error(api.delete(f"/rules/{r['id']}"), 409, b["id"])
