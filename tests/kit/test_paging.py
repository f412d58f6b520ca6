"""Paging over real HTTP: page and page_size limits, links, order, after and include_deleted."""

import time

import pytest

from tests.support import Api, assert_error


class TestPaging:
    @pytest.mark.parametrize("params, field", [
        ({"page": 0}, "page"), ({"page": -1}, "page"), ({"page_size": 0}, "page_size"),
        ({"page_size": 41}, "page_size"), ({"page": "x"}, "page"), ({"page": 10**18}, "page"),
        ({"after": "yesterday"}, "after"),
        ({"order": "nonsense"}, "order"),
    ])
    def test_out_of_range_is_400(self, api: Api, params: dict[str, object], field: str) -> None:
        assert_error(api.get("/channels", params=params), 400, field)

    def test_pages_and_links(self, api: Api) -> None:
        for i in range(45):
            api.make_channel(f"ch{i:02d}")
        first = api.get("/channels").json()
        assert first["total_items"] == 45 and len(first["items"]) == 40
        assert first["@links"]["next"] == "/api/v4/channels?page=2&page_size=40"
        assert "prev" not in first["@links"]
        second = api.get("/channels", params={"page": 2}).json()
        assert [c["desc"] for c in second["items"]] == ["ch40", "ch41", "ch42", "ch43", "ch44"]
        assert second["@links"]["last"] == "/api/v4/channels?page=2&page_size=40"
        assert "next" not in second["@links"] and second["@links"]["prev"].startswith("/api/v4/channels?page=1")
        ordered = api.get("/channels", params={"order": "-desc", "page_size": 3}).json()
        assert [c["desc"] for c in ordered["items"]] == ["ch44", "ch43", "ch42"]

    def test_after_and_include_deleted(self, api: Api) -> None:
        old = api.make_channel("old")
        time.sleep(0.05)
        mark = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1000) % 1000:03d}Z"
        time.sleep(0.05)
        new = api.make_channel("new")
        gone = api.make_channel("gone")
        assert api.delete(f"/channels/{gone['id']}").status_code == 200
        recent = api.get("/channels", params={"after": mark}).json()
        assert [c["id"] for c in recent["items"]] == [new["id"]]
        with_deleted = api.get("/channels", params={"after": mark, "include_deleted": "true"}).json()
        assert {"id": gone["id"], "deleted": True}.items() <= with_deleted["items"][-1].items()
        assert old["id"] not in [c["id"] for c in with_deleted["items"]]
        assert with_deleted["total_items"] == 2


