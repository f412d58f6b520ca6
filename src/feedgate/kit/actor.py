"""Who is acting: set once per request (an API key's user, or a console operator) and read where a change is
recorded, so events and the audit log name a person without every service taking a parameter for it.

A context variable: each request runs in its own task, and the thread a sync route runs in gets a copy, so
one request's actor never leaks into another's. Background work (the engine, ingest, feeds) has none; a
request that writes the heartbeat batch before it reads (`settled`) does it `unattributed()`.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    kind: str  # "api" (an API key), "console" (the API key signed in to the console), "operator" (a named account)
    id: str  # the user ID, or the operator's ID
    name: str  # what events and the audit log show
    owner: str  # the tenant (user) acted for
    action: str  # what was asked: "PUT /api/v4/failover-groups/…/activate_slicer", "console: slate_on"


_CURRENT: ContextVar[Actor | None] = ContextVar("feedgate_actor", default=None)


def act_as(actor: Actor) -> None:
    _CURRENT.set(actor)


@contextmanager
def unattributed() -> Iterator[None]:
    """Work a request does for everyone (writing the heartbeat batch it waits for): no one's change."""
    token = _CURRENT.set(None)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def current_actor() -> Actor | None:
    return _CURRENT.get()


def by_whom() -> str:
    """" (by NAME)" for a reason text when someone is acting, else ""."""
    actor = _CURRENT.get()
    return f" (by {actor.name})" if actor is not None else ""
