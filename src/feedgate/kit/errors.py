"""The one error type of feedgate and the handlers that render every 4xx/5xx the same way.

The client raises the same type, so scripts catch one thing whichever side found the problem.
"""

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("feedgate")


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


def error_response(error: FeedgateError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status)


def _describe_validation(exc: RequestValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "The request is invalid."
    first = errors[0]
    loc = [str(part) for part in first.get("loc", ())]
    where = loc[0] if loc else "body"
    field = ".".join(loc[1:])
    msg = str(first.get("msg", "is invalid")).rstrip(".")
    if first.get("type") == "json_invalid":
        return f"The request body is not valid JSON: {first.get('ctx', {}).get('error', msg)}."
    if not field:
        return f"The request {where} is invalid: {msg}."
    noun = {"body": "Field", "query": "Query parameter", "path": "Path parameter"}.get(where, "Field")
    return f"{noun} '{field}' is invalid: {msg}."


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(FeedgateError)
    async def _feedgate(_: Request, exc: FeedgateError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        # The v4 API answers 400 (not FastAPI's 422) for wrong types, missing and invalid fields.
        return error_response(bad_request(_describe_validation(exc)))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            description = f"No resource at '{request.url.path}'."
        elif exc.detail == "There was an error parsing the body":  # FastAPI's words for RecursionError & co
            description = "The request body is not valid JSON: it is nested too deeply or malformed."
        elif exc.status_code == 405:
            from feedgate.kit.hotpath import allowed_methods

            allowed = ", ".join(allowed_methods(request.app.routes, request.url.path))
            description = f"Method {request.method} is not allowed on '{request.url.path}'; it allows {allowed}."
            response = error_response(FeedgateError(405, description))
            response.headers["Allow"] = allowed
            return response
        else:
            description = str(exc.detail)
        return error_response(FeedgateError(exc.status_code, description))

    @app.exception_handler(OperationalError)
    async def _database(request: Request, exc: OperationalError) -> JSONResponse:
        # Unreachable, restarting, or a deadlock victim: the transaction did not commit, so nothing changed.
        trouble = database_trouble(exc)
        log.warning("database error on %s %s: %s", request.method, request.url.path, trouble)
        return error_response(FeedgateError(503, f"The database is unavailable or busy ({trouble}); nothing was "
                                                 "changed. Try again."))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(FeedgateError(500, "The server failed to handle the request; it was logged."))
