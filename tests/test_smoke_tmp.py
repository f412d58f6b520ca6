from tests.support import assert_error


def test_smoke(api):
    r = api.get("/failover-groups")
    assert r.status_code == 200, r.text
    ch = api.make_channel("A")
    g = api.make_group("G")
    r = api.put(f"/failover-groups/{g['id']}/channels", {"channels_ids_to_add": [ch["id"]]})
    assert r.status_code == 204, r.text
    r = api.heartbeat("s1", g["id"])
    assert r.status_code == 200, r.text
    print(r.json())
    print(api.group(g["id"]))
    assert_error(api.get("/nope"), 404)
