"""Blackout configurations over real HTTP: seed samples, uniqueness per channel, rules that must exist
and be owned, tenancy, the missing-slash form of the seed scripts."""


from tests.support import SEED_RULE, Api, assert_error, rule


class TestBlackouts:
    def test_seed_add_get_update_delete(self, api: Api) -> None:
        ch = api.make_channel()
        r1, r2 = rule(api, **SEED_RULE), rule(api)
        url = f"/channels/{ch['id']}/blackouts"
        b = api.post(url, {"desc": "Blackout North America", "blackout_id": "BNA", "rules": [r2["id"], r1["id"]]})
        assert b.status_code == 201
        body = b.json()
        assert body["@id"] == f"/api/v4/channels/{ch['id']}/blackouts/{body['id']}"
        assert (body["channel"], body["blackout_id"], body["rules"]) == (ch["id"], "BNA", [r2["id"], r1["id"]])
        got = api.get(f"{url}/{body['id']}").json()
        assert [x["id"] for x in got["@included"]] == [r2["id"], r1["id"]]
        assert got["@included"][1]["@type"] == "Rule"
        patched = api.patch(f"{url}/{body['id']}", {"blackout_id": "NorthAmerica"}).json()
        assert patched["blackout_id"] == "NorthAmerica" and patched["rules"] == [r2["id"], r1["id"]]
        assert api.delete(f"{url}/{body['id']}").json()["message"] == "Deleted"
        assert_error(api.get(f"{url}/{body['id']}"), 404)

    def test_seed_scripts_missing_slash_still_work(self, api: Api) -> None:
        ch = api.make_channel()
        b = api.post(f"/channels/{ch['id']}/blackouts", {"blackout_id": "BNA"}).json()
        assert api.get(f"/channels/{ch['id']}/blackouts{b['id']}").json()["id"] == b["id"]

    def test_unique_blackout_id_per_channel(self, api: Api) -> None:
        ch1, ch2 = api.make_channel(), api.make_channel()
        assert api.post(f"/channels/{ch1['id']}/blackouts", {"blackout_id": "X"}).status_code == 201
        assert_error(api.post(f"/channels/{ch1['id']}/blackouts", {"blackout_id": "X"}), 409, "X")
        assert api.post(f"/channels/{ch2['id']}/blackouts", {"blackout_id": "X"}).status_code == 201

    def test_rules_must_exist_and_be_owned(self, api: Api, other: Api) -> None:
        ch = api.make_channel()
        foreign = rule(other)
        assert_error(api.post(f"/channels/{ch['id']}/blackouts", {"blackout_id": "X", "rules": [foreign["id"]]}),
                     400, "rules[0]")
        assert api.get(f"/channels/{ch['id']}/blackouts").json()["total_items"] == 0

    def test_other_owners_channel_is_404(self, api: Api, other: Api) -> None:
        ch = other.make_channel()
        assert_error(api.post(f"/channels/{ch['id']}/blackouts", {"blackout_id": "X"}), 404, ch["id"])

    def test_order_and_after(self, api: Api) -> None:
        ch = api.make_channel()
        url = f"/channels/{ch['id']}/blackouts"
        for name in ("b", "c", "a"):
            api.post(url, {"blackout_id": name, "desc": name.upper()})
        assert [b["blackout_id"] for b in api.get(url, params={"order": "blackout_id"}).json()["items"]] == \
            ["a", "b", "c"]
        assert [b["blackout_id"] for b in api.get(url, params={"order": "-created"}).json()["items"]] == \
            ["a", "c", "b"]
        assert_error(api.get(url, params={"order": "rules"}), 400, "order")
        assert api.get(url, params={"after": "2000-01-01T00:00:00.000Z"}).json()["total_items"] == 3

    def test_deleting_channel_drops_blackouts(self, api: Api) -> None:
        ch = api.make_channel()
        r = rule(api)
        api.post(f"/channels/{ch['id']}/blackouts", {"blackout_id": "X", "rules": [r["id"]]})
        api.delete(f"/channels/{ch['id']}")
        assert api.delete(f"/rules/{r['id']}").status_code == 200
