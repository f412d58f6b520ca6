"""How every 4xx/5xx is rendered: the one error body, whichever layer found the problem."""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from feedgate.app.middleware import allowed_methods
from feedgate.kit.errors import FeedgateError, bad_request, conflict, database_trouble, database_unavailable
from feedgate.kit.models import describe_clash

log = logging.getLogger("feedgate")


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


async def _feedgate(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FeedgateError)
    return error_response(exc)


async def _validation(_: Request, exc: Exception) -> JSONResponse:
    # The v4 API answers 400 (not FastAPI's 422) for wrong types, missing and invalid fields.
    assert isinstance(exc, RequestValidationError)
    return error_response(bad_request(_describe_validation(exc)))


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        description = f"No resource at '{request.url.path}'."
    elif exc.detail == "There was an error parsing the body":  # FastAPI's words for RecursionError & co
        description = "The request body is not valid JSON: it is nested too deeply or malformed."
    elif exc.status_code == 405:
        allowed = ", ".join(allowed_methods(request.app.routes, request.url.path))
        description = f"Method {request.method} is not allowed on '{request.url.path}'; it allows {allowed}."
        response = error_response(FeedgateError(405, description))
        response.headers["Allow"] = allowed
        return response
    else:
        description = str(exc.detail)
    return error_response(FeedgateError(exc.status_code, description))


async def _database(request: Request, exc: Exception) -> JSONResponse:
    log.warning("database error on %s %s: %s", request.method, request.url.path, database_trouble(exc))
    return error_response(database_unavailable(exc))


async def _integrity(request: Request, exc: Exception) -> JSONResponse:
    # A write the database refused that no service foresaw (a race, a new constraint): still a 409 naming
    # the field, and the request's session is rolled back as it closes.
    assert isinstance(exc, IntegrityError)
    log.info("refused write on %s %s: %s", request.method, request.url.path, database_trouble(exc))
    return error_response(conflict(describe_clash(exc)))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(FeedgateError, _feedgate)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(OperationalError, _database)
    app.add_exception_handler(IntegrityError, _integrity)
