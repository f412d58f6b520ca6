"""Processes that share one SQLite file (`feedgate serve --workers N`): where they meet, and how they talk.

They meet in a private runtime directory named after the database file. It holds the engine lock (an
`flock`: the kernel releases it when its holder dies, as PostgreSQL drops an advisory lock with its
session) and one Unix datagram socket per process. A process announces what it flushed (heartbeats) by
sending one datagram to each peer's socket: on one host, the counterpart of PostgreSQL's NOTIFY. A
socket whose process died refuses the datagram and is removed.
"""

import contextlib
import errno
import fcntl
import hashlib
import logging
import os
import socket
import stat
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import make_url

log = logging.getLogger("feedgate.peers")
DATAGRAM_BYTES = 60_000  # below the default Unix datagram limits (net.core.wmem_default is 208 KiB)


def runtime_dir(database_url: str) -> Path:
    """The meeting place for this SQLite file: short (a socket path has at most 107 bytes) and private.

    Under $XDG_RUNTIME_DIR when set (a per-user directory), else the system temp directory with the user ID
    in the name. Created 0700; one that exists must be a real directory, this user's, and 0700: another
    local user who made it first could hold the engine lock (no failover would ever happen) or read the
    heartbeat datagrams, so feedgate refuses to start rather than use it."""
    database = make_url(database_url).database or ""
    digest = hashlib.sha256(os.path.realpath(database).encode()).hexdigest()[:16]
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    path = Path(base) / f"feedgate-{os.getuid()}-{digest}"
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o700)
    found = os.lstat(path)
    if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.getuid() or stat.S_IMODE(found.st_mode) & 0o077:
        raise RuntimeError(f"the runtime directory {path} is not a private directory of this user (owner uid "
                           f"{found.st_uid}, mode {stat.S_IMODE(found.st_mode):o}); remove it, or set "
                           "XDG_RUNTIME_DIR to a directory only you can write")
    return path


class EngineLock:
    """At most one process per SQLite file runs the failover engine."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "engine.lock"
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None


class Peers:
    """This process's socket in the runtime directory, and datagrams to and from the others."""

    def __init__(self, directory: Path, name: str, on_message: Callable[[bytes], None]) -> None:
        self.directory = directory
        self.path = directory / f"{name[:16]}.sock"
        self.on_message = on_message
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._out = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._out.setblocking(False)  # a peer whose queue is full misses a batch; we never wait for it
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._receive, name="peers", daemon=True)

    def start(self) -> None:
        self._sock.bind(str(self.path))
        self._sock.settimeout(0.5)
        self._thread.start()

    def send(self, payloads: list[bytes]) -> None:
        if not self._thread.is_alive():
            return
        for peer in self.directory.glob("*.sock"):
            if peer == self.path:
                continue
            for payload in payloads:
                try:
                    self._out.sendto(payload, str(peer))
                except OSError as exc:
                    if exc.errno in (errno.ECONNREFUSED, errno.ENOENT):  # its process is gone
                        with contextlib.suppress(OSError):
                            peer.unlink()
                        break
                    if exc.errno != errno.EAGAIN:
                        log.warning("peer %s: %s", peer.name, exc)
                    break

    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._sock.recv(DATAGRAM_BYTES + 1024)
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                raise
            try:
                self.on_message(data)
            except Exception:
                log.exception("peer message failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        self._sock.close()
        self._out.close()
        with contextlib.suppress(OSError):
            self.path.unlink()
