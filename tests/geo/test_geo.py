"""Viewer location over real HTTP: a real City .mmdb (built with mmdb-writer) and the zip-to-DMA table."""

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import (
    Backend,
    blackout_setup,
    build_city_db,
    decide,
    started_backend,
    wait_for,
)


@pytest.fixture(scope="module")
def geo_backend() -> Iterator[Backend]:
    folder = Path(tempfile.mkdtemp(prefix="feedgate-geo-"))
    build_city_db(folder / "city.mmdb")
    with started_backend("sqlite-geo", f"sqlite:///{folder / 'geo.db'}",
                         FEEDGATE_GEOIP_DB=str(folder / "city.mmdb")) as backend:
        yield backend


class TestGeolocation:
    def test_located_from_mmdb_and_dma_from_metro(self, geo_backend: Backend) -> None:
        api = geo_backend.new_user()
        ch, r1, r2 = blackout_setup(api)
        api.put(f"/channels/{ch['id']}/program", {"blackout_id": "BNA"})
        la = decide(api, ch["id"], ip="198.51.100.20")
        assert la["viewer"] | {} == {"ip": "198.51.100.20", "country": "US", "zip": "90503", "dma": "803",
                                     "device": None, "located": True}
        assert la["rule"] == r1["id"]
        assert decide(api, ch["id"], ip="192.0.2.1")["rule"] == r2["id"]
        assert decide(api, ch["id"], ip="203.0.113.5")["blacked_out"] is False
        assert decide(api, ch["id"], ip="203.0.113.5", repl_cbcc="US")["rule"] == r2["id"]

    def test_zip_to_dma_table(self, geo_backend: Backend, tmp_path: Path) -> None:
        import subprocess

        from tests.support import FEEDGATE

        csv = tmp_path / "dma.csv"
        csv.write_text("zip,dma\n10001,501\n1234,501\n60601,abc\n")
        out = subprocess.run([FEEDGATE, "geo", "load-dma", str(csv)], capture_output=True, text=True, check=True,
                             env={**__import__("os").environ, "FEEDGATE_DATABASE_URL": geo_backend.database_url})
        assert "loaded 1 rows, refused 2" in out.stdout
        api = geo_backend.new_user()
        ch = api.make_channel()
        nyc = api.post("/audiences", {"desc": "NYC DMA", "dma_codes": ["501"]}).json()
        r = api.post("/rules", {"desc": "nyc", "audience": nyc["id"]}).json()
        api.post(f"/channels/{ch['id']}/blackouts", {"blackout_id": "B", "rules": [r["id"]]})
        api.put(f"/channels/{ch['id']}/program", {"blackout_id": "B"})
        body = wait_for(lambda: (d := decide(api, ch["id"], ip="192.0.2.1"))["blacked_out"] and d, timeout=3)
        assert body["viewer"]["dma"] == "501"
