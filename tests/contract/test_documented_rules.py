"""Rules the documents state in words rather than tables: "all failover groups", when activate_slicer is
a 400, and references a rule makes to other objects."""

from tests.support import Backend, assert_error, wait_for


def test_get_all_failover_groups_without_paging_returns_every_group_and_honours_paging_when_asked(
        backend: Backend) -> None:
    api = backend.new_user("many groups")
    made = {api.make_group(f"g{i:02}")["id"] for i in range(45)}  # more than one page of 40
    everything = api.get("/failover-groups").json()
    assert {g["id"] for g in everything["items"]} == made and everything["total_items"] == 45
    assert "next" not in everything["@links"]
    page = api.get("/failover-groups", params={"page_size": 10, "page": 2}).json()
    assert len(page["items"]) == 10 and page["total_items"] == 45 and "next" in page["@links"]
    first = api.get("/failover-groups", params={"page": 1}).json()  # page alone: the documented 40
    assert len(first["items"]) == 40
    ordered = api.get("/failover-groups", params={"order": "-name"}).json()["items"]
    assert [g["name"] for g in ordered] == sorted((g["name"] for g in ordered), reverse=True)
    assert len(ordered) == 45


def test_activate_slicer_is_a_400_whenever_auto_failback_is_on_flat_groups_included(backend: Backend) -> None:
    api = backend.new_user("activator")
    for mode in ("flat", "prioritized"):
        g = api.make_group(f"{mode} failback", mode=mode, auto_failback=True, heartbeat_timeout_ms=3_600_000)
        names = [f"{mode}-one", f"{mode}-two"]
        for name in names:
            assert api.heartbeat(name, g["id"]).status_code == 200
        one = wait_for(lambda g=g: api.group(g["id"])["active_slicer_id"])  # flat: either
        two = next(n for n in names if n != one)
        r = api.put(f"/failover-groups/{g['id']}/activate_slicer", {"slicer_id": two})
        assert_error(r, 400, "auto_failback", g["id"])
        assert api.group(g["id"])["active_slicer_id"] == one
        assert api.patch(f"/failover-groups/{g['id']}", {"auto_failback": False}).status_code == 204
        assert api.put(f"/failover-groups/{g['id']}/activate_slicer", {"slicer_id": two}).status_code == 204
        assert api.group(g["id"])["active_slicer_id"] == two


def test_a_rules_alternate_content_must_exist_and_be_the_callers(backend: Backend) -> None:
    api, other = backend.new_user("rule owner"), backend.new_user("someone else")
    theirs = other.make_channel("theirs")
    mine = api.make_channel("mine")
    assert other.heartbeat("their-slicer").status_code == 200
    assert api.heartbeat("my-slicer").status_code == 200
    refused = [("channel", theirs["id"]), ("channel", "0" * 32), ("slicer", "their-slicer"), ("slicer", "nope")]
    for kind, ref in refused:
        body = {"desc": "r", "all_viewers": True, "alternate_content_type": kind, "alternate_content_id": ref}
        assert_error(api.post("/rules", body), 400, "'alternate_content_id'", ref)
    accepted = [("channel", mine["id"]), ("slicer", "my-slicer")]
    for kind, ref in accepted:
        body = {"desc": "r", "all_viewers": True, "alternate_content_type": kind, "alternate_content_id": ref}
        r = api.post("/rules", body)
        assert r.status_code == 201, r.text
        # A PATCH to someone else's channel is refused too, and leaves the rule as it was.
        patched = api.patch(f"/rules/{r.json()['id']}", {"alternate_content_type": "channel",
                                                        "alternate_content_id": theirs["id"]})
        assert_error(patched, 400, "'alternate_content_id'")
        assert api.get(f"/rules/{r.json()['id']}").json()["alternate_content_id"] == ref
