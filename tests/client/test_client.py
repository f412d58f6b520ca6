"""The Python SDK and the seed documents' sample scripts, against a running server."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from feedgate.client import FeedgateClient, FeedgateError
from tests.support import Api, start_cue

SEEDS = Path(__file__).parent / "seed_scripts"


@pytest.fixture
def fg(api: Api) -> FeedgateClient:
    return FeedgateClient(api.base_url, api.user_id, api.api_key)


class TestClient:
    def test_failover_resources(self, fg: FeedgateClient) -> None:
        group = fg.create_group("News", hot_warm=1)
        channel = fg.create_channel("Broadcast01", external_id="b01")
        fg.change_channels(group.id, add=[channel.id])
        answer = fg.heartbeat("news01", "news01.example", group.id, {"input_loss_ms": 0})
        assert answer.failover_group_id == group.id
        fg.heartbeat("news02", "news02.example", group.id)
        fg.change_slicers(group.id, [{"slicer_id": "news02", "enabled": False}])
        fg.activate_slicer(group.id, "news01")
        got = fg.get_group(group.id)
        assert got.active_slicer_id == "news01" and [s.id for s in got.slicers] == ["news01", "news02"]
        assert got.slicers[1].enabled is False and got.channels[0].desc == "Broadcast01"
        assert fg.get_channel("b01").slicer_id == "news01"
        # The engine may record health transitions of the new members around it; the activation is there once.
        activated = [e for e in fg.events(group.id) if e.kind == "activated"]
        assert [e.to_slicer_id for e in activated] == ["news01"]
        fg.set_no_slicer(group.id, True)
        assert fg.get_group(group.id).active_slicer_id == "no_slicer"
        assert [g.id for g in fg.list_groups()] == [group.id]
        assert {s.id for s in fg.list_slicers()} == {"news01", "news02"}
        fg.remove_slicer(group.id, "news02")
        assert fg.get_slicer("news02").failover_group_id is None
        fg.update_group(group.id, name="Renamed")
        assert fg.get_group(group.id).name == "Renamed"
        fg.delete_group(group.id)
        fg.delete_slicer("news02")
        assert fg.update_channel(channel.id, desc="B1").desc == "B1"
        fg.delete_channel(channel.id)
        assert fg.list_channels() == []

    def test_blackout_resources_and_decision(self, fg: FeedgateClient, other: Api) -> None:
        channel = fg.create_channel("Sports")
        audience = fg.create_audience("LA", zip_codes=["90503"])
        assert fg.update_audience(audience.id, country_codes=["us"]).country_codes == ["US"]
        rule = fg.create_rule("la", audience=audience.id, alternate_content_type="asset", alternate_content_id="x")
        assert fg.update_rule(rule.id, alternate_content_loop=False).alternate_content_loop is False
        blackout = fg.create_blackout(channel.id, "BNA", [rule.id], desc="North America")
        assert fg.get_blackout(channel.id, blackout.id).included[0].id == rule.id
        assert fg.update_blackout(channel.id, blackout.id, desc="NA").desc == "NA"
        assert [b.blackout_id for b in fg.list_blackouts(channel.id)] == ["BNA"]
        fg.send_scte35(channel.id, start_cue("BNA"))
        assert fg.get_program(channel.id).blackout_id == "BNA"
        decision = fg.playback(channel.id, country="US", zip="90503")
        assert decision.blacked_out and decision.rule == rule.id and decision.content.id == "x"
        window = fg.add_window(channel.id, "BNA", "2030-01-01T00:00:00Z", "2030-01-01T01:00:00Z")
        assert [w.id for w in fg.list_windows(channel.id)] == [window.id]
        fg.delete_window(channel.id, window.id)
        fg.start_program(channel.id, None)
        assert fg.playback(channel.id, country="US", zip="90503").blacked_out is False
        fg.delete_blackout(channel.id, blackout.id)
        fg.delete_rule(rule.id)
        fg.delete_audience(audience.id)
        assert fg.list_audiences() == [] and fg.list_rules() == []

    def test_errors_raise_one_type(self, fg: FeedgateClient) -> None:
        with pytest.raises(FeedgateError) as caught:
            fg.get_group("0" * 32)
        assert caught.value.status == 404 and "0" * 32 in caught.value.description
        with pytest.raises(FeedgateError) as caught:
            FeedgateClient(fg.base_url, fg.user_id, "wrong").list_groups()
        assert caught.value.status == 401
        with pytest.raises(FeedgateError) as caught:
            FeedgateClient("http://127.0.0.1:9", "u", "k").list_groups()
        assert caught.value.status == 0 and "Cannot reach" in caught.value.description


def run_seed(script: str, api: Api, replace: dict[str, str] | None = None) -> str:
    """A seed sample script, verbatim but for its host and IDs, run with `requests` as a subprocess."""
    text = (SEEDS / script).read_text().replace("https://services.uplynk.com", api.base_url)
    for old, new in (replace or {}).items():
        text = text.replace(old, new)
    env = {**os.environ, "FEEDGATE_USER_ID": api.user_id, "FEEDGATE_API_KEY": api.api_key}
    done = subprocess.run([sys.executable, "-c", text], env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


class TestSeedScripts:
    def test_get_all_failover_groups(self, api: Api) -> None:
        group = api.make_group("My Failover Group")
        body = ast.literal_eval(run_seed("get_all_failover_groups.py", api))
        assert body["@type"] == "Collection" and body["items"][0]["id"] == group["id"]

    def test_toggle_source_feed(self, api: Api) -> None:
        group = api.make_group()
        assert run_seed("toggle_source_feed.py", api, {"e8d6b5cb940c40cc9ec6ad081a38f3f0": group["id"]}) == "204"
        assert api.group(group["id"])["active_slicer_id"] == "no_slicer"

    def test_audience_and_rule_scripts(self, api: Api) -> None:
        audience = ast.literal_eval(run_seed("add_audience.py", api))
        assert audience["country_codes"] == ["CA", "MX", "US"] and audience["external_id"] == "NorthAmerica"
        rule = ast.literal_eval(run_seed("add_rule.py", api))
        assert rule["all_viewers"] is True and rule["alternate_content_type"] == "slate"
        deleted = ast.literal_eval(run_seed("delete_audience.py", api, {"Hak3zjnPLSW5o0j8GMpzRMsa": "NorthAmerica"}))
        assert deleted["message"] == "Deleted"


