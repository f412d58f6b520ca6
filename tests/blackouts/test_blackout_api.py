"""The Blackout API over real HTTP: audiences, rules, blackouts; seed samples, validation, tenancy, safety."""

import pytest

from tests.support import Api, assert_error

SEED_AUDIENCE = {"desc": "My New audience", "country_codes": ["US", "CA", "MX"], "external_id": "NorthAmerica",
                 "match_type": "ANY"}
SEED_RULE = {"desc": "My New Rule", "alternate_content_type": "slate", "all_viewers": True}


def audience(api: Api, **body: object) -> dict:
    r = api.post("/audiences", {"desc": "aud", **body})
    assert r.status_code == 201, r.text
    return dict(r.json())


def rule(api: Api, **body: object) -> dict:
    r = api.post("/rules", {"desc": "rule", **body})
    assert r.status_code == 201, r.text
    return dict(r.json())


class TestAddAudience:
    def test_seed_sample(self, api: Api) -> None:
        body = api.post("/audiences", SEED_AUDIENCE).json()
        assert body["@type"] == "Audience" and body["@id"] == f"/api/v4/audiences/{body['id']}"
        assert body["country_codes"] == ["CA", "MX", "US"]
        assert (body["external_id"], body["match_type"], body["type"], body["owner"]) == \
            ("NorthAmerica", "ANY", "Single", api.user_id)
        for key in ("dma_codes", "devices", "ip_networks", "zip_codes", "sub_audiences"):
            assert body[key] == []
        assert body["created"].endswith("Z") and len(body["created"]) == 24

    @pytest.mark.parametrize("body, field", [
        ({"country_codes": ["XX"]}, "country_codes"), ({"zip_codes": ["1234"]}, "zip_codes"),
        ({"dma_codes": ["abc"]}, "dma_codes"), ({"ip_networks": ["300.1.1.1"]}, "ip_networks"),
        ({"match_type": "SOME"}, "match_type"), ({"type": "Double"}, "type"),
        ({"sub_audiences": ["x"]}, "sub_audiences"), ({"desc": ""}, "desc"),
        ({"country_codes": "US"}, "country_codes"),
    ])
    def test_invalid_values(self, api: Api, body: dict, field: str) -> None:
        assert_error(api.post("/audiences", {"desc": "bad", **body}), 400, field)
        assert api.get("/audiences").json()["total_items"] == 0

    def test_normalises(self, api: Api) -> None:
        body = audience(api, country_codes=["us", "ca", "US"], ip_networks=["10.1.2.3/8", "2001:db8::1"],
                        match_type="all")
        assert body["country_codes"] == ["CA", "US"] and body["match_type"] == "ALL"
        assert body["ip_networks"] == ["10.0.0.0/8", "2001:db8::1"]

    def test_superaudience(self, api: Api, other: Api) -> None:
        a, b = audience(api, zip_codes=["90503"]), audience(api, external_id="west", country_codes=["US"])
        sup = audience(api, type="Multiple", sub_audiences=[a["id"], "west"], match_type="ALL")
        assert sup["sub_audiences"] == [a["id"], b["id"]]
        assert_error(api.post("/audiences", {"desc": "s", "type": "Multiple", "sub_audiences": [sup["id"]]}), 400,
                     "sub_audiences[0]")
        assert_error(api.post("/audiences", {"desc": "s", "type": "Multiple", "country_codes": ["US"]}), 400,
                     "country_codes")
        foreign = audience(other)
        assert_error(api.post("/audiences", {"desc": "s", "type": "Multiple", "sub_audiences": [foreign["id"]]}),
                     400, foreign["id"])


class TestGetAudience:
    def test_by_id_and_external_id(self, api: Api, other: Api) -> None:
        a = api.post("/audiences", SEED_AUDIENCE).json()
        assert api.get(f"/audiences/{a['id']}").json() == a
        assert api.get("/audiences/NorthAmerica").json()["id"] == a["id"]
        assert_error(other.get(f"/audiences/{a['id']}"), 404, a["id"])


class TestGetMultipleAudiences:
    def test_paging_across_45(self, api: Api) -> None:
        for i in range(45):
            audience(api, desc=f"a{i:02d}")
        first = api.get("/audiences").json()
        assert (first["total_items"], len(first["items"])) == (45, 40)
        assert first["@links"]["next"] == "/api/v4/audiences?page=2&page_size=40"
        second = api.get("/audiences", params={"page": 2}).json()
        assert len(second["items"]) == 5
        assert {x["id"] for x in first["items"]}.isdisjoint({x["id"] for x in second["items"]})


class TestUpdateAudience:
    def test_seed_sample_returns_whole_audience(self, api: Api) -> None:
        a = api.post("/audiences", SEED_AUDIENCE).json()
        body = api.patch(f"/audiences/{a['id']}", {"country_codes": ["US", "MX"]}).json()
        assert body["country_codes"] == ["MX", "US"] and body["desc"] == "My New audience"

    def test_type_cannot_change(self, api: Api) -> None:
        a = audience(api)
        assert_error(api.patch(f"/audiences/{a['id']}", {"type": "Multiple"}), 400, "type")

    def test_failed_update_changes_nothing(self, api: Api) -> None:
        a = audience(api, zip_codes=["90503"])
        assert_error(api.patch(f"/audiences/{a['id']}", {"desc": "new", "zip_codes": ["bad"]}), 400, "zip_codes")
        assert api.get(f"/audiences/{a['id']}").json()["desc"] == "aud"


class TestDeleteAudience:
    def test_seed_shape(self, api: Api) -> None:
        a = audience(api)
        assert api.delete(f"/audiences/{a['id']}").json() == {"@id": f"/api/v4/audiences/{a['id']}",
                                                               "@type": "Audience", "message": "Deleted"}
        assert_error(api.get(f"/audiences/{a['id']}"), 404)

    def test_409_when_used_by_rule_or_superaudience(self, api: Api) -> None:
        a = audience(api)
        r = rule(api, audience=a["id"])
        assert_error(api.delete(f"/audiences/{a['id']}"), 409, r["id"])
        api.patch(f"/rules/{r['id']}", {"audience": ""})
        sup = audience(api, type="Multiple", sub_audiences=[a["id"]])
        assert_error(api.delete(f"/audiences/{a['id']}"), 409, sup["id"])


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
