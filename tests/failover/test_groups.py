"""The Live Slicer Failover API over real HTTP, one class per endpoint, on SQLite and PostgreSQL."""

import concurrent.futures

import pytest

from tests.support import Api, Backend, assert_error, wait_for


def group_with_slicers(api: Api, *slicers: str, **group: object) -> dict:
    g = api.make_group("News", **group)
    for s in slicers:
        assert api.heartbeat(s, g["id"]).status_code == 200
    return g


class TestCreateGroup:
    def test_defaults(self, api: Api) -> None:
        g = api.make_group("My Failover Group")
        assert g["@type"] == "FailoverGroup" and g["@id"] == f"/api/v4/failover-groups/{g['id']}"
        assert (g["mode"], g["auto_failback"], g["hot_warm"], g["owner"]) == ("prioritized", False, 0, api.user_id)
        assert (g["heartbeat_timeout_ms"], g["clear_after_ms"], g["blacklist_ms"]) == (3000, 10000, 60000)
        assert g["channels"] == [] and g["slicers"] == [] and g["active_slicer_id"] == ""

    @pytest.mark.parametrize("body, field", [
        ({}, "name"), ({"name": ""}, "name"), ({"name": "x", "mode": "random"}, "mode"),
        ({"name": "x", "heartbeat_timeout_ms": 0}, "heartbeat_timeout_ms"),
        ({"name": "x", "hot_warm": -1}, "hot_warm"), ({"name": "x", "auto_failback": "yes"}, "auto_failback"),
        ({"name": "x", "blacklist_ms": -5}, "blacklist_ms"),
    ])
    def test_invalid_fields(self, api: Api, body: dict, field: str) -> None:
        assert_error(api.post("/failover-groups", body), 400, field)
        assert api.get("/failover-groups").json()["total_items"] == 0


class TestGetAllFailoverGroups:
    def test_lists_own_and_shared_groups_only(self, api: Api, other: Api, backend: Backend) -> None:
        mine = api.make_group("mine")
        theirs = other.make_group("theirs")
        stranger = backend.new_user().make_group("stranger")
        assert other.put(f"/failover-groups/{theirs['id']}/allowed-owners",
                         {"owners_to_add": [api.user_id]}).status_code == 204
        listing = api.get("/failover-groups").json()
        assert listing["@type"] == "Collection" and listing["@id"] == "/api/v4/failover-groups"
        assert {g["id"] for g in listing["items"]} == {mine["id"], theirs["id"]}
        assert stranger["id"] not in {g["id"] for g in listing["items"]}
        assert listing["total_items"] == 2


class TestGetFailoverGroup:
    def test_seed_shape(self, api: Api) -> None:
        g = group_with_slicers(api, "news01", "news02")
        ch = api.make_channel("Broadcast01")
        api.put(f"/failover-groups/{g['id']}/channels", {"channels_ids_to_add": [ch["id"]]})
        body = wait_for(lambda: (b := api.group(g["id"]))["active_slicer_id"] == "news01" and b)
        assert body["channels"] == [{"id": ch["id"], "desc": "Broadcast01"}]
        assert [s["id"] for s in body["slicers"]] == ["news01", "news02"]
        first = body["slicers"][0]
        assert set(first) == {"id", "blacklist_until", "order", "status", "hostname", "enabled"}
        assert first["order"] == 1 and first["enabled"] is True and first["hostname"] == "news01.example"
        assert set(first["status"]) == {"state", "thumb_url"}
        for key in ("@id", "@type", "owner", "id", "name", "hot_warm", "mode", "auto_failback",
                    "failover_time", "active_slicer_id", "channels", "slicers"):
            assert key in body

    def test_another_owner_gets_404(self, api: Api, other: Api) -> None:
        g = api.make_group()
        assert_error(other.get(f"/failover-groups/{g['id']}"), 404, g["id"])

    def test_flat_mode_reads_order_1(self, api: Api) -> None:
        g = group_with_slicers(api, "a", "b", "c", mode="flat")
        assert [s["order"] for s in api.group(g["id"])["slicers"]] == [1, 1, 1]


class TestActivateSlicer:
    def test_activates_member_and_points_channels(self, api: Api) -> None:
        g = group_with_slicers(api, "s1", "s2")
        ch = api.make_channel()
        api.put(f"/failover-groups/{g['id']}/channels", {"channels_ids_to_add": [ch["id"]]})
        r = api.put(f"/failover-groups/{g['id']}/activate_slicer", {"slicer_id": "s2"})
        assert r.status_code == 204 and r.content == b""
        assert api.group(g["id"])["active_slicer_id"] == "s2"
        assert api.get(f"/channels/{ch['id']}").json()["slicer_id"] == "s2"
        kinds = [e["kind"] for e in api.get(f"/failover-groups/{g['id']}/events").json()["items"]]
        assert "activated" in kinds

    def test_400_with_auto_failback(self, api: Api) -> None:
        g = group_with_slicers(api, "s1", auto_failback=True)
        assert_error(api.put(f"/failover-groups/{g['id']}/activate_slicer", {"slicer_id": "s1"}), 400,
                     "auto_failback")

    def test_400_for_non_member(self, api: Api) -> None:
        g = group_with_slicers(api, "s1")
        api.heartbeat("loner")
        assert_error(api.put(f"/failover-groups/{g['id']}/activate_slicer", {"slicer_id": "loner"}), 400, "loner")

    def test_400_when_slicer_id_missing(self, api: Api) -> None:
        g = group_with_slicers(api, "s1")
        assert_error(api.put(f"/failover-groups/{g['id']}/activate_slicer", {}), 400, "slicer_id")

    def test_other_owners_slicer_by_owner_prefix(self, api: Api, other: Api) -> None:
        g = group_with_slicers(api, "s1")
        api.put(f"/failover-groups/{g['id']}/allowed-owners", {"owners_to_add": [other.user_id]})
        assert other.heartbeat("theirs", g["id"]).status_code == 200
        ref = f"{other.user_id}:theirs"
        assert ref in [s["id"] for s in api.group(g["id"])["slicers"]]
        assert api.put(f"/failover-groups/{g['id']}/activate_slicer", {"slicer_id": ref}).status_code == 204
        assert api.group(g["id"])["active_slicer_id"] == ref

    def test_allowed_owner_gets_403(self, api: Api, other: Api) -> None:
        g = group_with_slicers(api, "s1")
        api.put(f"/failover-groups/{g['id']}/allowed-owners", {"owners_to_add": [other.user_id]})
        assert_error(other.put(f"/failover-groups/{g['id']}/activate_slicer", {"slicer_id": "s1"}), 403)


class TestChannels:
    def test_adds_and_removes_without_replacing(self, api: Api) -> None:
        g = api.make_group()
        a, b, c = (api.make_channel(n) for n in "abc")
        url = f"/failover-groups/{g['id']}/channels"
        assert api.put(url, {"channels_ids_to_add": [a["id"], b["id"]]}).status_code == 204
        assert api.put(url, {"channels_ids_to_add": [c["id"]], "channels_ids_to_remove": [a["id"]]}).status_code == 204
        assert {ch["id"] for ch in api.group(g["id"])["channels"]} == {b["id"], c["id"]}
        assert api.get(f"/channels/{a['id']}").json()["failover_group_id"] is None

    def test_conflict_when_channel_in_other_group_applies_nothing(self, api: Api) -> None:
        g1, g2 = api.make_group("one"), api.make_group("two")
        taken, free = api.make_channel("taken"), api.make_channel("free")
        api.put(f"/failover-groups/{g1['id']}/channels", {"channels_ids_to_add": [taken["id"]]})
        r = api.put(f"/failover-groups/{g2['id']}/channels", {"channels_ids_to_add": [free["id"], taken["id"]]})
        assert_error(r, 409, taken["id"], "channels_ids_to_add[1]")
        assert api.group(g2["id"])["channels"] == []
        assert api.get(f"/channels/{free['id']}").json()["failover_group_id"] is None

    def test_unknown_channel_is_404(self, api: Api) -> None:
        g = api.make_group()
        assert_error(api.put(f"/failover-groups/{g['id']}/channels", {"channels_ids_to_add": ["f" * 32]}), 404,
                     "f" * 32)

    def test_channel_takes_active_slicer_at_once(self, api: Api) -> None:
        g = group_with_slicers(api, "s1", "s2")
        api.put(f"/failover-groups/{g['id']}/activate_slicer", {"slicer_id": "s2"})
        ch = api.make_channel()
        api.put(f"/failover-groups/{g['id']}/channels", {"channels_ids_to_add": [ch["id"]]})
        assert api.get(f"/channels/{ch['id']}").json()["slicer_id"] == "s2"

    def test_allowed_owner_adds_own_channel_only(self, api: Api, other: Api) -> None:
        g = api.make_group()
        api.put(f"/failover-groups/{g['id']}/allowed-owners", {"owners_to_add": [other.user_id]})
        theirs, mine = other.make_channel("theirs"), api.make_channel("mine")
        assert other.put(f"/failover-groups/{g['id']}/channels",
                         {"channels_ids_to_add": [theirs["id"]]}).status_code == 204
        assert_error(other.put(f"/failover-groups/{g['id']}/channels", {"channels_ids_to_add": [mine["id"]]}), 404)
        assert {c["id"] for c in api.group(g["id"])["channels"]} == {theirs["id"]}

    def test_twenty_concurrent_adds_one_winner(self, api: Api) -> None:
        channel = api.make_channel("contested")
        groups = [api.make_group(f"g{i}") for i in range(20)]

        def add(group: dict) -> int:
            return api.put(f"/failover-groups/{group['id']}/channels",
                           {"channels_ids_to_add": [channel["id"]]}).status_code

        with concurrent.futures.ThreadPoolExecutor(20) as pool:
            codes = list(pool.map(add, groups))
        assert sorted(codes) == [204] + [409] * 19
        owners = [g["id"] for g in groups if api.group(g["id"])["channels"]]
        assert len(owners) == 1
        assert api.get(f"/channels/{channel['id']}").json()["failover_group_id"] == owners[0]


class TestAllowedOwners:
    def test_seed_shape_and_add_remove(self, api: Api, other: Api, backend: Backend) -> None:
        third = backend.new_user()
        g = api.make_group()
        url = f"/failover-groups/{g['id']}/allowed-owners"
        assert api.put(url, {"owners_to_add": [other.user_id, third.user_id]}).status_code == 204
        assert api.put(url, {"owners_to_remove": [third.user_id]}).status_code == 204
        body = api.get(url).json()
        assert body["@type"] == "Collection" and body["@id"] == f"/api/v4/failover-groups/{g['id']}/allowed-owners"
        assert body["total_items"] == 1
        item = body["items"][0]
        assert item["owner"] == other.user_id and item["failover_group_id"] == g["id"] and len(item["id"]) == 32
        assert_error(third.get(f"/failover-groups/{g['id']}"), 404)

    def test_unknown_user_is_400(self, api: Api) -> None:
        g = api.make_group()
        assert_error(api.put(f"/failover-groups/{g['id']}/allowed-owners", {"owners_to_add": ["nobody"]}), 400,
                     "owners_to_add[0]", "nobody")

    def test_only_owner_may_change(self, api: Api, other: Api) -> None:
        g = api.make_group()
        api.put(f"/failover-groups/{g['id']}/allowed-owners", {"owners_to_add": [other.user_id]})
        assert_error(other.put(f"/failover-groups/{g['id']}/allowed-owners", {"owners_to_add": []}), 403)


class TestSetNoSlicer:
    def test_toggles_slate_and_back(self, api: Api) -> None:
        g = group_with_slicers(api, "s1")
        ch = api.make_channel()
        api.put(f"/failover-groups/{g['id']}/channels", {"channels_ids_to_add": [ch["id"]]})
        api.put(f"/failover-groups/{g['id']}/activate_slicer", {"slicer_id": "s1"})
        assert api.put(f"/failover-groups/{g['id']}/set_no_slicer", {"no_slicer": True}).status_code == 204
        assert api.group(g["id"])["active_slicer_id"] == "no_slicer"
        assert api.get(f"/channels/{ch['id']}").json()["slicer_id"] == "no_slicer"
        assert api.put(f"/failover-groups/{g['id']}/set_no_slicer", {"no_slicer": False}).status_code == 204
        assert api.group(g["id"])["active_slicer_id"] == "s1"
        kinds = [e["kind"] for e in api.get(f"/failover-groups/{g['id']}/events").json()["items"]
                 if e["kind"].startswith("no_slicer")]  # the engine's health events may interleave
        assert kinds == ["no_slicer_off", "no_slicer_on"]

    def test_no_slicer_required_boolean(self, api: Api) -> None:
        g = api.make_group()
        assert_error(api.put(f"/failover-groups/{g['id']}/set_no_slicer", {}), 400, "no_slicer")
        assert_error(api.put(f"/failover-groups/{g['id']}/set_no_slicer", {"no_slicer": "true"}), 400, "no_slicer")


class TestUpdateFailoverGroup:
    def test_seed_body(self, api: Api) -> None:
        g = api.make_group()
        r = api.patch(f"/failover-groups/{g['id']}", {"auto_failback": True, "mode": "prioritized"})
        assert r.status_code == 204
        assert api.group(g["id"])["auto_failback"] is True

    def test_policy_fields_and_name(self, api: Api) -> None:
        g = api.make_group()
        api.patch(f"/failover-groups/{g['id']}", {"name": "renamed", "heartbeat_timeout_ms": 500, "hot_warm": 2})
        body = api.group(g["id"])
        assert (body["name"], body["heartbeat_timeout_ms"], body["hot_warm"]) == ("renamed", 500, 2)

    def test_invalid_mode(self, api: Api) -> None:
        g = api.make_group()
        assert_error(api.patch(f"/failover-groups/{g['id']}", {"mode": "fastest"}), 400, "mode")
        assert api.group(g["id"])["mode"] == "prioritized"

    def test_flat_then_prioritized_keeps_orders(self, api: Api) -> None:
        g = group_with_slicers(api, "a", "b")
        api.patch(f"/failover-groups/{g['id']}", {"mode": "flat"})
        api.patch(f"/failover-groups/{g['id']}", {"mode": "prioritized"})
        assert [s["order"] for s in api.group(g["id"])["slicers"]] == [1, 2]


class TestUpdateSlicerEligibility:
    def test_seed_body_and_non_members_ignored(self, api: Api) -> None:
        g = group_with_slicers(api, "myslicer01", "myslicer02")
        r = api.put(f"/failover-groups/{g['id']}/slicers", {"slicers": [
            {"slicer_id": "myslicer01", "order": 2, "enabled": True},
            {"slicer_id": "myslicer02", "order": 1, "enabled": False},
            {"slicer_id": "stranger", "order": 9, "enabled": True},
        ]})
        assert r.status_code == 204
        slicers = {s["id"]: s for s in api.group(g["id"])["slicers"]}
        assert set(slicers) == {"myslicer01", "myslicer02"}
        assert (slicers["myslicer01"]["order"], slicers["myslicer02"]["enabled"]) == (2, False)

    def test_order_must_be_positive(self, api: Api) -> None:
        g = group_with_slicers(api, "a")
        assert_error(api.put(f"/failover-groups/{g['id']}/slicers", {"slicers": [{"slicer_id": "a", "order": 0}]}),
                     400, "order")


class TestDeleteGroup:
    def test_releases_channels_and_slicers(self, api: Api) -> None:
        g = group_with_slicers(api, "s1")
        ch = api.make_channel()
        api.put(f"/failover-groups/{g['id']}/channels", {"channels_ids_to_add": [ch["id"]]})
        r = api.delete(f"/failover-groups/{g['id']}")
        assert r.json() == {"@id": f"/api/v4/failover-groups/{g['id']}", "@type": "FailoverGroup",
                            "message": "Deleted"}
        assert api.get(f"/channels/{ch['id']}").json()["failover_group_id"] is None
        assert api.get("/slicers/s1").json()["failover_group_id"] is None
        assert_error(api.get(f"/failover-groups/{g['id']}"), 404)


class TestEvents:
    def test_newest_first_and_paged(self, api: Api) -> None:
        g = api.make_group()
        for i in range(3):
            api.patch(f"/failover-groups/{g['id']}", {"name": f"n{i}"})
        body = api.get(f"/failover-groups/{g['id']}/events", params={"page_size": 2}).json()
        assert body["total_items"] == 4 and len(body["items"]) == 2
        times = [e["time"] for e in body["items"]]
        assert times == sorted(times, reverse=True)
        assert set(body["items"][0]) >= {"id", "time", "kind", "from_slicer_id", "to_slicer_id", "reason"}


