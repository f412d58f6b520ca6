"""The OpenAPI document as feedgate serves it: every status a route can answer, with the one Error body."""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR_SCHEMA = {"type": "object", "required": ["@type", "status", "error", "description"], "properties": {
    "@type": {"type": "string", "const": "Error"}, "status": {"type": "integer"},
    "error": {"type": "string", "description": "The HTTP reason phrase"},
    "description": {"type": "string", "description": "One sentence naming the field or ID at fault"}}}
ERRORS = {
    "400": "Invalid request: the description names the field",
    "401": "Not signed, or signed wrongly, out of the time window, or replayed: the description says which",
    "403": "Not allowed: the description says why",
    "404": "No such resource for this user (another user's resources are 404 too)",
    "405": "Method not allowed here (the Allow header lists the ones that are)",
    "409": "Conflicts with the current state (a duplicate external_id, a channel in another group …)",
    "413": "The body is larger than 1 MiB",
    "500": "The server failed; nothing was changed, and the error was logged",
    "503": "The database is unavailable or busy; nothing was changed: try again",
}


def _codes(path: str, method: str, operation: dict[str, Any]) -> list[str]:
    codes = ["500", "503"]
    if path.startswith("/api/v4/"):
        codes += ["400", "405"]
        if "msg" in {p.get("name") for p in operation.get("parameters", [])}:
            codes.append("401")
        if "{" in path:
            codes.append("404")
        if method in ("post", "put", "patch", "delete"):
            codes.append("409")
        if "requestBody" in operation:
            codes.append("413")
    return codes


def document_errors(schema: dict[str, Any]) -> None:
    """Every status a route can answer, with the one Error body (FastAPI would document 422 only)."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        schema["components"]["schemas"].pop(name, None)
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            for code in sorted(set(_codes(path, method, operation)) | {c for c in responses if c[0] in "45"}):
                response = responses.setdefault(code, {"description": ERRORS[code]})
                response.setdefault("content", error)


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes)
            document_errors(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
