"""No tenant can hurt another through webhooks: a malformed URL, a receiver that answers 400 MiB, one that
trickles a byte a second, or many slow receivers leave another tenant's deliveries on time; the address
guard refuses non-global and metadata addresses; each user has a bounded number of webhooks.

Every case runs on loopback against real receivers (threads serving HTTP) and a real server."""

import socket
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from feedgate.kit.ids import new_id
from feedgate.webhooks.models import Webhook
from tests.support import Api, Backend, assert_error, free_port, serve_http, started_backend, wait_for

ALLOW = {"FEEDGATE_ALLOW_PRIVATE_URLS": "1", "FEEDGATE_MAX_WEBHOOKS_PER_USER": "30"}
GUARDED = {"FEEDGATE_ALLOW_PRIVATE_URLS": "0"}


class Receivers:
    """One HTTP server whose path picks the behaviour: /ok, /huge (200 and 400 MiB), /trickle (a byte a
    second for a minute). It counts the POSTs each path received."""

    def __init__(self) -> None:
        self.port = free_port()
        self.hits: dict[str, int] = {}
        receivers = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receivers.hits[self.path] = receivers.hits.get(self.path, 0) + 1
                self.send_response(200)
                if self.path == "/huge":
                    self.send_header("Content-Length", str(400 * 1024 * 1024))
                    self.end_headers()
                    chunk = b"x" * (1024 * 1024)
                    try:
                        for _ in range(400):
                            self.wfile.write(chunk)
                    except OSError:
                        return  # feedgate stopped reading: as it should
                elif self.path == "/trickle":
                    self.send_header("Content-Length", "60")
                    self.end_headers()
                    try:
                        for _ in range(60):
                            self.wfile.write(b".")
                            self.wfile.flush()
                            time.sleep(1)
                    except OSError:
                        return
                else:
                    self.send_header("Content-Length", "0")
                    self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server, _ = serve_http(Handler, self.port)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture(scope="module")
def hooked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    path: Path = tmp_path_factory.mktemp("isolation") / "hooks.db"
    with started_backend("sqlite-isolation", f"sqlite:///{path}", **ALLOW) as backend:
        yield backend


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    path: Path = tmp_path_factory.mktemp("guarded") / "guarded.db"
    with started_backend("sqlite-guarded", f"sqlite:///{path}", **GUARDED) as backend:
        yield backend


@pytest.fixture(scope="module")
def receivers() -> Iterator[Receivers]:
    r = Receivers()
    yield r
    r.server.shutdown()


def ping(api: Api, url: str) -> str:
    hook = api.post("/webhooks", {"url": url, "events": ["*"]})
    assert hook.status_code == 201, hook.text
    delivery = api.post(f"/webhooks/{hook.json()['id']}/test")
    assert delivery.status_code == 202, delivery.text
    return str(hook.json()["id"])


def delivered(api: Api, hook_id: str) -> bool:
    items = api.get(f"/webhooks/{hook_id}/deliveries").json()["items"]
    return bool(items) and items[0]["state"] == "delivered"


def last(api: Api, hook_id: str) -> dict[str, Any]:
    return dict(api.get(f"/webhooks/{hook_id}/deliveries").json()["items"][0])


def rss_mib(pid: int) -> float:
    line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def test_a_url_httpx_would_refuse_is_refused_when_saved(hooked: Backend, receivers: Receivers) -> None:
    api = hooked.new_user("typo")
    for url in (receivers.url("/ok") + "\tx", receivers.url("/ok") + "\r\nX: y"):
        assert_error(api.post("/webhooks", {"url": url, "events": ["*"]}), 400, "'url'")


def test_a_stored_malformed_url_fails_its_own_deliveries_only(hooked: Backend, receivers: Receivers) -> None:
    bad, good = hooked.new_user("broken rows"), hooked.new_user("bystander")
    # Rows saved before the check existed (or written by hand): 120 deliveries to a URL httpx refuses.
    with hooked.db.sessions() as session, session.begin():
        hook = Webhook(id=new_id(), owner=bad.user_id, url="http://127.0.0.1:9/\tbad", events=["*"], secret="s")
        session.add(hook)
    for _ in range(120):
        assert bad.post(f"/webhooks/{hook.id}/test").status_code == 202
    theirs = ping(good, receivers.url("/ok"))
    wait_for(lambda: delivered(good, theirs), timeout=10)
    # An attempt is counted when claimed and its error recorded after the send: wait for the record.
    failed = wait_for(lambda: (d := last(bad, hook.id))["attempts"] >= 1 and d["last_error"] and d, timeout=10)
    assert failed["state"] == "pending"  # recorded, to be retried with backoff


def test_a_receiver_that_answers_400_mib_is_read_up_to_the_cap(hooked: Backend, receivers: Receivers) -> None:
    api = hooked.new_user("big answer")
    pid = hooked.server.proc.pid
    before = rss_mib(pid)
    hook_id = ping(api, receivers.url("/huge"))
    wait_for(lambda: delivered(api, hook_id), timeout=10)  # the status counts; the body is discarded
    assert rss_mib(pid) - before < 50


def test_a_trickling_receiver_is_cut_at_the_deadline_and_slow_ones_leave_others_on_time(
        hooked: Backend, receivers: Receivers) -> None:
    slow, other = hooked.new_user("slow receivers"), hooked.new_user("on time")
    hooks = [ping(slow, receivers.url("/trickle")) for _ in range(26)]
    started = time.monotonic()
    theirs = ping(other, receivers.url("/ok"))
    wait_for(lambda: delivered(other, theirs), timeout=5)
    assert time.monotonic() - started < 3
    cut = wait_for(lambda: last(slow, hooks[0])["last_error"] and last(slow, hooks[0]), timeout=15)
    assert "within 5 s" in cut["last_error"] and cut["state"] == "pending"


@pytest.mark.parametrize("address", ["100.100.100.200", "192.0.0.192", "100.64.0.1", "[2002:a9fe:a9fe::]",
                                     "[fec0::1]", "169.254.169.254", "127.0.0.1", "10.1.2.3", "[::ffff:10.0.0.1]"])
def test_non_global_addresses_are_refused_without_the_setting(guarded: Backend, address: str) -> None:
    api = guarded.new_user("guarded")
    assert_error(api.post("/webhooks", {"url": f"http://{address}/hook", "events": ["*"]}), 400, "'url'")


def test_the_setting_opens_private_ranges_but_never_metadata(hooked: Backend) -> None:
    api = hooked.new_user("own network")
    assert api.post("/webhooks", {"url": "http://10.1.2.3/hook", "events": ["*"]}).status_code == 201
    for address in ("169.254.169.254", "[2002:a9fe:a9fe::]", "100.100.100.200", "[fe80::1]"):
        assert_error(api.post("/webhooks", {"url": f"http://{address}/x", "events": ["*"]}), 400, "'url'")


def test_each_user_has_a_bounded_number_of_webhooks(hooked: Backend, receivers: Receivers) -> None:
    api, other = hooked.new_user("many hooks"), hooked.new_user("few hooks")
    for _ in range(30):
        assert api.post("/webhooks", {"url": receivers.url("/ok"), "events": ["*"]}).status_code == 201
    assert_error(api.post("/webhooks", {"url": receivers.url("/ok"), "events": ["*"]}), 409, "30")
    assert other.post("/webhooks", {"url": receivers.url("/ok"), "events": ["*"]}).status_code == 201
    with hooked.db.reading() as conn:
        count = conn.execute(text("SELECT count(*) FROM webhooks WHERE owner = :o"), {"o": api.user_id}).scalar()
    assert count == 30


def test_nothing_listens_is_an_error_not_a_hang(hooked: Backend) -> None:
    api = hooked.new_user("nobody home")
    port = free_port()
    with socket.socket() as s:  # a port that is certainly closed
        s.bind(("127.0.0.1", port))
    hook_id = ping(api, f"http://127.0.0.1:{port}/x")
    failed = wait_for(lambda: last(api, hook_id)["last_error"] and last(api, hook_id), timeout=10)
    assert "Connect" in failed["last_error"]
