"""The console's watch page in a real browser: hls.js in Chromium plays the viewer's stream from feedgate
and its picture keeps advancing across a failover, fetching the new slicer's segments."""

import re
import time
from typing import Any

from tests.support import SHOTS, active, sign_in, wait_for
from tests.support.media import Beating, Stage


def test_hls_js_plays_on_across_a_failover(stage: Stage, browser: Any) -> None:
    api = stage.backend.new_user()
    g, ch = stage.channel_on(api)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        with Beating(api, g["id"], {"enc-a": stage.a.url, "enc-b": stage.b.url}) as beating:
            wait_for(lambda: active(api, g["id"]) == "enc-a")
            sign_in(page, api)
            page.wait_for_url(re.compile(r"/console$"))
            page.goto(f"{api.base_url}/console/channels/{ch['id']}")
            page.click("#watch-link")
            page.wait_for_url(re.compile(r"/watch$"))

            def playing_time() -> float:
                return float(page.evaluate("document.getElementById('video').currentTime"))

            def fragments() -> list[str]:
                return list(page.evaluate("window.feedgateWatch.fragments"))

            wait_for(lambda: playing_time() > 2, timeout=30)
            wait_for(lambda: page.inner_text("#on-air") == "slicer enc-a", timeout=5)
            assert all("/a/" in url or "/stream/slate/" in url for url in fragments())
            beating.silent.add("enc-a")  # enc-a's heartbeats stop: the group fails over to enc-b
            wait_for(lambda: active(api, g["id"]) == "enc-b", timeout=10)
            wait_for(lambda: any("/b/" in url for url in fragments()), timeout=20)
            wait_for(lambda: page.inner_text("#on-air") == "slicer enc-b", timeout=5)
            assert page.inner_text("#active-slicer") == "enc-b"
            # The picture keeps moving after the switch: currentTime advances in real time.
            before = playing_time()
            time.sleep(3)
            after = playing_time()
            assert after > before + 2, (before, after, page.evaluate("window.feedgateWatch.errors"))
            assert not [e for e in page.evaluate("window.feedgateWatch.errors") if "fatal" in e]
            page.screenshot(path=str(SHOTS / "watch.png"))
    finally:
        context.close()
