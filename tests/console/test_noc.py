"""The console on a NOC wall, in Chromium: problems first and in red, the reason viewers get slate, true
heartbeat ages, live events, honest actions, sign-in returning to the page asked for."""

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import (
    FAST,
    SHOTS,
    Backend,
    active,
    blackout_setup,
    heartbeating,
    sign_in,
    started_backend,
    wait_for,
)


@pytest.fixture(scope="module")
def noc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    path: Path = tmp_path_factory.mktemp("noc") / "noc.db"
    with started_backend("sqlite-noc", f"sqlite:///{path}") as backend:
        yield backend


def severity(page: Any, group_id: str) -> str:
    return str(page.get_attribute(f'[data-group-id="{group_id}"]', "data-severity"))


def test_a_dead_group_is_red_and_first_and_an_unguarded_one_amber(noc: Backend, page: Any) -> None:
    api = noc.new_user("wall")
    fine = api.make_group("a-fine", **FAST)
    lonely = api.make_group("b-lonely", **FAST)
    dead = api.make_group("z-dead", **FAST)
    beats = {"fine1": {}, "fine2": {}}
    alone = {"solo": {}, "standby": {}}
    with heartbeating(api, fine["id"], beats), heartbeating(api, lonely["id"], alone), \
            heartbeating(api, dead["id"], {"dead1": {}, "dead2": {}}) as dying:
        wait_for(lambda: active(api, dead["id"]) == "dead1" and active(api, fine["id"]) == "fine1")
        wait_for(lambda: all(s["status"]["state"] == 0 for s in api.group(fine["id"])["slicers"]))
        dying["dead1"] = dying["dead2"] = None  # every slicer of the group dies
        alone["standby"] = None  # this one keeps its slicer on air, with nothing behind it
        wait_for(lambda: all(s["status"]["state"] != 0 for s in api.group(dead["id"])["slicers"]), timeout=10)
        sign_in(page, api)
        page.wait_for_url(re.compile(r"/console$"))
        page.wait_for_selector(f'[data-group-id="{lonely["id"]}"][data-severity="warn"]', timeout=5000)
        order = page.eval_on_selector_all("[data-group-id]", "els => els.map(e => e.dataset.groupId)")
        assert order == [dead["id"], lonely["id"], fine["id"]]  # worst first, not by name
        assert (severity(page, dead["id"]), severity(page, lonely["id"]), severity(page, fine["id"])) == \
            ("bad", "warn", "ok")
        card = page.inner_text(f'[data-group-id="{dead["id"]}"]')
        assert "viewers get slate: no slicer can go on air" in card and "offline" in card
        assert "no healthy standby" in page.inner_text(f'[data-group-id="{lonely["id"]}"]')
        assert page.get_attribute('[data-count="bad"]', "class") == "pill bad"
        assert page.inner_text('[data-count="bad"]').startswith("1 ")
        assert page.inner_text('[data-count="warn"]').startswith("1 ")
        page.screenshot(path=str(SHOTS / "overview-problems.png"), full_page=True)
        # The wall: the same order and colours, one tile per group.
        page.goto(api.base_url + "/console/wall?dense=1")
        tiles = page.eval_on_selector_all("[data-tile]", "els => els.map(e => [e.dataset.tile, e.dataset.severity])")
        assert tiles == [[dead["id"], "bad"], [lonely["id"], "warn"], [fine["id"], "ok"]]
        # Live: the fine group loses its standby and turns amber on the wall without a reload.
        beats["fine2"] = None
        page.wait_for_selector(f'[data-tile="{fine["id"]}"][data-severity="warn"]', timeout=8000)


def test_a_slicer_without_hls_url_shows_why_viewers_get_slate(noc: Backend, page: Any) -> None:
    api = noc.new_user("hls")
    g = api.make_group("Morning", **FAST)
    ch = api.make_channel("Morning news")
    api.put(f"/failover-groups/{g['id']}/channels", {"channels_ids_to_add": [ch["id"]]})
    stop = threading.Event()

    def beat() -> None:
        while not stop.is_set():
            api.heartbeat("news01", g["id"])  # on air, announcing no playlist
            api.heartbeat("news02", g["id"], hls_url="http://127.0.0.1:9/news02/master.m3u8")
            stop.wait(0.1)

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        wait_for(lambda: active(api, g["id"]) == "news01")
        sign_in(page, api)
        page.goto(api.base_url + f"/console/groups/{g['id']}")
        problems = page.inner_text("[data-problems]")
        assert "viewers get slate: news01 announces no HLS URL" in problems
        assert page.get_attribute("[data-severity]", "data-severity") == "bad"
        metrics = api.http.get(api.base_url + "/metrics").text
        line = next(m for m in metrics.splitlines() if m.startswith("feedgate_group_viewers_slate{")
                    and g["id"] in m)
        assert 'reason="news01 announces no HLS URL"' in line and line.endswith(" 1")
        # The watch page says it too, beside the picture, and explains the player's delay.
        page.goto(api.base_url + f"/console/channels/{ch['id']}/watch")
        wait_for(lambda: "news01 announces no HLS URL" in page.inner_text("#why-slate"), timeout=5,
                 explain=lambda: (page.inner_text("#on-air"), page.inner_text("#why-slate"), page.inner_text("#why")))
        assert "behind live" in page.inner_text("#delay")
    finally:
        stop.set()
        thread.join()


def test_events_update_live_and_disabled_actions_say_why(noc: Backend, page: Any) -> None:
    api = noc.new_user("events")
    g = api.make_group("Live events", auto_failback=True, **FAST)
    with heartbeating(api, g["id"], {"primary": {}, "backup": {}}) as beats:
        wait_for(lambda: active(api, g["id"]) == "primary")
        wait_for(lambda: all(s["status"]["state"] == 0 for s in api.group(g["id"])["slicers"]))
        sign_in(page, api)
        page.goto(api.base_url + f"/console/groups/{g['id']}")
        page.wait_for_timeout(1000)  # the stream is open
        assert page.locator('#events [data-event-kind="failover"]').count() == 1  # the first pick
        beats["primary"] = None
        page.wait_for_selector('#events [data-event-kind="failover"] >> nth=1', timeout=5000)  # no reload
        assert "primary" in page.inner_text("#events")
        # Auto failback is on: a hand activation is refused by the API, so it is shown disabled, with why,
        # next to the one safe combined action.
        beats["primary"] = {}
        wait_for(lambda: any(s["id"] == "primary" and s["status"]["state"] == 0
                             for s in api.group(g["id"])["slicers"]), timeout=8)
        page.reload()
        on_air = active(api, g["id"])
        other = "backup" if on_air == "primary" else "primary"
        disabled = page.locator(f'[data-disabled-activate="{other}"]')
        assert "auto failback is on" in disabled.inner_text()
        assert page.locator(f'[data-activate="{other}"]').count() == 0
        page.click(f'[data-failback-off-activate="{other}"]')
        assert "Automatic failback goes off" in page.inner_text("#consequence")
        assert f"will see {other}" in page.inner_text("#consequence")
        page.click("#confirm")
        page.wait_for_url(re.compile(rf"/console/groups/{g['id']}$"))
        group = api.group(g["id"])
        assert group["active_slicer_id"] == other and group["auto_failback"] is False


def test_ages_follow_the_real_last_beat_for_a_minute(noc: Backend, page: Any) -> None:
    api = noc.new_user("ages")
    g = api.make_group("Ages", heartbeat_timeout_ms=3000)
    last = {"steady": 0.0, "quiet": 0.0}
    stop, quiet_stops = threading.Event(), time.monotonic() + 10

    def beat() -> None:
        while not stop.is_set():
            for name in ("steady", "quiet"):
                if name == "steady" or time.monotonic() < quiet_stops:
                    api.heartbeat(name, g["id"])
                    last[name] = time.monotonic()
            stop.wait(1.0)

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        wait_for(lambda: active(api, g["id"]) == "steady")
        sign_in(page, api)
        page.goto(api.base_url + f"/console/groups/{g['id']}")
        page.wait_for_timeout(1000)
        worst = {"steady": 0.0, "quiet": 0.0}
        ends = time.monotonic() + 60
        while time.monotonic() < ends:
            for name in ("steady", "quiet"):
                text = page.inner_text(f'#live [data-slicer-id="{name}"] .age')
                real = time.monotonic() - last[name]
                shown = float(m.group(1)) if (m := re.search(r"(\d+) s", text)) else None
                if shown is None:  # not shown: only right while the slicer is within half its timeout
                    assert real < 1.5 + 2, f"{name}: no age shown {real:.1f} s after its last beat"
                else:
                    worst[name] = max(worst[name], abs(shown - real))
            page.wait_for_timeout(700)
        assert worst["quiet"] <= 2.0 and worst["steady"] <= 2.0, worst
        assert last["quiet"] < ends - 40  # the quiet slicer really was quiet most of the minute
    finally:
        stop.set()
        thread.join()


def test_sign_in_returns_to_the_page_asked_for(noc: Backend, page: Any) -> None:
    api = noc.new_user("deep")
    g = api.make_group("Deep link")
    page.goto(api.base_url + f"/console/groups/{g['id']}?page=1")
    page.wait_for_url(re.compile(r"/console/login\?next="))
    page.fill("input[name=user_id]", api.user_id)
    page.fill("input[name=api_key]", api.api_key)
    page.click("#sign-in")
    page.wait_for_url(re.compile(rf"/console/groups/{g['id']}\?page=1$"))
    # never to another site
    page.goto(api.base_url + "/console/login?next=//evil.example/x")
    assert page.get_attribute("input[name=next]", "value") == "/console"


def test_the_wall_shows_a_thousand_groups_on_one_screen(noc: Backend, browser: Any) -> None:
    api = noc.new_user("thousand")
    for i in range(1000):
        assert api.post("/failover-groups", {"name": f"ch{i:04d}"}).status_code == 201
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    try:
        sign_in(page, api)
        page.wait_for_url(re.compile(r"/console$"))
        page.goto(api.base_url + "/console/wall?dense=1")
        assert page.locator("[data-tile]").count() == 1000
        last = page.eval_on_selector_all("[data-tile]", "els => els[els.length - 1].getBoundingClientRect().bottom")
        assert last <= 1080, f"the last tile ends at {last} px"  # the picture: benchmarks/console_wall.py
    finally:
        context.close()


def test_an_operator_presses_slate_and_the_audit_page_names_them(noc: Backend, page: Any) -> None:
    api = noc.new_user("named")
    g = api.make_group("Named")
    made = api.post("/operators", {"login": f"carol-{api.user_id[:6]}", "name": "Carol", "role": "operator",
                                   "password": "correct horse battery"}).json()
    page.goto(api.base_url + f"/console/groups/{g['id']}")
    page.fill("input[name=user_id]", made["login"])
    page.fill("input[name=api_key]", "correct horse battery")
    page.click("#sign-in")
    page.wait_for_url(re.compile(rf"/console/groups/{g['id']}$"))
    assert page.inner_text("[data-who]").startswith("Carol") and "operator" in page.inner_text("[data-who]")
    page.click("#slate-on")
    assert "will see slate" in page.inner_text("#consequence")
    page.click("#confirm")
    page.wait_for_url(re.compile(rf"/console/groups/{g['id']}$"))
    page.goto(api.base_url + "/console/audit")
    row = page.inner_text('#audit [data-actor-kind="operator"]')
    assert f"Carol ({made['login']})" in row and "slate_on" in row
    page.screenshot(path=str(SHOTS / "audit.png"), full_page=True)


def test_a_viewer_sees_actions_disabled_with_the_reason(noc: Backend, page: Any) -> None:
    api = noc.new_user("viewer")
    g = api.make_group("Read only")
    made = api.post("/operators", {"login": f"erin-{api.user_id[:6]}", "name": "Erin", "role": "viewer",
                                   "password": "correct horse battery"}).json()
    with heartbeating(api, g["id"], {"enc1": {}, "enc2": {}}):
        wait_for(lambda: active(api, g["id"]) == "enc1")
        page.goto(api.base_url + f"/console/groups/{g['id']}")
        page.fill("input[name=user_id]", made["login"])
        page.fill("input[name=api_key]", "correct horse battery")
        page.click("#sign-in")
        page.wait_for_url(re.compile(rf"/console/groups/{g['id']}$"))
        assert "you can look, not act" in page.inner_text("#read-only")
        assert page.locator("#slate-on").count() == 0 and page.locator("[data-activate]").count() == 0
        page.wait_for_selector('[data-disabled-activate="enc2"]')
        assert "your role is viewer" in page.inner_text('[data-disabled-activate="enc2"]')
        page.goto(api.base_url + "/console/operators")
        assert "accounts are for admins" in page.content()


def test_an_admin_adds_and_disables_people_in_the_console(noc: Backend, page: Any) -> None:
    api = noc.new_user("admin")
    sign_in(page, api)
    page.wait_for_url(re.compile(r"/console$"))
    page.goto(api.base_url + "/console/operators")
    login = f"dave-{api.user_id[:6]}"
    page.fill("input[name=login]", login)
    page.fill("input[name=name]", "Dave")
    page.select_option("select[name=role]", "viewer")
    page.fill("input[name=password]", "short")
    page.click("#add-operator")
    assert "password" in page.inner_text("#error")  # refused, named, nothing made
    assert api.get("/operators").json()["items"] == []
    page.fill("input[name=login]", login)
    page.fill("input[name=name]", "Dave")
    page.select_option("select[name=role]", "viewer")
    page.fill("input[name=password]", "correct horse battery")
    page.check("input[name=totp]")
    page.click("#add-operator")
    assert page.inner_text("#totp-uri").startswith("otpauth://totp/")
    made = api.get("/operators").json()["items"]
    assert [(o["login"], o["role"], o["totp"], o["enabled"]) for o in made] == [(login, "viewer", True, True)]
    page.click(f'[data-toggle="{login}"]')
    page.wait_for_url(re.compile(r"/console/operators$"))
    assert api.get(f"/operators/{made[0]['id']}").json()["enabled"] is False
    audit = api.get("/audit", params={"what": "operator"}).json()["items"]
    assert [e["action"].split(" ")[1] for e in audit] == ["disable", "add"]  # newest first, named console actions


def test_a_channel_in_blackout_is_marked_on_its_group_card(noc: Backend, page: Any) -> None:
    api = noc.new_user("blackout")
    g = api.make_group("Sports")
    ch, _, _ = blackout_setup(api)
    api.put(f"/failover-groups/{g['id']}/channels", {"channels_ids_to_add": [ch["id"]]})
    sign_in(page, api)
    page.wait_for_url(re.compile(r"/console$"))
    assert page.locator(f'[data-blackout-now="{ch["id"]}"]').count() == 0
    assert api.put(f"/channels/{ch['id']}/program", {"blackout_id": "BNA"}).status_code == 200
    page.wait_for_selector(f'[data-blackout-now="{ch["id"]}"]', timeout=5000)  # live, no reload
    assert "blackout BNA in force" in page.inner_text(f'[data-blackout-now="{ch["id"]}"]')
    # A viewer the blackout sends to an asset this server cannot play gets slate, and the watch page says why.
    page.goto(api.base_url + f"/console/channels/{ch['id']}/watch?country=US&zip=90503")
    wait_for(lambda: "asset la-asset, cannot be played" in page.inner_text("#why-slate"), timeout=5,
             explain=lambda: page.inner_text("#why-slate"))
