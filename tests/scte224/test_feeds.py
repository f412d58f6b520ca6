"""Rights feeds pulled from a real local HTTP server by the running product, on both databases: the first
import, a conditional GET answered 304, a 500 (retried with backoff, one alarm), then recovery; webhooks
raised through the outbox; the address guard."""

from tests.support import Api, assert_error, wait_for
from tests.support.rights import Publisher, by_external, checked, document, feed_state


def test_pull_changed_unchanged_500_and_recovery(api: Api, publisher: Publisher) -> None:
    ch = api.make_channel(external_id="NEWS")
    hook = api.post("/webhooks", {"url": publisher.url("/alerts"), "events": ["imported", "import_failed"]})
    assert hook.status_code == 201, hook.text
    publisher.publish(document("NEWS"), '"v1"')
    made = api.post("/scte224/feeds", {"url": publisher.url(), "interval_s": 3600, "description": "league"})
    assert made.status_code == 201, made.text
    feed = made.json()
    # Checked at once when added: the document is imported, as if posted, and recorded as the feed's.
    first = wait_for(lambda: (lambda f: f if f["state"] == "imported" else None)(feed_state(api, feed["id"])),
                     timeout=15, explain=lambda: feed_state(api, feed["id"]))
    assert first["failures"] == 0 and first["last_status"] == 200 and first["last_import_id"]
    imports = api.get("/scte224/imports").json()["items"]
    assert [(i["id"], i["source"], i["by"]) for i in imports] == [(first["last_import_id"], publisher.url(),
                                                                   f"feed {feed['id']}")]
    assert set(by_external(api, "/audiences")) == {"aud/us", "aud/devices", "aud/phones", "aud/east"}
    assert [b["blackout_id"] for b in api.get(f"/channels/{ch['id']}/blackouts").json()["items"]] == ["policy/game"]

    # Unchanged: the next check is conditional and answered 304; nothing is imported again.
    again = checked(api, feed, "unchanged")
    assert publisher.seen[-1].get("If-None-Match") == '"v1"' and again["last_status"] == 304
    assert publisher.seen[-1].get("If-Modified-Since") == "Tue, 01 Dec 2026 10:00:04 GMT"
    assert len(api.get("/scte224/imports").json()["items"]) == 1

    # The feed breaks: failed, retried with backoff (not at the interval), one alarm for the run.
    publisher.status = 500
    broken = checked(api, feed, "failed")
    assert broken["failures"] == 1 and broken["last_status"] == 500 and "HTTP 500" in broken["last_error"]
    assert broken["next_check"] < again["next_check"]  # the retry comes well before the hour's interval
    twice = checked(api, feed, "failed")
    assert twice["failures"] == 2

    # Recovery with a changed document (vp/east left the feed): imported, and what left is removed.
    publisher.publish(document("NEWS", with_second=False), '"v2"')
    back = checked(api, feed, "imported")
    assert back["failures"] == 0 and back["last_error"] == "" and back["last_import_id"] != first["last_import_id"]
    assert "aud/east" not in by_external(api, "/audiences") and "vp/east" not in by_external(api, "/rules")
    wait_for(lambda: publisher.alerts.count("scte224.imported") == 2, timeout=15,
             explain=lambda: publisher.alerts)
    assert publisher.alerts.count("scte224.import_failed") == 1  # the retry raised no second alarm


def test_a_document_refused_fails_the_feed_and_applies_nothing(api: Api, publisher: Publisher) -> None:
    api.make_channel(external_id="NEWS")
    publisher.publish(document("NEWS", extra_audience="<audience:LatLongRadius>40 -70 10</audience:LatLongRadius>"),
                      '"bad"')
    feed = api.post("/scte224/feeds", {"url": publisher.url(), "interval_s": 60}).json()
    failed = wait_for(lambda: (lambda f: f if f["state"] == "failed" else None)(feed_state(api, feed["id"])),
                      timeout=15, explain=lambda: feed_state(api, feed["id"]))
    assert "LatLongRadius" in failed["last_error"] and failed["last_status"] == 200
    assert by_external(api, "/audiences") == {}


def test_feed_urls_pass_the_address_guard(api: Api) -> None:
    assert_error(api.post("/scte224/feeds", {"url": "http://169.254.169.254/latest/meta-data"}), 400,
                 "'url'", "link-local")
    assert_error(api.post("/scte224/feeds", {"url": "ftp://example.com/x"}), 400, "'url'")
    assert_error(api.post("/scte224/feeds", {"url": "http://127.0.0.1/x", "interval_s": 5}), 400, "interval_s")
    assert_error(api.get("/scte224/feeds/nope"), 404, "nope")


def test_feeds_are_listed_and_deleted(api: Api, other: Api, publisher: Publisher) -> None:
    publisher.status = 404
    feed = api.post("/scte224/feeds", {"url": publisher.url(), "channel_map": {"media/news": "NEWS"}}).json()
    assert feed["channel_map"] == {"media/news": "NEWS"} and feed["enabled"] and feed["state"] == "pending"
    assert [f["id"] for f in api.get("/scte224/feeds").json()["items"]] == [feed["id"]]
    assert other.get("/scte224/feeds").json()["items"] == []
    assert_error(other.get(f"/scte224/feeds/{feed['id']}"), 404, feed["id"])
    assert api.delete(f"/scte224/feeds/{feed['id']}").status_code == 200
    assert_error(api.get(f"/scte224/feeds/{feed['id']}"), 404, feed["id"])
