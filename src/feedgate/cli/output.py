"""How the CLI talks: rich tables for people, --json for machines, one line per error."""

import functools
import json
import os
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any, ParamSpec, TypeVar

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from feedgate.client import FeedgateClient, FeedgateError
from feedgate.client.client import DEFAULT_URL
from feedgate.client.models import FailoverEvent, FailoverGroup
from feedgate.failover.policy import HEALTHY, OFFLINE, UNHEALTHY

console = Console()
err = Console(stderr=True)
P = ParamSpec("P")
R = TypeVar("R")
STATES = {HEALTHY: "[green]healthy[/green]", UNHEALTHY: "[yellow]unhealthy[/yellow]", OFFLINE: "[red]offline[/red]"}


def client() -> FeedgateClient:
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
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json", by_alias=True)
    if isinstance(obj, list):
        return [to_data(o) for o in obj]
    return obj


def emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(to_data(obj)) + "\n")


def table(rows: Iterable[BaseModel], columns: list[str], title: str | None = None) -> None:
    t = Table(*columns, title=title)
    for row in rows:
        data = row.model_dump(mode="json")
        t.add_row(*(_cell(data.get(c)) for c in columns))
    console.print(t)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def show(obj: BaseModel | list[Any], as_json: bool, columns: list[str] | None = None) -> None:
    if as_json:
        emit_json(obj)
    elif isinstance(obj, list):
        table(obj, columns or ["id"])
    else:
        t = Table("field", "value", show_header=False)
        for key, value in obj.model_dump(mode="json", by_alias=True).items():
            t.add_row(key, _cell(value))
        console.print(t)


def group_panel(group: FailoverGroup) -> Table:
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


def events_table(events: list[FailoverEvent]) -> Table:
    t = Table("time (ms)", "kind", "from", "to", "reason", title="events (newest first)")
    for e in events:
        t.add_row(str(e.time), e.kind, e.from_slicer_id or "-", e.to_slicer_id or "-", e.reason)
    return t
