"""Audiences and superaudiences over HTTP, as the Blackout API document describes them."""

import pytest

from tests.support import SEED_AUDIENCE, Api, assert_error, audience, rule


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
