"""The one error type of feedgate: a status and one sentence naming the field or ID at fault.

No web or database imports: the client raises the same type, so scripts catch one thing whichever side
found the problem, and a client install does not pay for the server. The handlers that render it are
the app's (`feedgate.app.errors`).
"""

from http import HTTPStatus
from typing import Any


class FeedgateError(Exception):
    """An error with an HTTP status and one sentence naming the field or ID at fault."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description

    @property
    def reason(self) -> str:
        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return "Error"

    def body(self) -> dict[str, Any]:
        return {"@type": "Error", "status": self.status, "error": self.reason, "description": self.description}

    def __str__(self) -> str:
        return f"{self.status} {self.reason}: {self.description}"


def bad_request(description: str) -> FeedgateError:
    return FeedgateError(400, description)


def unauthorized(description: str) -> FeedgateError:
    return FeedgateError(401, description)


def forbidden(description: str) -> FeedgateError:
    return FeedgateError(403, description)


def not_found(kind: str, ident: str) -> FeedgateError:
    return FeedgateError(404, f"{kind} '{ident}' was not found.")


def conflict(description: str) -> FeedgateError:
    return FeedgateError(409, description)


def database_trouble(exc: BaseException) -> str:
    """The database's own reason in a few words, without hosts or ports: 'Connection refused',
    'database or disk is full', 'attempt to write a readonly database'."""
    orig = getattr(exc, "orig", None) or exc
    first = (str(orig).strip().splitlines() or [orig.__class__.__name__])[0]
    return first.rsplit(": ", 1)[-1].strip().rstrip(".") or orig.__class__.__name__


def database_unavailable(exc: BaseException) -> FeedgateError:
    """A database error during a request: unreachable, restarting, or a deadlock victim. The transaction
    did not commit, so nothing changed."""
    return FeedgateError(503, f"The database is unavailable or busy ({database_trouble(exc)}); nothing was "
                              "changed. Try again.")
