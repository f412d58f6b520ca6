"""The operator console in a real browser (Playwright driving Debian's Chromium): sign-in, tenancy,
CSRF, a live failover without reload, actions through their confirmation, the viewer simulator."""

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import (
    FAST,
    SHOTS,
    Backend,
    active,
    blackout_setup,
    console_login,
    heartbeating,
    sign_in,
    started_backend,
    wait_for,
)


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    path = tmp_path_factory.mktemp("console") / "console.db"
    with started_backend("sqlite-console", f"sqlite:///{path}") as backend:
        yield backend


class TestSignIn:
    def test_sign_in_and_out_ends_the_session_on_the_server(self, console: Backend, page: Any) -> None:
        api = console.new_user("ops")
        sign_in(page, api)
        page.wait_for_url(re.compile(r"/console$"))
        cookie = next(c for c in page.context.cookies() if c["name"] == "feedgate_console")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["value"] != api.api_key
        page.click("#sign-out")
        page.wait_for_url(re.compile(r"/console/login$"))
        stale = httpx.get(api.base_url + "/console", cookies={"feedgate_console": cookie["value"]})
        assert stale.status_code == 303 and stale.headers["location"] == "/console/login?next=%2Fconsole"

    def test_a_wrong_key_shows_one_line_and_nothing_else(self, console: Backend, page: Any) -> None:
        api = console.new_user("ops")
        sign_in(page, api, key="not-the-key")
        assert page.inner_text("#message") == "The login, password or code (or user ID and API key) is not right."
        assert "feedgate_console" not in {c["name"] for c in page.context.cookies()}

    def test_a_rotated_key_ends_that_users_sessions(self, console: Backend, page: Any) -> None:
        from feedgate.auth.service import rotate_key

        api = console.new_user("ops")
        sign_in(page, api)
        page.wait_for_url(re.compile(r"/console$"))
        with console.db.sessions() as session:
            rotate_key(session, api.user_id)
        time.sleep(5.5)  # the key cache's lifetime
        page.goto(api.base_url + "/console")
        assert page.url.endswith("/console/login?next=%2Fconsole")

    def test_ten_failures_a_minute_are_slowed(self, tmp_path: Path) -> None:
        with started_backend("sqlite", f"sqlite:///{tmp_path / 'brake.db'}") as b:
            api = b.new_user()
            with httpx.Client(base_url=b.server.base_url) as web:
                # A forwarded address from loopback changes nothing: no proxy is trusted unless configured.
                codes = [console_login(web, api.user_id, "wrong").status_code for _ in range(10)]
                web.headers["X-Forwarded-For"] = "203.0.113.9"
                codes.append(console_login(web, api.user_id, "wrong").status_code)
                assert codes == [401] * 10 + [429]
                right = console_login(web, api.user_id, api.api_key)
                assert right.status_code == 429  # even the right key waits out the minute


class TestPages:
    def test_tenancy_holds_when_editing_the_url(self, console: Backend, page: Any) -> None:
        mine, theirs = console.new_user("a"), console.new_user("b")
        g = theirs.make_group("private")
        ch = theirs.make_channel("private")
        sign_in(page, mine)
        page.wait_for_url(re.compile(r"/console$"))
        assert "private" not in page.content()
        for path in (f"/console/groups/{g['id']}", f"/console/channels/{ch['id']}",
                     f"/console/groups/{g['id']}/confirm?action=slate_on"):
            response = page.goto(mine.base_url + path)
            assert response.status == 404 and "was not found" in page.inner_text("#error")

    def test_csrf_is_required_for_every_action(self, console: Backend, page: Any) -> None:
        api = console.new_user("ops")
        g = api.make_group("csrf")
        sign_in(page, api)
        page.wait_for_url(re.compile(r"/console$"))
        r = page.request.post(api.base_url + f"/console/groups/{g['id']}/act", form={"action": "slate_on"})
        assert r.status == 403 and "CSRF" in r.text()
        assert api.group(g["id"])["active_slicer_id"] != "no_slicer"

    def test_a_failover_shows_live_and_actions_go_through_confirmation(self, console: Backend, page: Any) -> None:
        api = console.new_user("ops")
        g = api.make_group("News 24/7", **FAST)
        ch = api.make_channel("News")
        api.put(f"/failover-groups/{g['id']}/channels", {"channels_ids_to_add": [ch["id"]]})
        with heartbeating(api, g["id"], {"primary": {}, "backup": {}}) as beats:
            wait_for(lambda: active(api, g["id"]) == "primary")
            sign_in(page, api)
            page.wait_for_selector('[data-slicer-id="primary"][data-active="true"]')
            time.sleep(1.0)  # the stream is open
            beats["primary"] = None
            started = time.monotonic()
            page.wait_for_selector('[data-slicer-id="backup"][data-active="true"]', timeout=5000)
            shown = time.monotonic() - started
            assert wait_for(lambda: active(api, g["id"]) == "backup")
            assert page.get_attribute('[data-slicer-id="primary"]', "data-state") in ("1", "-1")
            assert shown < 0.4 + 1.0 + 1.0  # timeout, then within a second on screen
            page.screenshot(path=str(SHOTS / "overview.png"), full_page=True)
            beats["primary"] = {}
            wait_for(lambda: any(s["id"] == "primary" and s["status"]["state"] == 0
                                 for s in api.group(g["id"])["slicers"]), timeout=8)
            # Activate primary by hand, through the confirmation step.
            page.goto(api.base_url + f"/console/groups/{g['id']}")
            page.click('[data-activate="primary"]')
            assert "Activate slicer primary" in page.inner_text("#question")
            page.click("#confirm")
            page.wait_for_url(re.compile(rf"/console/groups/{g['id']}$"))
            assert active(api, g["id"]) == "primary"
            page.wait_for_selector('[data-slicer-id="primary"][data-active="true"]')
            page.screenshot(path=str(SHOTS / "group.png"), full_page=True)
            # Slate on, through its confirmation.
            page.click("#slate-on")
            page.click("#confirm")
            page.wait_for_url(re.compile(rf"/console/groups/{g['id']}$"))
            assert api.group(g["id"])["active_slicer_id"] == "no_slicer"
            page.click("#slate-off")
            page.click("#confirm")
            assert wait_for(lambda: api.group(g["id"])["active_slicer_id"] != "no_slicer")
            # What the API refuses shows the API's own words.
            page.click("#failback-on")
            page.click("#confirm")
            page.goto(api.base_url + f"/console/groups/{g['id']}/confirm?action=activate&slicer=backup")
            page.click("#confirm")
            assert "auto_failback on" in page.inner_text("#error")

    def test_the_viewer_simulator_answers_as_the_playback_endpoint(self, console: Backend, page: Any) -> None:
        api = console.new_user("ops")
        ch, r1, _ = blackout_setup(api)
        sign_in(page, api)
        page.wait_for_url(re.compile(r"/console$"))
        page.goto(api.base_url + f"/console/channels/{ch['id']}")
        page.fill("input[name=blackout_id]", "BNA")
        page.fill("input[name=title]", "Game")
        page.click("#set-program")
        page.wait_for_selector("[data-program-blackout]")
        assert page.inner_text("[data-program-blackout]") == "BNA"
        page.fill("input[name=country]", "US")
        page.fill("input[name=zip]", "90503")
        page.fill("input[name=device]", "Roku")
        page.click("#simulate")
        page.wait_for_selector("[data-decision-json]")
        import json

        shown = json.loads(page.inner_text("[data-decision-json]"))
        api_answer = api.get(f"/channels/{ch['id']}/playback",
                             params={"repl.cbcc": "US", "repl.cbzip": "90503", "repl.cbdevice": "Roku"}).json()
        for key in ("blacked_out", "blackout_id", "rule", "audience", "content"):
            assert shown[key] == api_answer[key], key
        assert shown["rule"] == r1["id"] and "rule " + r1["id"] in page.inner_text("#decision")
        page.screenshot(path=str(SHOTS / "channel.png"), full_page=True)


def test_many_groups_are_paged_and_the_stream_sends_only_what_changed(console: Backend) -> None:
    import json

    api = console.new_user("fleet")
    groups = [api.make_group(f"g{i:03d}") for i in range(60)]
    with httpx.Client(base_url=api.base_url, follow_redirects=False, timeout=10) as web:
        signed_in = console_login(web, api.user_id, api.api_key)
        assert signed_in.status_code == 303
        first = web.get("/console").text
        assert first.count('" data-group-id=') == 50 and "More groups" in first
        assert web.get("/console", params={"page": 2}).text.count('" data-group-id=') == 10
        with web.stream("GET", "/console/stream", timeout=15) as stream:
            lines = stream.iter_lines()

            def next_cards() -> dict[str, str]:
                kind = ""
                for line in lines:
                    if line.startswith("event: "):
                        kind = line[7:]
                    elif line.startswith("data: ") and kind == "cards":
                        return dict(json.loads(line[6:]))
                raise AssertionError("stream ended")

            assert len(next_cards()) == 50  # the first message: the whole page
            changed = groups[7]
            assert api.patch(f"/failover-groups/{changed['id']}", {"name": "g007-renamed"}).status_code == 204
            cards = next_cards()
            assert list(cards) == [changed["id"]] and "g007-renamed" in cards[changed["id"]]


def test_the_pages_fit_a_phone(console: Backend, browser: Any) -> None:
    api = console.new_user("phone")
    g = api.make_group("Morning News", **FAST)
    ch, _, _ = blackout_setup(api)
    api.heartbeat("enc-a", g["id"])
    context = browser.new_context(viewport={"width": 360, "height": 780}, is_mobile=True)
    page = context.new_page()
    try:
        sign_in(page, api)
        page.wait_for_url(re.compile(r"/console$"))
        for path in ("/console", f"/console/groups/{g['id']}", f"/console/channels/{ch['id']}",
                     f"/console/channels/{ch['id']}/watch", "/console/wall", "/console/wall?dense=1",
                     "/console/audit", f"/console/groups/{g['id']}/confirm?action=slate_on"):
            page.goto(api.base_url + path)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{path} is {overflow} px wider than the phone"
    finally:
        context.close()
