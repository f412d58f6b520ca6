"""Slicers over HTTP: the heartbeat registers, joins and reports; listing, reading and deleting."""

from tests.support import Api, assert_error


class TestSlicerHeartbeat:
    def test_join_registers_and_appends(self, api: Api) -> None:
        g = api.make_group()
        answer = api.heartbeat("enc1", g["id"]).json()
        assert set(answer) == {"role", "active", "failover_group_id", "heartbeat_interval_ms"}
        assert answer["failover_group_id"] == g["id"]
        api.heartbeat("enc2", g["id"])
        assert [(s["id"], s["order"]) for s in api.group(g["id"])["slicers"]] == [("enc1", 1), ("enc2", 2)]
        events = api.get(f"/failover-groups/{g['id']}/events").json()["items"]
        joins = sorted(e["reason"] for e in events if e["kind"] == "joined")
        assert joins == ["joined by heartbeat from enc1.example", "joined by heartbeat from enc2.example"]

    def test_conflict_when_slicer_in_other_group(self, api: Api) -> None:
        g1, g2 = api.make_group("1"), api.make_group("2")
        api.heartbeat("enc", g1["id"])
        assert_error(api.heartbeat("enc", g2["id"]), 409, g1["id"])
        assert api.group(g2["id"])["slicers"] == []

    def test_unknown_or_foreign_group_is_404(self, api: Api, other: Api) -> None:
        g = other.make_group()
        assert_error(api.heartbeat("enc", g["id"]), 404, g["id"])
        assert_error(api.heartbeat("enc", "0" * 32), 404)

    def test_hostname_required_and_signals_validated(self, api: Api) -> None:
        assert_error(api.put("/slicers/enc/status", {}), 400, "hostname")
        assert_error(api.put("/slicers/enc/status", {"hostname": "h", "signals": {"input_loss_ms": -1}}), 400,
                     "input_loss_ms")
        assert_error(api.put("/slicers/bad id!/status", {"hostname": "h"}), 400, "slicer_id")

    def test_list_get_delete(self, api: Api, other: Api) -> None:
        g = api.make_group()
        api.heartbeat("enc", g["id"])
        assert [s["id"] for s in api.get("/slicers").json()["items"]] == ["enc"]
        assert other.get("/slicers").json()["total_items"] == 0
        assert_error(other.get("/slicers/enc"), 404, "enc")
        assert api.delete("/slicers/enc").json()["message"] == "Deleted"
        assert api.group(g["id"])["slicers"] == []
