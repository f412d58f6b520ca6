"""The SDK, the seed documents' sample scripts and the CLI, against a running server."""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from feedgate.cli.main import app
from feedgate.client import FeedgateClient, FeedgateError
from tests.playback.test_scte35 import start_cue
from tests.support import FEEDGATE, Api, Backend, wait_for

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


class TestCli:
    def env(self, api: Api) -> dict[str, str]:
        return {"FEEDGATE_URL": api.base_url, "FEEDGATE_USER_ID": api.user_id, "FEEDGATE_API_KEY": api.api_key}

    def test_runner_json_output_parses(self, api: Api) -> None:
        runner = CliRunner()
        env = self.env(api)
        made = runner.invoke(app, ["groups", "create", "News", "--json"], env=env)
        assert made.exit_code == 0, made.output
        group = json.loads(made.stdout)
        listed = json.loads(runner.invoke(app, ["groups", "list", "--json"], env=env).stdout)
        assert [g["id"] for g in listed] == [group["id"]]
        shown = runner.invoke(app, ["groups", "show", group["id"]], env=env)
        assert shown.exit_code == 0 and "News" in shown.stdout

    def test_subprocess_exit_codes_and_error_lines(self, api: Api) -> None:
        env = {**os.environ, **self.env(api)}
        ok = subprocess.run([FEEDGATE, "channels", "create", "Sports", "--json"], env=env, capture_output=True,
                            text=True)
        assert ok.returncode == 0 and json.loads(ok.stdout)["desc"] == "Sports"
        missing = subprocess.run([FEEDGATE, "groups", "show", "0" * 32], env=env, capture_output=True, text=True)
        assert missing.returncode == 1 and missing.stderr.strip().startswith("error: 404 Not Found")
        assert "Traceback" not in missing.stderr and len(missing.stderr.strip().splitlines()) == 1
        bad = subprocess.run([FEEDGATE, "groups", "list"], env={**env, "FEEDGATE_API_KEY": "nope"},
                             capture_output=True, text=True)
        assert bad.returncode == 1 and "401" in bad.stderr and "Traceback" not in bad.stderr
        down = subprocess.run([FEEDGATE, "groups", "list"], env={**env, "FEEDGATE_URL": "http://127.0.0.1:9"},
                              capture_output=True, text=True)
        assert down.returncode == 1 and "Cannot reach" in down.stderr and "Traceback" not in down.stderr

    def test_playback_explains_decision(self, api: Api) -> None:
        env = {**os.environ, **self.env(api)}
        ch = api.make_channel()
        rule = api.post("/rules", {"desc": "all", "all_viewers": True}).json()
        api.post(f"/channels/{ch['id']}/blackouts", {"blackout_id": "B", "rules": [rule["id"]]})
        api.put(f"/channels/{ch['id']}/program", {"blackout_id": "B"})
        out = subprocess.run([FEEDGATE, "playback", ch["id"], "--country", "US", "--zip", "90503"], env=env,
                             capture_output=True, text=True)
        assert out.returncode == 0 and "BLACKED OUT" in out.stdout and rule["id"] in out.stdout

    def test_users_create_json(self, backend: Backend) -> None:
        env = {**os.environ, "FEEDGATE_DATABASE_URL": backend.database_url}
        out = subprocess.run([FEEDGATE, "users", "create", "--name", "ops", "--json"], env=env,
                             capture_output=True, text=True, check=True)
        lines = out.stdout.strip().splitlines()
        assert len(lines) == 1 and set(json.loads(lines[0])) == {"user_id", "api_key"}

    def test_slicer_agent_joins_group(self, api: Api) -> None:
        env = {**os.environ, **self.env(api)}
        group = api.make_group()
        out = subprocess.run([FEEDGATE, "slicer-agent", "--slicer-id", "agent1", "--group", group["id"],
                              "--interval-ms", "100", "--count", "3"], env=env, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert out.stdout.count("agent1: role=") == 3
        wait_for(lambda: api.group(group["id"])["active_slicer_id"] == "agent1")


def test_demo_shows_failover_and_failback() -> None:
    out = subprocess.run([FEEDGATE, "demo", "--duration", "15"], capture_output=True, text=True, timeout=90)
    assert out.returncode == 0, out.stderr
    assert "failover" in out.stdout and "failback" in out.stdout and "demo stopped" in out.stdout


def test_cli_renames_blackout_id(api: Api) -> None:
    env = {"FEEDGATE_URL": api.base_url, "FEEDGATE_USER_ID": api.user_id, "FEEDGATE_API_KEY": api.api_key}
    ch = api.make_channel()
    blackout = api.post(f"/channels/{ch['id']}/blackouts", {"blackout_id": "BNA"}).json()
    out = CliRunner().invoke(app, ["blackouts", "update", ch["id"], blackout["id"], "--new-blackout-id",
                                   "NorthAmerica", "--json"], env=env)
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["blackout_id"] == "NorthAmerica"


def test_simulate_drives_slicers_and_takes_kill_commands(api: Api) -> None:
    env = {**os.environ, "FEEDGATE_URL": api.base_url, "FEEDGATE_USER_ID": api.user_id,
           "FEEDGATE_API_KEY": api.api_key}
    timed = subprocess.run([FEEDGATE, "simulate", "--groups", "2", "--slicers-per-group", "2", "--interval-ms", "200",
                            "--duration", "1.5"], env=env, capture_output=True, text=True, timeout=60)
    assert timed.returncode == 0, timed.stderr
    groups = api.get("/failover-groups").json()["items"]
    assert len(groups) == 2 and all(len(g["slicers"]) == 2 for g in groups)
    interactive = subprocess.run([FEEDGATE, "simulate", "--groups", "1", "--slicers-per-group", "2"], env=env,
                                 input="kill 0 1\nrevive 0 1\nkill 9 9\nquit\n", capture_output=True, text=True,
                                 timeout=60)
    assert interactive.returncode == 0, interactive.stderr
    assert "kill sim" in interactive.stdout and "revive sim" in interactive.stdout
    assert "error: no slicer g9 s9" in interactive.stderr
