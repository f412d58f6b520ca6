"""Parameters the vendor's client signs inside `msg`, read as if they were in the query string."""

from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Receive, Scope, Send

from feedgate.auth.signing import BadMessage, decode_msg
from feedgate.kit.hotpath import PARSED_QUERY

MSG_PARAMS = frozenset({"page", "page_size", "order", "after", "include_deleted", "ip"})


class MsgParams:
    """The vendor's client puts what you give `get_params(...)` inside the signed `msg`: for a GET, read
    paging (`page`, `page_size`, `order`, `after`, `include_deleted`) and the viewer (`ip`, `repl.cb*`)
    from there too. The query string wins on a conflict; `msg` itself is left as sent, for the signature."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD") and b"msg=" in scope["query_string"] \
                and scope["path"].startswith("/api/v4/"):
            query, extra = _msg_params(scope["query_string"])
            if extra:
                scope = {**scope, "query_string": scope["query_string"] + b"&" + urlencode(extra).encode()}
            scope[PARSED_QUERY] = {**query, **extra}  # parsed once: the hot routes read it
        await self.app(scope, receive, send)


def _msg_params(query_string: bytes) -> tuple[dict[str, str], dict[str, str]]:
    """The query string's parameters, and those to add from inside `msg`."""
    query = dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
    try:
        obj = decode_msg(query.get("msg", ""))
    except BadMessage:
        return query, {}  # the signature check answers for it
    extra = {}
    for key, value in obj.items():
        if (key in MSG_PARAMS or key.startswith("repl.cb")) and key not in query and value is not None:
            extra[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return query, extra

