"""Webhooks with a real local HTTP receiver: signed deliveries, retries, crash safety, one sender."""

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.support import (
    FAST,
    Api,
    Backend,
    PostgresServer,
    ServerProcess,
    active,
    assert_error,
    free_port,
    heartbeating,
    started_backend,
    two_instances,
    wait_for,
)

ALLOW = {"FEEDGATE_WEBHOOK_ALLOW_PRIVATE": "1"}


class Receiver:
    """An HTTP server that records every POST and answers from a script of statuses (then 200)."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.got: list[dict[str, Any]] = []
        self.script: list[int] = []
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.got.append({"headers": dict(self.headers), "body": body})
                    status = receiver.script.pop(0) if receiver.script else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def events(self, kind: str) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(g["body"]) for g in self.got if json.loads(g["body"])["type"] == kind]


def verify(secret: str, header: str, body: bytes, tolerance_s: int = 300) -> bool:
    """The documented recipe (README): the same as a Stripe webhook check."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"]) and abs(time.time() - int(parts["t"])) <= tolerance_s


@pytest.fixture(scope="module")
def hooked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    path: Path = tmp_path_factory.mktemp("webhooks") / "hooks.db"
    with started_backend("sqlite-webhooks", f"sqlite:///{path}", **ALLOW) as backend:
        yield backend


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


def fail_over(api: Api, **group: Any) -> dict[str, Any]:
    g = api.make_group("alerts", **{**FAST, **group})
    with heartbeating(api, g["id"], {"primary": {}, "backup": {}}) as beats:
        wait_for(lambda: active(api, g["id"]) == "primary")
        beats["primary"] = None
        wait_for(lambda: active(api, g["id"]) == "backup", timeout=5)
    return g


def test_a_failover_is_one_signed_delivery_within_2_s(hooked: Backend, receiver: Receiver) -> None:
    api = hooked.new_user()
    hook = api.post("/webhooks", {"url": receiver.url, "events": ["failover"], "description": "pager"}).json()
    assert hook["secret"].startswith("whsec_") and "secret" not in api.get(f"/webhooks/{hook['id']}").json()
    g = fail_over(api)
    switched = time.monotonic()
    got = wait_for(lambda: [e for e in receiver.events("failover_group.failover")
                            if e["data"]["from_slicer_id"] == "primary"], timeout=2.5)
    assert time.monotonic() - switched < 2.0 + 0.5
    assert len(got) == 1
    event = got[0]
    assert event["owner"] == api.user_id and event["data"]["to_slicer_id"] == "backup"
    assert event["data"]["failover_group_id"] == g["id"] and event["data"]["failover_group_name"] == "alerts"
    raw = next(r for r in receiver.got if json.loads(r["body"])["id"] == event["id"])
    assert verify(hook["secret"], raw["headers"]["Feedgate-Signature"], raw["body"])
    assert not verify("whsec_wrong", raw["headers"]["Feedgate-Signature"], raw["body"])
    assert raw["headers"]["Feedgate-Delivery"] == event["id"]
    assert raw["headers"]["Feedgate-Event"] == "failover_group.failover"
    assert raw["headers"]["User-Agent"].startswith("feedgate/")
    deliveries = api.get(f"/webhooks/{hook['id']}/deliveries").json()["items"]
    mine = next(d for d in deliveries if d["id"] == event["id"])
    wait_for(lambda: next(d for d in api.get(f"/webhooks/{hook['id']}/deliveries").json()["items"]
                          if d["id"] == event["id"])["state"] == "delivered")
    assert mine["event"] == "failover_group.failover"


def test_a_receiver_failing_three_times_gets_it_on_the_fourth_attempt(hooked: Backend, receiver: Receiver) -> None:
    api = hooked.new_user()
    hook = api.post("/webhooks", {"url": receiver.url, "events": ["*"]}).json()
    receiver.script = [500, 500, 500]
    ping = api.post(f"/webhooks/{hook['id']}/test")
    assert ping.status_code == 202
    delivery_id = ping.json()["id"]

    def state() -> dict[str, Any]:
        return next(d for d in api.get(f"/webhooks/{hook['id']}/deliveries").json()["items"] if d["id"] == delivery_id)

    wait_for(lambda: state()["state"] == "delivered", timeout=15)
    assert state()["attempts"] == 4 and state()["last_status"] == 200
    assert len([g for g in receiver.got if json.loads(g["body"])["id"] == delivery_id]) == 4


def test_a_server_killed_after_the_switch_still_delivers(tmp_path: Path) -> None:
    receiver = Receiver()  # not listening yet: the first attempts are refused
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    with started_backend("sqlite", url, **ALLOW) as b:
        api = b.new_user()
        api.post("/webhooks", {"url": receiver.url, "events": ["failover"]})
        fail_over(api)
        b.server.kill()  # the switch is committed, and with it the outbox row
        receiver.start()
        restarted = ServerProcess(url, env_extra=ALLOW, port=b.server.port).start()
        try:
            got = wait_for(lambda: [e for e in receiver.events("failover_group.failover")
                                    if e["data"]["from_slicer_id"] == "primary"], timeout=15)
            assert len({e["id"] for e in got}) == 1
        finally:
            restarted.stop()
            receiver.stop()


def test_two_instances_deliver_each_event_once(postgres: PostgresServer, receiver: Receiver) -> None:
    with two_instances(postgres, **ALLOW) as (_, second):
        second.post("/webhooks", {"url": receiver.url, "events": ["*"]})
        fail_over(second)
        got = wait_for(lambda: [e for e in receiver.events("failover_group.failover")
                                if e["data"]["from_slicer_id"] == "primary"], timeout=5)
        time.sleep(2.0)  # time for a duplicate to arrive
        ids = [json.loads(g["body"])["id"] for g in receiver.got]
        assert len(ids) == len(set(ids)), "a delivery was sent twice"
        again = [e for e in receiver.events("failover_group.failover") if e["data"]["from_slicer_id"] == "primary"]
        assert len(again) == len(got) == 1


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """A server with the default address guard (no private URLs)."""
    path: Path = tmp_path_factory.mktemp("guarded") / "guarded.db"
    with started_backend("sqlite-guarded", f"sqlite:///{path}", FEEDGATE_ALLOW_PRIVATE_URLS="0") as backend:
        yield backend


class TestWebhookApi:
    @pytest.mark.parametrize("url", ["ftp://example.com/hook", "not a url", "http://169.254.169.254/latest/meta-data",
                                     "http://[fd00:ec2::254]/", "http://127.0.0.1:9/hook", "http://10.0.0.1/hook"])
    def test_bad_and_internal_urls_are_refused_naming_url(self, guarded: Backend, url: str) -> None:
        api = guarded.new_user()
        assert_error(api.post("/webhooks", {"url": url, "events": ["*"]}), 400, "'url'")
        assert api.get("/webhooks").json()["total_items"] == 0

    def test_tenancy_and_crud(self, hooked: Backend, receiver: Receiver) -> None:
        api, other = hooked.new_user("a"), hooked.new_user("b")
        g = api.make_group("mine")
        hook = api.post("/webhooks", {"url": receiver.url, "events": ["failover", "failback"],
                                      "failover_group_ids": [g["id"]]}).json()
        path = f"/webhooks/{hook['id']}"
        for call in (lambda: other.get(path), lambda: other.patch(path, {"enabled": False}),
                     lambda: other.delete(path), lambda: other.post(path + "/test"),
                     lambda: other.get(path + "/deliveries"), lambda: other.post(path + "/rotate-secret")):
            assert_error(call(), 404, hook["id"])
        assert other.get("/webhooks").json()["total_items"] == 0
        assert_error(other.post("/webhooks", {"url": receiver.url, "events": ["*"], "failover_group_ids": [g["id"]]}),
                     400, "failover_group_ids[0]")
        assert api.patch(path, {"enabled": False, "description": None}).json()["enabled"] is False
        rotated = api.post(path + "/rotate-secret").json()
        assert rotated["secret"] != hook["secret"]
        assert api.delete(path).json()["@id"] == f"/api/v4{path}"
        assert api.get(path).status_code == 404


def test_client_and_cli_cover_webhooks(hooked: Backend, receiver: Receiver) -> None:
    from typer.testing import CliRunner

    from feedgate.cli.main import app
    from feedgate.client import FeedgateClient

    api = hooked.new_user("cli")
    with FeedgateClient(api.base_url, api.user_id, api.api_key) as fg:
        hook = fg.create_webhook(receiver.url, ["failover", "no_candidate"], description="ops pager")
        assert hook.secret and [h.id for h in fg.list_webhooks()] == [hook.id]
        assert fg.update_webhook(hook.id, enabled=False).enabled is False
        assert fg.update_webhook(hook.id, enabled=True).enabled is True
        ping = fg.test_webhook(hook.id)
        wait_for(lambda: fg.webhook_deliveries(hook.id)[0].state == "delivered")
        assert fg.webhook_deliveries(hook.id)[0].id == ping.id
        assert fg.rotate_webhook_secret(hook.id).secret != hook.secret
    env = {"FEEDGATE_URL": api.base_url, "FEEDGATE_USER_ID": api.user_id, "FEEDGATE_API_KEY": api.api_key}
    runner = CliRunner()
    made = runner.invoke(app, ["webhooks", "create", receiver.url, "--events", "failover,failback", "--json"], env=env)
    assert made.exit_code == 0, made.output
    created = json.loads(made.stdout)
    assert created["events"] == ["failover", "failback"] and created["secret"]
    listed = json.loads(runner.invoke(app, ["webhooks", "list", "--json"], env=env).stdout)
    assert {h["id"] for h in listed} == {hook.id, created["id"]}
    assert runner.invoke(app, ["webhooks", "test", created["id"]], env=env).exit_code == 0
    shown = runner.invoke(app, ["webhooks", "deliveries", created["id"]], env=env)
    assert shown.exit_code == 0 and "ping" in shown.stdout
    assert runner.invoke(app, ["webhooks", "delete", created["id"]], env=env).exit_code == 0
    refused = runner.invoke(app, ["webhooks", "show", created["id"]], env=env)
    assert refused.exit_code != 0 and created["id"] in refused.output


def test_finished_deliveries_are_pruned_after_a_week_and_pending_ones_kept(tmp_path: Path) -> None:
    from feedgate.auth.service import create_user
    from feedgate.kit.db import Database
    from feedgate.kit.migrate import upgrade
    from feedgate.webhooks.models import Webhook, WebhookDelivery
    from feedgate.webhooks.outbox import deliveries
    from feedgate.webhooks.sender import KEEP_MS, WebhookSender

    url = f"sqlite:///{tmp_path / 'prune.db'}"
    upgrade(url)
    db = Database(url)
    try:
        with db.sessions() as session:
            user = create_user(session, "ops")
            hook = Webhook(id="h1", owner=user.id, url="http://93.184.215.14/", description="", events=["*"],
                           failover_group_ids=[], enabled=True, secret="whsec_x", format="feedgate")
            session.add(hook)
            session.flush()
            now = 10 * KEEP_MS
            rows = {"old-done": ("delivered", now - KEEP_MS - 1), "old-failed": ("failed", now - KEEP_MS - 1),
                    "old-pending": ("pending", now - KEEP_MS - 1), "new-done": ("delivered", now - 1000)}
            for key, (state, created) in rows.items():
                row = {**deliveries(hook, "ping", {}, created)[0], "id": key, "state": state}
                session.add(WebhookDelivery(**row))
            session.commit()
        assert WebhookSender(db, lambda: True).prune(now) == 2
        with db.sessions() as session:
            left = {d.id for d in session.query(WebhookDelivery)}
        assert left == {"old-pending", "new-done"}
    finally:
        db.dispose()
