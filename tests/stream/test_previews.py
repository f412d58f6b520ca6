"""Standby previews: a slicer that announces no thumb_url gets a frame taken by ffmpeg from its own live
playlist (real encoders), fetched under the outbound policy; tenancy holds."""

import re

import httpx

from tests.support import active, console_login, wait_for
from tests.support.media import Beating, Stage


def test_a_standby_without_thumb_url_shows_a_frame_of_its_stream(stage: Stage) -> None:
    api, other = stage.backend.new_user(), stage.backend.new_user("other")
    g, _ = stage.channel_on(api)
    with Beating(api, g["id"], {"enc-a": stage.a.url, "enc-b": stage.b.url}), \
            httpx.Client(base_url=api.base_url, follow_redirects=False, timeout=20) as web:
        wait_for(lambda: active(api, g["id"]) == "enc-a")
        assert console_login(web, api.user_id, api.api_key).status_code == 303
        page = wait_for(lambda: (lambda t: t if t.count("/frame.jpg") >= 2 else None)(
            web.get(f"/console/groups/{g['id']}").text), timeout=10)
        frames = sorted(set(re.findall(r'src="(/console/slicers/[0-9a-f]+/frame\.jpg)"', page)))
        assert len(frames) == 2  # both slicers, lazily loaded
        got = wait_for(lambda: (lambda r: r if r.status_code == 200 else None)(web.get(frames[0])), timeout=15)
        assert got.headers["content-type"] == "image/jpeg" and got.content.startswith(b"\xff\xd8")
        assert len(got.content) > 1000 and "max-age=10" in got.headers["cache-control"]
        with httpx.Client(base_url=api.base_url, follow_redirects=False, timeout=20) as theirs:
            assert console_login(theirs, other.user_id, other.api_key).status_code == 303
            assert theirs.get(frames[0]).status_code == 404  # another tenant's slicer: not found
