"""The command line's manners (#26): help everywhere, human times, whole IDs, no accidental databases, one
line for a used port, the first user's key kept out of logs, an agent that outlives a restart, clean Ctrl-C."""

import json
import os
import signal
import socket
import stat
import subprocess
import time
from pathlib import Path

import typer.main
from typer.testing import CliRunner

from feedgate.cli.main import app
from feedgate.kit.migrate import upgrade
from tests.support import FEEDGATE, Api, ServerProcess, active, free_port, heartbeating, wait_for


def commands() -> list[tuple[str, object]]:
    def walk(command: object, path: list[str]) -> list[tuple[str, object]]:
        subs = getattr(command, "commands", None)
        if subs is None:
            return [(" ".join(path), command)]
        return [found for name, sub in subs.items() for found in walk(sub, [*path, name])]
    return walk(typer.main.get_command(app), [])


def test_every_command_has_help() -> None:
    found = commands()
    assert len(found) > 50
    assert [name for name, c in found if not (getattr(c, "help", "") or "").strip()] == []


def env_of(api: Api) -> dict[str, str]:
    return {"FEEDGATE_URL": api.base_url, "FEEDGATE_USER_ID": api.user_id, "FEEDGATE_API_KEY": api.api_key}


def test_events_show_human_times_and_lists_keep_ids_whole(api: Api) -> None:
    g = api.make_group("News")
    with heartbeating(api, g["id"], {"news01": {}}):
        wait_for(lambda: active(api, g["id"]) == "news01")
    runner = CliRunner()
    local = runner.invoke(app, ["groups", "events", g["id"]], env={**env_of(api), "COLUMNS": "80"})
    assert local.exit_code == 0, local.output
    assert "ago)" in local.stdout or "(now)" in local.stdout
    assert str(int(time.time()))[:6] not in local.stdout  # no raw Unix milliseconds
    utc = runner.invoke(app, ["groups", "events", g["id"], "--utc"], env={**env_of(api), "COLUMNS": "80"})
    assert "UTC" in utc.stdout
    listed = runner.invoke(app, ["groups", "list"], env={**env_of(api), "COLUMNS": "80"})
    first_column = "".join(line.split("│")[1].strip() for line in listed.stdout.splitlines() if line.startswith("│"))
    assert g["id"] in first_column and "…" not in listed.stdout  # folded over lines, never cut


def test_groups_configure_sets_the_signal_thresholds(api: Api) -> None:
    g = api.make_group("News")
    runner = CliRunner()
    done = runner.invoke(app, ["groups", "configure", g["id"], "--input-loss-ms", "1500", "--dropped-frames-pct",
                               "2.5"], env=env_of(api))
    assert done.exit_code == 0, done.output
    stored = api.group(g["id"])
    assert stored["input_loss_ms"] == 1500 and stored["dropped_frames_pct"] == 2.5


def test_a_command_run_elsewhere_creates_no_database(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "FEEDGATE_DATABASE_URL"}
    run = subprocess.run([FEEDGATE, "users", "list"], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 1
    assert "no database at" in run.stderr and "feedgate migrate" in run.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_used_port_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = subprocess.run([FEEDGATE, "serve", "--port", str(port)], capture_output=True, text=True, timeout=60,
                             env={**os.environ, "FEEDGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert run.returncode == 1
    lines = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
    assert len(lines) == 1 and f"127.0.0.1:{port} is in use" in lines[0], lines
    assert not (tmp_path / "x.db").exists()  # nothing started, nothing created


def test_the_first_users_key_stays_out_of_the_log(tmp_path: Path) -> None:
    creds = tmp_path / "config" / "credentials"
    port = free_port()
    log = tmp_path / "log"
    with log.open("w") as out:
        proc = subprocess.Popen([FEEDGATE, "serve", "--first-user", "--port", str(port)], stdout=out,
                                stderr=subprocess.STDOUT,
                                env={**os.environ, "FEEDGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'f.db'}",
                                     "FEEDGATE_CREDENTIALS": str(creds)})
        try:
            wait_for(lambda: creds.exists() and "Uvicorn running" in log.read_text(), timeout=30)
        finally:
            proc.terminate()
            proc.wait(15)
    saved = json.loads(creds.read_text())
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600
    text = log.read_text()
    assert saved["api_key"] not in text and str(creds) in text
    assert "setup plugin" not in text and "Context impl" not in text  # a quiet start: the steps run, no chatter
    # The CLI finds the saved key by itself.
    with_saved = {k: v for k, v in os.environ.items() if not k.startswith("FEEDGATE_")}
    run = subprocess.run([FEEDGATE, "users", "list", "--json"], capture_output=True, text=True, timeout=60,
                         env={**with_saved, "FEEDGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'f.db'}"})
    assert [u["user_id"] for u in json.loads(run.stdout)] == [saved["user_id"]]


def test_the_slicer_agent_outlives_a_server_that_is_not_there_yet(tmp_path: Path) -> None:
    from feedgate.auth.service import create_user
    from feedgate.kit.db import Database

    url = f"sqlite:///{tmp_path / 'a.db'}"
    upgrade(url)
    db = Database(url)
    with db.sessions() as session:
        user = create_user(session, "ops")
    db.dispose()
    port = free_port()
    agent = subprocess.Popen([FEEDGATE, "slicer-agent", "--slicer-id", "enc1", "--group", "nope", "--count", "3",
                              "--interval-ms", "200"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "FEEDGATE_URL": f"http://127.0.0.1:{port}",
                                  "FEEDGATE_USER_ID": user.id, "FEEDGATE_API_KEY": user.api_key})
    time.sleep(2.0)  # the agent retries meanwhile
    assert agent.poll() is None
    server = ServerProcess(url, port=port).start()
    try:
        api = Api(server.base_url, user.id, user.api_key)
        group = api.make_group("late")
        # Once the server answers, "nope" is a group that does not exist: not transient, one line and exit 1.
        _, errors = agent.communicate(timeout=30)
        assert agent.returncode == 1 and "retrying in" in errors and "Traceback" not in errors
        again = subprocess.run([FEEDGATE, "slicer-agent", "--slicer-id", "enc1", "--group", group["id"], "--count",
                                "2", "--interval-ms", "100"], capture_output=True, text=True, timeout=60,
                               env={**os.environ, "FEEDGATE_URL": server.base_url, "FEEDGATE_USER_ID": user.id,
                                    "FEEDGATE_API_KEY": user.api_key})
        assert again.returncode == 0, again.stderr
        assert "role=" in again.stdout and "{'" not in again.stdout
    finally:
        server.stop()


def test_ctrl_c_ends_a_command_cleanly(api: Api) -> None:
    g = api.make_group("agent")
    agent = subprocess.Popen([FEEDGATE, "slicer-agent", "--slicer-id", "enc1", "--group", g["id"]],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, **env_of(api)})
    wait_for(lambda: active(api, g["id"]) == "enc1", timeout=20)
    agent.send_signal(signal.SIGINT)
    _, errors = agent.communicate(timeout=20)
    assert agent.returncode == 130 and "Traceback" not in errors and "stopped" in errors


def test_webhooks_take_their_format_on_the_command_line(api: Api) -> None:
    runner = CliRunner()
    made = runner.invoke(app, ["webhooks", "create", "http://127.0.0.1:9/pd", "--format", "pagerduty",
                               "--routing-key", "R0ut1ngK3yF0rTh3F33dg4t3T3st0001", "--json"], env=env_of(api))
    assert made.exit_code == 0, made.output
    hook = json.loads(made.stdout)
    assert hook["format"] == "pagerduty" and hook["routing_key_set"] is True
    refused = runner.invoke(app, ["webhooks", "create", "http://127.0.0.1:9/pd", "--format", "pagerduty"],
                            env=env_of(api))
    assert refused.exit_code == 1 and "routing_key" in refused.output
