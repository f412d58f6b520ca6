"""Native alert formats: a webhook's `format` is feedgate, slack or pagerduty. Local receivers check each
service's documented schema (Slack incoming webhooks: `text` and blocks; PagerDuty Events v2: routing_key,
event_action, dedup_key, and a payload with summary, source and severity on a trigger)."""

import json
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from tests.support import Api, Backend, active, assert_error, events, heartbeating, serve_http, wait_for

ROUTING_KEY = "R0ut1ngK3yF0rTh3F33dg4t3T3st0001"  # 32 characters, as PagerDuty issues them
SEVERITIES = {"critical", "error", "warning", "info"}


def check_slack(body: dict[str, Any]) -> list[str]:
    problems = []
    if not isinstance(body.get("text"), str) or not body["text"]:
        problems.append("text must be a non-empty string")
    for block in body.get("blocks", []):
        if block.get("type") == "section":
            if block.get("text", {}).get("type") not in ("mrkdwn", "plain_text"):
                problems.append("a section's text needs a type")
            if len(block["text"].get("text", "")) > 3000:
                problems.append("a section's text is at most 3000 characters")
        elif block.get("type") == "context":
            if not 1 <= len(block.get("elements", [])) <= 10:
                problems.append("a context block has 1 to 10 elements")
        else:
            problems.append(f"unexpected block type {block.get('type')}")
    return problems


def check_pagerduty(body: dict[str, Any]) -> list[str]:
    problems = []
    if body.get("routing_key") != ROUTING_KEY:
        problems.append("routing_key must be the integration key")
    if body.get("event_action") not in ("trigger", "acknowledge", "resolve"):
        problems.append("event_action must be trigger, acknowledge or resolve")
    if not isinstance(body.get("dedup_key"), str) or not 0 < len(body["dedup_key"]) <= 255:
        problems.append("dedup_key must be 1 to 255 characters")
    if body.get("event_action") == "trigger":
        payload = body.get("payload") or {}
        if not isinstance(payload.get("summary"), str) or not 0 < len(payload["summary"]) <= 1024:
            problems.append("payload.summary must be 1 to 1024 characters")
        if not payload.get("source"):
            problems.append("payload.source is required")
        if payload.get("severity") not in SEVERITIES:
            problems.append("payload.severity must be critical, error, warning or info")
    return problems


class Receivers:
    """/slack and /pagerduty on one loopback server; every body checked against its service's schema."""

    def __init__(self) -> None:
        self.got: dict[str, list[dict[str, Any]]] = {"/slack": [], "/pagerduty": []}
        self.problems: list[str] = []
        lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                check = check_slack if self.path == "/slack" else check_pagerduty
                with lock:
                    outer.problems += [f"{self.path}: {p}" for p in check(body)]
                    outer.got.setdefault(self.path, []).append(body)
                if self.path == "/pagerduty":  # as PagerDuty answers
                    answer = json.dumps({"status": "success", "message": "Event processed",
                                         "dedup_key": body.get("dedup_key")}).encode()
                    self.send_response(202)
                else:
                    answer = b"ok"
                    self.send_response(200)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_: Any) -> None:
                pass

        self.server, self.port = serve_http(Handler)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def pd(self, action: str, key_end: str) -> list[dict[str, Any]]:
        return [b for b in self.got["/pagerduty"] if b["event_action"] == action and b["dedup_key"].endswith(key_end)]


@pytest.fixture
def receivers() -> Any:
    r = Receivers()
    yield r
    r.server.shutdown()


def test_pagerduty_triggers_and_resolves_and_slack_reads_well(receivers: Receivers, sqlite_backend: Backend) -> None:
    pagerduty_and_slack(sqlite_backend.new_user(), receivers)


def pagerduty_and_slack(api: Api, receivers: Receivers) -> None:
    g = api.make_group("News", heartbeat_timeout_ms=500, clear_after_ms=300, blacklist_ms=500)
    pd = api.post("/webhooks", {"url": receivers.url("/pagerduty"), "events": ["*"], "format": "pagerduty",
                                "routing_key": ROUTING_KEY, "failover_group_ids": [g["id"]]})
    assert pd.status_code == 201, pd.text
    assert pd.json()["format"] == "pagerduty" and pd.json()["routing_key_set"] is True
    assert ROUTING_KEY not in pd.text  # write-only
    assert api.post("/webhooks", {"url": receivers.url("/slack"), "events": ["failover", "no_candidate"],
                                  "format": "slack", "failover_group_ids": [g["id"]]}).status_code == 201
    with heartbeating(api, g["id"], {"news01": {}, "news02": {}}) as slicers:
        wait_for(lambda: active(api, g["id"]) == "news01")
        slicers["news01"] = None
        wait_for(lambda: receivers.pd("trigger", "/failed_over"), timeout=15)
        slicers["news02"] = None
        try:
            no_candidate = wait_for(lambda: receivers.pd("trigger", "/no_candidate"), timeout=15)
        except AssertionError:
            raise AssertionError(json.dumps([[e["kind"], e["reason"]] for e in events(api, g["id"])])
                                 + json.dumps(receivers.got["/pagerduty"])[:3000]) from None
        slicers["news01"] = {}
        try:
            wait_for(lambda: active(api, g["id"]) == "news01")
        except AssertionError:
            raise AssertionError(json.dumps([[e["kind"], e["reason"]] for e in events(api, g["id"])])) from None

        def resolved_after_trigger() -> list[dict[str, Any]]:
            got = receivers.got["/pagerduty"]
            at = next(i for i, b in enumerate(got) if b is no_candidate[0])
            return [b for b in got[at + 1:] if b["event_action"] == "resolve" and b["dedup_key"].endswith(
                "/no_candidate")]
        resolved = wait_for(resolved_after_trigger, timeout=15)
    assert receivers.problems == []
    key = no_candidate[0]["dedup_key"]
    assert key == f"feedgate/{g['id']}/no_candidate" and resolved[0]["dedup_key"] == key
    assert no_candidate[0]["payload"]["severity"] == "critical"
    assert no_candidate[0]["payload"]["component"] == "News"
    assert receivers.pd("trigger", "/failed_over")[0]["payload"]["summary"].startswith("News: failover to news02")
    # Not problems: joins and health of standbys never page anyone.
    assert not [b for b in receivers.got["/pagerduty"] if "joined" in json.dumps(b.get("payload", {}))]
    slack = wait_for(lambda: receivers.got["/slack"] if len(receivers.got["/slack"]) >= 3 else None, timeout=15)
    texts = [b["text"] for b in slack]
    assert any("News: failover to news02" in t for t in texts)
    assert any("News: no candidate" in t for t in texts)
    assert all("feedgate_group" not in t and "{" not in t for t in texts)


def test_a_pagerduty_ping_triggers_and_resolves_its_own_key(api: Api, receivers: Receivers) -> None:
    hook = api.post("/webhooks", {"url": receivers.url("/pagerduty"), "events": ["*"], "format": "pagerduty",
                                  "routing_key": ROUTING_KEY}).json()
    assert api.post(f"/webhooks/{hook['id']}/test").status_code == 202
    got = wait_for(lambda: receivers.got["/pagerduty"] if len(receivers.got["/pagerduty"]) >= 2 else None,
                   timeout=15)
    assert [b["event_action"] for b in got] == ["trigger", "resolve"]
    assert got[0]["dedup_key"] == got[1]["dedup_key"] and receivers.problems == []


def test_formats_are_checked(api: Api) -> None:
    assert_error(api.post("/webhooks", {"url": "http://127.0.0.1:9/x", "events": ["*"], "format": "pagerduty"}),
                 400, "'routing_key'")
    assert_error(api.post("/webhooks", {"url": "http://127.0.0.1:9/x", "events": ["*"], "format": "teams"}),
                 400, "format")
    assert_error(api.post("/webhooks", {"url": "http://127.0.0.1:9/x", "events": ["*"], "format": "pagerduty",
                                        "routing_key": "short"}), 400, "routing_key")
    hook = api.post("/webhooks", {"url": "http://127.0.0.1:9/x", "events": ["*"]}).json()
    assert hook["format"] == "feedgate" and hook["routing_key_set"] is False
    # Switching to pagerduty without a key fails and changes nothing.
    assert_error(api.patch(f"/webhooks/{hook['id']}", {"format": "pagerduty"}), 400, "'routing_key'")
    assert api.get(f"/webhooks/{hook['id']}").json()["format"] == "feedgate"
    moved = api.patch(f"/webhooks/{hook['id']}", {"format": "pagerduty", "routing_key": ROUTING_KEY})
    assert moved.status_code == 200 and moved.json()["format"] == "pagerduty"
