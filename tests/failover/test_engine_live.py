"""The engine in a real server: heartbeats over HTTP, short timeouts, switches seen over the API."""

import time

from tests.support import FAST, Api, active, events, heartbeating, wait_for


class TestFailoverEngine:
    def test_heartbeat_loss_fails_over_then_failback(self, api: Api) -> None:
        g = api.make_group("live", auto_failback=True, **FAST)
        ch = api.make_channel()
        api.put(f"/failover-groups/{g['id']}/channels", {"channels_ids_to_add": [ch["id"]]})
        with heartbeating(api, g["id"], {"primary": {}, "backup": {}}) as beats:
            wait_for(lambda: active(api, g["id"]) == "primary")
            beats["primary"] = None  # primary goes silent
            wait_for(lambda: active(api, g["id"]) == "backup", timeout=5)
            assert api.get(f"/channels/{ch['id']}").json()["slicer_id"] == "backup"
            body = api.group(g["id"])
            primary = next(s for s in body["slicers"] if s["id"] == "primary")
            assert primary["blacklist_until"] > body["failover_time"]
            assert primary["status"]["state"] == -1
            failover = next(e for e in events(api, g["id"]) if e["kind"] == "failover" and e["from_slicer_id"])
            assert failover["from_slicer_id"] == "primary" and failover["to_slicer_id"] == "backup"
            assert "no heartbeat" in failover["reason"]
            beats["primary"] = {}  # back; failback after blacklist and clear_after
            wait_for(lambda: active(api, g["id"]) == "primary", timeout=8)
            assert [e["kind"] for e in events(api, g["id"])].count("failback") == 1

    def test_signal_breach_fails_over(self, api: Api) -> None:
        g = api.make_group("signals", **FAST)
        with heartbeating(api, g["id"], {"a": {}, "b": {}}) as beats:
            wait_for(lambda: active(api, g["id"]) == "a")
            beats["a"] = {"input_loss_ms": 900}
            wait_for(lambda: active(api, g["id"]) == "b", timeout=5)
            failover = next(e for e in events(api, g["id"]) if e["kind"] == "failover" and e["from_slicer_id"])
            assert "input_loss_ms 900 over threshold 500" in failover["reason"]
            a = next(s for s in api.group(g["id"])["slicers"] if s["id"] == "a")
            assert a["status"]["state"] == 1

    def test_flat_mode_fails_over_to_a_healthy_member(self, api: Api) -> None:
        g = api.make_group("flat", mode="flat", **FAST)
        with heartbeating(api, g["id"], {"x": {}, "y": {}, "z": {}}) as beats:
            first = wait_for(lambda: active(api, g["id"]))
            beats[first] = None
            second = wait_for(lambda: (a := active(api, g["id"])) != first and a, timeout=5)
            assert second in {"x", "y", "z"} - {first}

    def test_all_down_keeps_current_and_records_no_candidate_once(self, api: Api) -> None:
        g = api.make_group("down", **FAST)
        with heartbeating(api, g["id"], {"only": {}}) as beats:
            wait_for(lambda: active(api, g["id"]) == "only")
            beats["only"] = None
            wait_for(lambda: any(e["kind"] == "no_candidate" for e in events(api, g["id"])), timeout=5)
            time.sleep(1.0)
            kinds = [e["kind"] for e in events(api, g["id"])]
            assert kinds.count("no_candidate") == 1
            assert active(api, g["id"]) == "only"

    def test_heartbeat_role_tracks_activity(self, api: Api) -> None:
        g = api.make_group("roles", hot_warm=1, **FAST)
        with heartbeating(api, g["id"], {"a": {}, "b": {}}):
            wait_for(lambda: active(api, g["id"]) == "a")
            assert api.heartbeat("a", g["id"]).json()["role"] == "active"
            assert api.heartbeat("b", g["id"]).json()["role"] == "warm"
            assert api.heartbeat("a", g["id"]).json()["heartbeat_interval_ms"] == 133
