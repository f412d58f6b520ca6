"""`feedgate`: run the service, manage users, and operate it over the API."""

import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

from feedgate.cli import agent, ops, rights

if TYPE_CHECKING:  # the server's stack is imported by the commands that use it: every command starts fast
    from feedgate.kit.db import Database

app = typer.Typer(no_args_is_help=True, add_completion=False, help="feedgate: live channel control plane.")
users_app = typer.Typer(no_args_is_help=True, help="Users and API keys (direct database access).")
geo_app = typer.Typer(no_args_is_help=True, help="Viewer geolocation data.")
app.add_typer(users_app, name="users")
app.add_typer(geo_app, name="geo")
app.add_typer(rights.scte224, name="scte224")
for _name, _sub in (("groups", ops.groups), ("channels", ops.channels), ("slicers", ops.slicers),
                    ("audiences", ops.audiences), ("rules", ops.rules), ("blackouts", ops.blackouts),
                    ("program", ops.program), ("webhooks", ops.webhooks)):
    app.add_typer(_sub, name=_name)
app.command("playback")(ops.playback)
app.command("playback-url")(ops.playback_url)
app.command("slicer-agent")(agent.slicer_agent)
app.command("simulate")(agent.simulate)
app.command("demo")(agent.demo)
console = Console()
err_console = Console(stderr=True)
err = Console(stderr=True)


def get_settings() -> Any:
    from feedgate.settings import get_settings

    return get_settings()


def _database(create: bool = False) -> "Database":
    """The configured database, migrated; a SQLite file that is not there is an error, not a new empty database
    (a command run from another directory would otherwise make one there and show nothing)."""
    from sqlalchemy.engine import make_url

    from feedgate.kit.db import Database
    from feedgate.kit.migrate import upgrade

    url = get_settings().database_url
    parsed = make_url(url)
    if not create and parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:") \
            and not Path(parsed.database).exists():
        err_console.print(f"error: no database at {Path(parsed.database).resolve()}; set FEEDGATE_DATABASE_URL, "
                          "or create it with `feedgate migrate` (or `feedgate serve`)", soft_wrap=True)
        raise typer.Exit(1)
    upgrade(url)
    return Database(url)


@app.command()
def migrate(to: str | None = typer.Option(None, "--to", help="Go back to this revision (e.g. 0006, or -1).")) -> None:
    """Create the database or bring it to this release's schema (FEEDGATE_DATABASE_URL); --to REVISION takes it
    back (a rollback, run before starting the previous release: docs/operations.md)."""
    from feedgate.kit.migrate import downgrade, upgrade

    if to:
        downgrade(get_settings().database_url, to)
        console.print(f"database taken back to revision {to}")
        return
    upgrade(get_settings().database_url)
    console.print("migrations applied")


@app.command()
def serve(host: str = typer.Option(None, help="Bind address (FEEDGATE_HOST)."),
          port: int = typer.Option(None, help="Port (FEEDGATE_PORT)."),
          first_user: bool = typer.Option(False, "--first-user", help="Create a user if there is none."),
          workers: int = typer.Option(None, "--workers", min=1, max=64,
                                      help="Server processes (FEEDGATE_WORKERS, default 1).")) -> None:
    """Migrate, then serve the API with the failover engine on."""
    import uvicorn

    from feedgate.app import LOG_FORMAT
    from feedgate.auth.service import any_user, create_user

    _port_free(host or get_settings().host, port or get_settings().port)
    if workers is not None:  # the worker processes read their settings from the environment
        os.environ["FEEDGATE_WORKERS"] = str(workers)
        from feedgate.settings import get_settings as cached

        cached.cache_clear()
    settings = get_settings()
    logging.basicConfig(level=settings.log_level.upper(), format=LOG_FORMAT)
    db = _database(create=True)
    if not db.is_postgres:  # the runtime directory must be private: say so in one line, before serving
        from feedgate.kit.peers import runtime_dir

        try:
            runtime_dir(settings.database_url)
        except RuntimeError as exc:
            err_console.print(f"feedgate serve: {exc}", soft_wrap=True)
            raise typer.Exit(1) from None
    if first_user:
        with db.sessions() as session:
            if not any_user(session):
                _first_user(create_user(session, "admin"))
    db.dispose()
    # Each worker builds its own app (engine, ingest, caches) from the factory; one worker runs in-process.
    uvicorn.run("feedgate.app:create_app", factory=True, workers=settings.workers, host=host or settings.host,
                port=port or settings.port, http="feedgate.kit.server:GuardedProtocol", loop="uvloop",
                timeout_keep_alive=int(settings.keep_alive_s), timeout_graceful_shutdown=int(settings.shutdown_s),
                log_level=settings.log_level.lower(),
                access_log=False, proxy_headers=bool(settings.trusted_proxies),
                forwarded_allow_ips=settings.trusted_proxies or None)


def _port_free(host: str, port: int) -> None:
    """Say so in one line, before migrating or starting anything, when the address is taken."""
    import errno
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            in_use = exc.errno == errno.EADDRINUSE
            why = "is in use (another feedgate?)" if in_use else f"cannot be used ({exc.strerror})"
            err_console.print(f"feedgate serve: {host}:{port} {why}; choose another with --port or FEEDGATE_PORT",
                              soft_wrap=True)
            raise typer.Exit(1) from None


def _first_user(user: Any) -> None:
    """The first user's key goes to the credentials file the CLI reads (0600), and to the terminal when there is
    one: never to a log (under systemd, standard output is the journal)."""
    from feedgate.auth.credentials import credentials_path

    path = credentials_path()
    if path.exists():
        path = path.with_name(path.name + ".first-user")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps({"user_id": user.id, "api_key": user.api_key}) + "\n")
    if sys.stdout.isatty():
        console.print("[bold]First user created[/bold] (the key is shown once):")
        console.print(f"  FEEDGATE_USER_ID={user.id}\n  FEEDGATE_API_KEY={user.api_key}")
        console.print(f"  saved to {path} (mode 0600), where the feedgate commands find it")
    else:
        console.print(f"First user created: {user.id}; its API key is in {path} (mode 0600)", soft_wrap=True)


@app.command()
def backup(file: Path | None = typer.Argument(None, help="Where to write it (or use --dir)."),
           directory: Path | None = typer.Option(None, "--dir", help="Write feedgate-<UTC time>.backup here."),
           keep: int = typer.Option(0, "--keep", min=0, help="With --dir: keep only the newest N backups.")) -> None:
    """Back up the database while it serves (SQLite: online copy, checked; PostgreSQL: pg_dump)."""
    from feedgate.kit import backup as backups

    if (file is None) == (directory is None):
        err_console.print("error: give a FILE or --dir DIRECTORY")
        raise typer.Exit(2)
    dest = file or backups.stamped(directory or Path("."))
    started = time.monotonic()
    try:
        size = backups.backup(get_settings().database_url, dest)
    except backups.BackupError as exc:
        err_console.print(f"error: {exc}", soft_wrap=True)
        raise typer.Exit(1) from None
    console.print(f"backed up to {dest} ({size / 1e6:.1f} MB in {time.monotonic() - started:.1f} s)", soft_wrap=True)
    if directory is not None and keep:
        for old in backups.prune(directory, keep):
            console.print(f"removed the older {old.name}")


@app.command()
def restore(file: Path = typer.Argument(..., help="A file written by `feedgate backup`."),
            yes: bool = typer.Option(False, "--yes", help="Replace the database without asking.")) -> None:
    """Replace the database with a backup. Stop the server first; start it after (it migrates if needed)."""
    from feedgate.kit import backup as backups

    url = get_settings().database_url
    if not yes and not typer.confirm(f"Replace the database ({url.split('@')[-1]}) with {file}?"):
        raise typer.Exit(1)
    try:
        backups.restore(url, file)
    except backups.BackupError as exc:
        err_console.print(f"error: {exc}", soft_wrap=True)
        raise typer.Exit(1) from None
    console.print(f"restored from {file}; start feedgate to serve it")


@users_app.command("create")
def users_create(name: str = typer.Option(..., "--name", help="Display name."),
                 as_json: bool = typer.Option(False, "--json", help="Print {user_id, api_key} as JSON.")) -> None:
    """Create a user and print its API key (once)."""
    from feedgate.auth.service import create_user

    db = _database()
    with db.sessions() as session:
        user = create_user(session, name)
    if as_json:
        sys.stdout.write(json.dumps({"user_id": user.id, "api_key": user.api_key}) + "\n")
    else:
        console.print(f"user_id  {user.id}\napi_key  {user.api_key}")


@users_app.command("list")
def users_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """List users (never their keys)."""
    from feedgate.auth.service import list_users

    db = _database()
    with db.sessions() as session:
        users = [{"user_id": u.id, "name": u.name, "created": u.created.isoformat()} for u in list_users(session)]
    if as_json:
        sys.stdout.write(json.dumps(users) + "\n")
        return
    table = Table("user_id", "name", "created")
    for u in users:
        table.add_row(u["user_id"], u["name"], u["created"])
    console.print(table)


@users_app.command("rotate-key")
def users_rotate(user_id: str = typer.Argument(..., help="The user whose key to replace."),
                 as_json: bool = typer.Option(False, "--json")) -> None:
    """Replace a user's API key; the old one stops working within seconds."""
    from feedgate.auth.service import rotate_key

    db = _database()
    with db.sessions() as session:
        user = rotate_key(session, user_id)
    if user is None:
        err.print(f"error: user '{user_id}' does not exist")
        raise typer.Exit(1)
    if as_json:
        sys.stdout.write(json.dumps({"user_id": user.id, "api_key": user.api_key}) + "\n")
    else:
        console.print(f"user_id  {user.id}\napi_key  {user.api_key}")


@geo_app.command("load-dma")
def geo_load_dma(path: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV of zip,dma rows."),
                 merge: bool = typer.Option(False, "--merge", help="Keep rows not in the file.")) -> None:
    """Load the zip-to-DMA table used to place viewers in Nielsen DMAs."""
    from feedgate.geo.service import load_dma_csv

    db = _database()
    with db.sessions() as session:
        report = load_dma_csv(session, path, replace=not merge)
    console.print(f"loaded {report.loaded} rows, refused {len(report.refused)}")
    for line in report.refused[:50]:
        err.print(f"  refused {line}")


def run() -> None:
    app()
