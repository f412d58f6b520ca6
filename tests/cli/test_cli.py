"""The command line, in-process and as real subprocesses against a real server."""

import json
import os
import subprocess

from sqlalchemy import func, select
from typer.testing import CliRunner

from feedgate.cli.main import app
from feedgate.kit.ids import new_id
from feedgate.webhooks.models import Webhook, WebhookDelivery
from tests.support import FEEDGATE, Api, Backend, wait_for


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


def test_simulate_rehearses_a_bad_day_counts_it_and_cleans_up(api: Api, backend: Backend) -> None:
    with backend.db.sessions() as session:  # a webhook of the user's: a rehearsal's events stay off it
        session.add(Webhook(id=new_id(), owner=api.user_id, url="http://127.0.0.1:9/x", events=["*"], secret="s"))
        session.commit()
    env = {**os.environ, "FEEDGATE_URL": api.base_url, "FEEDGATE_USER_ID": api.user_id,
           "FEEDGATE_API_KEY": api.api_key}
    # A timeout well above a loaded machine's hiccups (a busy CI runner made a 600 ms one fail over falsely).
    run = subprocess.run([FEEDGATE, "simulate", "--groups", "3", "--slicers-per-group", "2", "--interval-ms", "250",
                          "--heartbeat-timeout-ms", "1500", "--script", "3 kill 0 0; 3 kill 1 0", "--duration", "7",
                          "--json"], env=env, capture_output=True, text=True, timeout=90)
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["failovers_planned"] == 2 and summary["failovers_unplanned"] == 0, summary
    assert summary["no_candidate"] == 0 and summary["disruptions"] == 0
    assert 0 < summary["heartbeats_acknowledged"] == summary["heartbeats_sent"]
    assert 0 <= summary["switch_over_timeout_ms"]["max"] < 2000
    assert "deleted" in run.stderr
    assert api.get("/failover-groups").json()["items"] == []  # its groups are gone
    assert api.get("/slicers").json()["items"] == []  # and its slicers
    with backend.db.reading() as conn:
        assert conn.execute(select(func.count()).select_from(WebhookDelivery)
                            .where(WebhookDelivery.owner == api.user_id)).scalar() == 0


def test_simulate_takes_typed_commands(api: Api) -> None:
    env = {**os.environ, "FEEDGATE_URL": api.base_url, "FEEDGATE_USER_ID": api.user_id,
           "FEEDGATE_API_KEY": api.api_key}
    interactive = subprocess.run([FEEDGATE, "simulate", "--groups", "1", "--slicers-per-group", "2", "--keep"],
                                 env=env, input="kill 0 1\nrevive 0 1\nkill 9 9\nsite x\nquit\n",
                                 capture_output=True, text=True, timeout=60)
    assert interactive.returncode == 0, interactive.stderr
    assert "kill sim" in interactive.stdout and "revive sim" in interactive.stdout
    assert "error: no slicer g9 s9" in interactive.stderr and "not a number" in interactive.stderr
    kept = api.get("/failover-groups").json()["items"]
    assert len(kept) == 1 and kept[0]["name"].startswith("sim-") and kept[0]["notify"] is False
