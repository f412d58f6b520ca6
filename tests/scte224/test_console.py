"""The channel page shows where its rights came from, in a real browser: the feed, when, its last check (a
failing feed in red, with the error), and the last import's diff for this channel."""

import re
from typing import Any

from tests.support import SHOTS, Api, sign_in, wait_for
from tests.support.rights import Publisher, checked, document, feed_state


def test_the_channel_page_shows_its_rights_source(api: Api, publisher: Publisher, page: Any) -> None:
    ch = api.make_channel(desc="Regional sports", external_id="NEWS")
    sign_in(page, api)
    page.wait_for_url(re.compile(r"/console$"))
    page.goto(api.base_url + f"/console/channels/{ch['id']}")
    assert "Not from an SCTE 224 document" in page.inner_text("#rights")

    publisher.publish(document("NEWS"), '"v1"')
    feed = api.post("/scte224/feeds", {"url": publisher.url(), "interval_s": 3600}).json()
    wait_for(lambda: feed_state(api, feed["id"])["state"] == "imported", timeout=15)
    publisher.publish(document("NEWS", with_second=False), '"v2"')
    checked(api, feed, "imported")
    publisher.status = 503
    failed = checked(api, feed, "failed")

    page.goto(api.base_url + f"/console/channels/{ch['id']}")
    assert page.inner_text("[data-rights-source]") == publisher.url()
    assert feed["id"] in page.inner_text("#rights")
    state = page.locator("[data-feed-state]")
    assert state.get_attribute("data-feed-state") == "failed" and "error" in (state.get_attribute("class") or "")
    assert "HTTP 503" in state.inner_text() and failed["last_error"] in state.inner_text()
    diff = page.inner_text("[data-rights-diff]")
    assert "removed" in diff and "vp/east" in diff and "aud/east" in diff
    page.screenshot(path=str(SHOTS / "rights.png"), full_page=True)
