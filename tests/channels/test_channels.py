"""Live channels over HTTP."""

from tests.support import Api, assert_error


class TestChannelsResource:
    def test_crud(self, api: Api, other: Api) -> None:
        ch = api.make_channel("Sports", external_id="sports-1")
        assert ch["slicer_id"] is None and ch["failover_group_id"] is None and ch["external_id"] == "sports-1"
        assert api.get("/channels/sports-1").json()["id"] == ch["id"]
        patched = api.patch(f"/channels/{ch['id']}", {"desc": "Sports HD"}).json()
        assert patched["desc"] == "Sports HD"
        assert_error(other.get(f"/channels/{ch['id']}"), 404)
        assert_error(api.post("/channels", {"desc": "dup", "external_id": "sports-1"}), 409, "external_id")
        assert api.delete(f"/channels/{ch['id']}").json() == {"@id": f"/api/v4/channels/{ch['id']}",
                                                               "@type": "Channel", "message": "Deleted"}
        assert_error(api.get(f"/channels/{ch['id']}"), 404)
