"""`feedgate backup` and `feedgate restore`: a consistent copy of the database while it serves, and its return.

SQLite: the online backup API copies the file page by page while the server keeps writing (each step sees one
consistent state), the copy's integrity is checked, and the file appears under its name only when complete.
A restore refuses while a server holds the engine lock on that file. PostgreSQL: `pg_dump --format=custom`
and `pg_restore --clean`, which must be installed (they ship with the server).
"""

import contextlib
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import make_url

from feedgate.kit.peers import EngineLock, runtime_dir

Progress = Callable[[int, int], None]  # pages (or bytes) done, total


class BackupError(Exception):
    """Said to the operator in one line."""


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    return Path(parsed.database or "") if parsed.get_backend_name() == "sqlite" else None


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def backup(url: str, dest: Path, progress: Progress = lambda _done, _total: None) -> int:
    """Write a backup of the database at `url` to `dest` (0600); return its size in bytes."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    source = _sqlite_path(url)
    if source is None:
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={partial}", f"--dbname={_libpq(url)}"])
    else:
        if not source.exists():
            raise BackupError(f"no database at {source}")
        with contextlib.closing(sqlite3.connect(source)) as src, contextlib.closing(sqlite3.connect(partial)) as dst:
            src.backup(dst, pages=2048, progress=lambda _status, left, total: progress(total - left, total))
            if dst.execute("PRAGMA integrity_check").fetchone() != ("ok",):
                raise BackupError("the copy failed its integrity check; the database was not changed")
    os.chmod(partial, 0o600)
    os.replace(partial, dest)
    return dest.stat().st_size


def restore(url: str, source: Path) -> None:
    """Put the backup `source` in place of the database at `url`. The server must be stopped."""
    if not source.is_file():
        raise BackupError(f"no backup at {source}")
    target = _sqlite_path(url)
    if target is None:
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
              f"--dbname={_libpq(url)}", str(source)])
        return
    with contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as check:
        try:
            whole = check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            ours = check.execute("SELECT version_num FROM alembic_version").fetchone() is not None
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{source} is not a feedgate SQLite backup ({exc})") from None
    if not (whole and ours):
        raise BackupError(f"{source} is damaged or not a feedgate backup; nothing was changed")
    lock = EngineLock(runtime_dir(url))
    if not lock.try_acquire():
        raise BackupError(f"a feedgate server is running on {target}; stop it first (systemctl stop feedgate)")
    try:
        staged = target.with_name(target.name + ".restoring")
        shutil.copyfile(source, staged)
        os.chmod(staged, 0o600)
        for suffix in ("-wal", "-shm"):  # the old file's journal must not be replayed into the restored one
            with contextlib.suppress(FileNotFoundError):
                os.remove(f"{target}{suffix}")
        os.replace(staged, target)
    finally:
        lock.release()


def prune(directory: Path, keep: int) -> list[Path]:
    """Keep the newest `keep` backups made by `backup --dir`; return those removed."""
    made = sorted(directory.glob("feedgate-*.backup"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in made[keep:]:
        old.unlink()
    return made[keep:]


def stamped(directory: Path) -> Path:
    return directory / time.strftime("feedgate-%Y%m%dT%H%M%SZ.backup", time.gmtime())


def _run(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (it ships with PostgreSQL's client tools)")
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
        raise BackupError(f"{command[0]} failed: {last}")
