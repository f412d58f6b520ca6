"""The signed-request check: `verify` (plain), and the FastAPI dependency on all of /api/v4 that calls it."""

import time
from typing import Annotated

from fastapi import Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from feedgate.auth.service import KeyCache
from feedgate.auth.signing import BadMessage, decode_msg, signature_matches
from feedgate.kit.db import Database
from feedgate.kit.errors import unauthorized


async def verify(db: Database, keys: KeyCache, window_s: int, msg: str | None, sig: str | None) -> str:
    """Return the user ID the request is signed by, or raise a 401 FeedgateError saying why."""
    if not msg:
        raise unauthorized("Query parameter 'msg' is missing: sign the request (msg and sig).")
    if not sig:
        raise unauthorized("Query parameter 'sig' is missing: sign the request (msg and sig).")
    try:
        obj = decode_msg(msg)
    except BadMessage as exc:
        raise unauthorized(f"Query parameter 'msg' cannot be read: {exc}.") from None
    owner = obj.get("_owner")
    if not isinstance(owner, str) or not owner:
        raise unauthorized("The signed message has no '_owner' (user ID).")
    timestamp = obj.get("_timestamp")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int | float):
        raise unauthorized("The signed message has no numeric '_timestamp'.")
    skew = time.time() - float(timestamp)
    if abs(skew) > window_s:
        when = "old" if skew > 0 else "far in the future"
        raise unauthorized(f"The signed message's '_timestamp' is too {when} (allowed: {window_s} s either way).")
    found, api_key = keys.cached(owner)
    if not found:  # a miss reads the database: off the event loop
        api_key = await run_in_threadpool(keys.api_key, db, owner)
    if api_key is None:
        raise unauthorized(f"User '{owner}' is unknown.")
    if not signature_matches(msg, sig, api_key):
        raise unauthorized("Query parameter 'sig' does not match msg signed with the user's API key.")
    return owner


async def authenticated_owner(
    request: Request,
    msg: Annotated[str | None, Query(description="Signed message: base64 of zlib-compressed JSON.")] = None,
    sig: Annotated[str | None, Query(description="Hex HMAC-SHA256 of msg keyed with the API key.")] = None,
) -> str:
    """Return the user ID the request is signed by, or answer 401."""
    state = request.app.state
    return await verify(state.db, state.key_cache, state.settings.timestamp_window_s, msg, sig)


Owner = Annotated[str, Depends(authenticated_owner)]
