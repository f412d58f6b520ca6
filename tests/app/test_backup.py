"""`feedgate backup` and `feedgate restore`: a round trip while the server serves, on both databases."""

import os
import stat
import subprocess
from pathlib import Path

from tests.support import FEEDGATE, PostgresServer, active, heartbeating, started_backend, wait_for


def run(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([FEEDGATE, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "FEEDGATE_DATABASE_URL": url})


def round_trip(url: str, tmp_path: Path) -> None:
    with started_backend("db", url) as b:
        api = b.new_user()
        kept = api.make_group("Kept")
        with heartbeating(api, kept["id"], {"news01": {}}):  # the server writes while the copy is made
            wait_for(lambda: active(api, kept["id"]) == "news01")
            made = run(url, "backup", str(tmp_path / "one.backup"))
            assert made.returncode == 0, made.stderr
            assert "backed up to" in made.stdout
        assert stat.S_IMODE((tmp_path / "one.backup").stat().st_mode) == 0o600
        lost = api.make_group("Made after the backup")
        if url.startswith("sqlite"):
            refused = run(url, "restore", str(tmp_path / "one.backup"), "--yes")
            assert refused.returncode == 1 and "a feedgate server is running" in refused.stderr
        b.server.stop()
        restored = run(url, "restore", str(tmp_path / "one.backup"), "--yes")
        assert restored.returncode == 0, restored.stderr
        b.server.start()
        names = {g["name"] for g in api.get("/failover-groups").json()["items"]}
        assert "Kept" in names and lost["name"] not in names
        assert api.group(kept["id"])["active_slicer_id"] == "news01"


def test_a_sqlite_backup_taken_while_serving_restores(tmp_path: Path) -> None:
    round_trip(f"sqlite:///{tmp_path / 'live.db'}", tmp_path)


def test_a_postgresql_backup_restores(postgres: PostgresServer, tmp_path: Path) -> None:
    round_trip(postgres.create_database(), tmp_path)


def test_a_damaged_backup_changes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert run(url, "migrate").returncode == 0
    before = (tmp_path / "x.db").read_bytes()
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    done = run(url, "restore", str(junk), "--yes")
    assert done.returncode == 1 and "junk.backup" in done.stderr
    assert (tmp_path / "x.db").read_bytes() == before
    assert run(url, "backup").returncode == 2  # neither a file nor --dir
    for _ in range(3):
        assert run(url, "backup", "--dir", str(tmp_path / "daily"), "--keep", "2").returncode == 0
    assert len(list((tmp_path / "daily").glob("feedgate-*.backup"))) <= 2
