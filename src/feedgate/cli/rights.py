"""SCTE 224 from the command line: import a document (a file or a URL), read the record, export a channel,
and manage rights feeds."""

from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import typer
from rich.table import Table

from feedgate.cli.output import client, console, emit_json, err, friendly, show
from feedgate.kit.errors import FeedgateError

if TYPE_CHECKING:
    from feedgate.client.models import Scte224Import

scte224 = typer.Typer(no_args_is_help=True, help="SCTE 224 (ESNI) rights documents: import, export, feeds.")
feeds = typer.Typer(no_args_is_help=True, help="Rights feeds: URLs checked at an interval, imported on change.")
scte224.add_typer(feeds, name="feeds")
JSON = typer.Option(False, "--json", help="Print JSON instead of a table.")
CHANNEL_MAP = typer.Option(None, "--channel-map", help="MEDIA_ID=CHANNEL (ID or external_id); repeat for each.")


def _pairs(values: list[str] | None) -> dict[str, str]:
    out = {}
    for value in values or []:
        media, sep, channel = value.partition("=")
        if not sep or not media or not channel:
            raise FeedgateError(0, f"--channel-map takes MEDIA_ID=CHANNEL (got '{value}').")
        out[media] = channel
    return out


def _read(source: str) -> bytes:
    """The document: a URL is fetched from this machine (it is the operator's), anything else is a file."""
    if source.startswith(("http://", "https://")):
        try:
            response = httpx.get(source, timeout=60.0, follow_redirects=True)
        except httpx.HTTPError as exc:
            raise FeedgateError(0, f"Cannot fetch {source}: {exc}.") from None
        if response.status_code != 200:
            raise FeedgateError(0, f"{source} answered HTTP {response.status_code}.")
        return response.content
    try:
        return Path(source).read_bytes()
    except OSError as exc:
        raise FeedgateError(0, f"Cannot read {source}: {exc.strerror}.") from None


def diff_table(result: "Scte224Import") -> Table:
    s = result.summary
    verb = "would change" if result.dry_run else "changed"
    title = (f"{verb}: {s.created} created, {s.updated} updated, {s.removed} removed, {s.unchanged} unchanged, "
             f"{s.refused} refused")
    t = Table("action", "kind", "224 id", "feedgate id", "channel", "what", title=title)
    for c in result.diff:
        what = ", ".join(c.fields) if c.action == "updated" else \
            f"{c.element} (line {c.line}): {c.reason}" if c.action == "refused" else ""
        style = {"created": "green", "removed": "red", "refused": "bold red"}.get(c.action, "yellow")
        t.add_row(f"[{style}]{c.action}[/{style}]", c.kind, c.external_id, c.id or "-", c.channel or "-", what)
    return t


@scte224.command("import")
@friendly
def import_document(source: str = typer.Argument(..., help="A file, or an http(s) URL."),
                    channel_map: list[str] | None = CHANNEL_MAP,
                    dry_run: bool = typer.Option(False, "--dry-run", help="Answer the diff; change nothing."),
                    as_json: bool = JSON) -> None:
    """Import an SCTE 224 document in one transaction; --dry-run shows what it would change."""
    mapping = _pairs(channel_map)
    data = _read(source)
    with console.status(f"{'checking' if dry_run else 'importing'} {len(data) / 1e6:.1f} MB from {source} ..."), \
            client() as c:
        result = c.import_scte224(data, mapping, dry_run=dry_run)
    if as_json:
        emit_json(result)
    else:
        console.print(diff_table(result))
        where = ", ".join(f"{m.media} -> {m.channel}" for m in result.media) or "no Media"
        console.print(f"{'dry run' if dry_run else 'import ' + result.id}: {where}; digest {result.digest[:12]}")
    if dry_run and result.summary.refused:
        err.print(f"{result.summary.refused} element(s) would be refused: the import itself would change nothing")
        raise typer.Exit(1)


@scte224.command("imports")
@friendly
def list_imports(as_json: bool = JSON) -> None:
    """The record of imports, newest first: who, when, from where, and what changed."""
    with client() as c:
        found = c.scte224_imports()
    if as_json:
        emit_json(found)
        return
    t = Table("id", "created", "by", "source", "changed", "created", "updated", "removed", title="imports")
    for i in found:
        s = i.summary
        t.add_row(i.id, i.created, i.by, i.source, "yes" if i.changed else "no", str(s.created), str(s.updated),
                  str(s.removed))
    console.print(t)


@scte224.command("export")
@friendly
def export_channel(channel_id: str, output: Path | None = typer.Option(None, "-o", "--output",
                                                                       help="Write here instead of stdout.")) -> None:
    """A channel's audiences, rules, blackouts and windows as an SCTE 224 document."""
    with client() as c:
        data = c.export_scte224(channel_id)
    if output is None:
        typer.echo(data.decode(), nl=False)
    else:
        output.write_bytes(data)
        err.print(f"wrote {len(data)} bytes to {output}")


FEED_COLUMNS = ["id", "url", "interval_s", "enabled", "state", "failures", "last_status", "checked", "last_error"]


@feeds.command("list")
@friendly
def feeds_list(as_json: bool = JSON) -> None:
    """Your rights feeds and the outcome of each one's last check."""
    with client() as c:
        show(c.list_scte224_feeds(), as_json, FEED_COLUMNS)


@feeds.command("add")
@friendly
def feeds_add(url: str, interval_s: int = typer.Option(300, help="Seconds between checks (30 to 86400)."),
              channel_map: list[str] | None = CHANNEL_MAP, description: str = "", as_json: bool = JSON) -> None:
    """Add a rights feed; it is checked at once, then every interval (conditional GETs)."""
    with client() as c:
        show(c.create_scte224_feed(url, interval_s=interval_s, channel_map=_pairs(channel_map),
                                   description=description), as_json)


@feeds.command("check")
@friendly
def feeds_check(feed_id: str, as_json: bool = JSON) -> None:
    """Check a feed now (within a second); `feeds list` shows the outcome."""
    with client() as c:
        show(c.check_scte224_feed(feed_id), as_json)


@feeds.command("delete")
@friendly
def feeds_delete(feed_id: str) -> None:
    """Delete a feed (what it imported stays)."""
    with client() as c:
        c.delete_scte224_feed(feed_id)
    console.print(f"deleted feed {feed_id}")
