"""How the CLI talks: rich tables for people, --json for machines, one line per error."""

import functools
import json
import os
import sys
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from feedgate.failover.policy import HEALTHY, OFFLINE, UNHEALTHY
from feedgate.kit.errors import FeedgateError

if TYPE_CHECKING:  # the client (httpx, pydantic) is imported when a command runs: `feedgate --help` stays fast
    from pydantic import BaseModel

    from feedgate.client import FeedgateClient
    from feedgate.client.models import FailoverEvent, FailoverGroup

console = Console()
err = Console(stderr=True)
P = ParamSpec("P")
R = TypeVar("R")
STATES = {HEALTHY: "[green]healthy[/green]", UNHEALTHY: "[yellow]unhealthy[/yellow]", OFFLINE: "[red]offline[/red]"}


def client() -> "FeedgateClient":
    from feedgate.client import FeedgateClient
    from feedgate.client.client import DEFAULT_URL

    return FeedgateClient(os.environ.get("FEEDGATE_URL", DEFAULT_URL))


def friendly(fn: Callable[P, R]) -> Callable[P, R]:
    """Errors print one line naming the problem and exit 1; Ctrl-C prints `stopped` and exits 130. No
    tracebacks for expected endings."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except FeedgateError as exc:
            where = f"{exc.status} {exc.reason}: " if exc.status else ""
            sys.stderr.write(f"error: {where}{exc.description}\n")  # one line, never wrapped
            raise typer.Exit(1) from None
        except KeyboardInterrupt:  # Ctrl-C is how these commands are ended: no traceback, the shell's code
            sys.stderr.write("stopped\n")
            raise typer.Exit(130) from None

    return wrapper


def to_data(obj: Any) -> Any:
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json", by_alias=True)
    if isinstance(obj, list):
        return [to_data(o) for o in obj]
    return obj


def emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(to_data(obj)) + "\n")


def table(rows: Iterable["BaseModel"], columns: list[str], title: str | None = None) -> None:
    t = Table(*columns, title=title)
    for column in t.columns:  # IDs wrap at 80 columns: the next command needs them whole
        column.overflow = "fold"
    for row in rows:
        data = row.model_dump(mode="json")
        t.add_row(*(_cell(data.get(c)) for c in columns))
    console.print(t)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def show(obj: "BaseModel | list[Any]", as_json: bool, columns: list[str] | None = None) -> None:
    if as_json:
        emit_json(obj)
    elif isinstance(obj, list):
        table(obj, columns or ["id"])
    else:
        t = Table("field", "value", show_header=False)
        for key, value in obj.model_dump(mode="json", by_alias=True).items():
            t.add_row(key, _cell(value))
        console.print(t)


def group_panel(group: "FailoverGroup") -> Table:
    """Group health: slicers with coloured states, the active one marked."""
    on_air = "slate (no_slicer)" if group.no_slicer else (group.active_slicer_id or "none")
    t = Table("", "slicer", "order", "state", "enabled", "blacklisted until", "hostname",
              title=f"{group.name} ({group.mode}{', auto failback' if group.auto_failback else ''}) "
                    f"- on air: {on_air}")
    now = int(time.time() * 1000)
    for s in group.slicers:
        marker = "[bold cyan]>[/bold cyan]" if s.id == group.active_slicer_id else ""
        until = f"in {(s.blacklist_until - now) / 1000:.1f} s" if s.blacklist_until > now else "-"
        t.add_row(marker, s.id, str(s.order), STATES.get(s.status.state, str(s.status.state)),
                  "yes" if s.enabled else "no", until, s.hostname)
    return t


def human_time(ms: int | None, utc: bool = False, now_ms: int | None = None) -> str:
    """Unix ms as people read it: local (or UTC) date and time, and how long ago ("12:04:31 (3 min ago)")."""
    if ms is None:
        return "-"
    from datetime import UTC, datetime

    moment = datetime.fromtimestamp(ms / 1000, UTC)
    shown = moment if utc else moment.astimezone()
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    today = datetime.fromtimestamp(now / 1000, UTC if utc else None).date()
    stamp = shown.strftime("%H:%M:%S" if shown.date() == today else "%Y-%m-%d %H:%M:%S") + (" UTC" if utc else "")
    return f"{stamp} ({ago(now - ms)})"


def ago(delta_ms: int) -> str:
    seconds = abs(delta_ms) / 1000
    if seconds < 1:
        span = "now"
    elif seconds < 60:
        span = f"{seconds:.0f} s"
    elif seconds < 3600:
        span = f"{seconds / 60:.0f} min"
    elif seconds < 86400:
        span = f"{seconds / 3600:.1f} h"
    else:
        span = f"{seconds / 86400:.1f} d"
    if span == "now":
        return span
    return f"{span} ago" if delta_ms >= 0 else f"in {span}"


def events_table(events: list["FailoverEvent"], utc: bool = False) -> Table:
    t = Table("time", "kind", "from", "to", "reason", title="events (newest first)")
    t.columns[3].overflow = t.columns[2].overflow = "fold"
    for e in events:
        t.add_row(human_time(e.time, utc), e.kind, e.from_slicer_id or "-", e.to_slicer_id or "-", e.reason)
    return t
