"""`feedgate serve --workers 2` on one SQLite file: both processes answer, one runs the engine, a rule
change reaches every process's decisions within a second, and heartbeats to either process count."""

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import FAST, Api, Backend, blackout_setup, started_backend, wait_for


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    path: Path = tmp_path_factory.mktemp("workers") / "workers.db"
    with started_backend("sqlite-workers", f"sqlite:///{path}", FEEDGATE_WORKERS="2") as backend:
        # Both processes up: uvicorn answers from the first while the second still starts.
        wait_for(lambda: len(processes(backend.server.base_url, 20)) == 2, timeout=20)
        yield backend


def processes(base_url: str, tries: int) -> set[int]:
    """The processes that answered `tries` requests, each on a new connection."""
    return {int(httpx.get(base_url + "/healthz", timeout=5).json()["process"]) for _ in range(tries)}


def fresh(api: Api) -> Api:
    """The same user on connections that are never reused, so the kernel spreads them over the workers."""
    spread = Api(api.base_url, api.user_id, api.api_key)
    spread.http = httpx.Client(base_url=api.base_url + "/api/v4", timeout=30,
                               limits=httpx.Limits(max_keepalive_connections=0))
    return spread


def test_two_processes_answer_and_one_runs_the_engine(workers: Backend) -> None:
    assert len(processes(workers.server.base_url, 30)) == 2
    log = workers.server.log()
    assert log.count("engine leadership acquired") == 1, log


def test_a_rule_change_reaches_every_process_within_a_second(workers: Backend) -> None:
    api = fresh(workers.new_user())
    ch, r1, _ = blackout_setup(api)
    assert api.put(f"/channels/{ch['id']}/program", {"blackout_id": "BNA", "title": "Game"}).status_code == 200
    viewer = {"repl.cbcc": "US", "repl.cbzip": "90503"}

    def content_types(n: int) -> set[str]:
        """What n new connections answer; a process that has not polled since the channel was made answers
        404 for it (within its poll interval), shown as its status."""
        answers = [api.get(f"/channels/{ch['id']}/playback", params=viewer) for _ in range(n)]
        return {r.json()["content"]["type"] if r.status_code == 200 else str(r.status_code) for r in answers}

    wait_for(lambda: content_types(10) == {"asset"}, timeout=3)
    changed = time.monotonic()
    to_slate = {"alternate_content_type": "slate", "alternate_content_id": ""}
    assert api.patch(f"/rules/{r1['id']}", to_slate).status_code == 200
    time.sleep(max(0.0, 1.0 - (time.monotonic() - changed)))
    assert content_types(30) == {"slate"}  # thirty new connections, spread over both processes


def on_the_follower(api: Api) -> Api:
    """The same user on one kept-alive connection to the process that does not run the engine."""
    for _ in range(50):
        pinned = Api(api.base_url, api.user_id, api.api_key)
        pinned.http = httpx.Client(base_url=api.base_url, timeout=30, limits=httpx.Limits(max_connections=1))
        if pinned.http.get("/healthz").json()["engine"] == "follower":
            pinned.http.base_url = httpx.URL(api.base_url + "/api/v4")
            return pinned
        pinned.http.close()
    raise AssertionError("no connection reached the follower")


def test_beats_to_the_follower_process_reach_the_engine(workers: Backend) -> None:
    from tests.support import active, events, heartbeating

    api = fresh(workers.new_user())
    follower = on_the_follower(api)
    g = api.make_group("spread", **{**FAST, "heartbeat_timeout_ms": 1000})
    with heartbeating(follower, g["id"], {"primary": {}, "backup": {}}) as beats:
        wait_for(lambda: active(api, g["id"]) == "primary")
        time.sleep(4.0)  # every beat lands on the follower; the engine, in the other process, must hear them
        assert follower.http.get(api.base_url + "/healthz").json()["engine"] == "follower"  # the same connection
        assert active(api, g["id"]) == "primary"
        assert not [e for e in events(api, g["id"]) if e["kind"] == "unhealthy"]
        beats["primary"] = None
        wait_for(lambda: active(api, g["id"]) == "backup", timeout=5)
