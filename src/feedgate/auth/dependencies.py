"""The signed-request check, one FastAPI dependency on all of /api/v4."""

import time
from typing import Annotated

from fastapi import Depends, Query, Request

from feedgate.auth.signing import BadMessage, decode_msg, signature_matches
from feedgate.kit.errors import unauthorized


async def authenticated_owner(
    request: Request,
    msg: Annotated[str | None, Query(description="Signed message: base64 of zlib-compressed JSON.")] = None,
    sig: Annotated[str | None, Query(description="Hex HMAC-SHA256 of msg keyed with the API key.")] = None,
) -> str:
    """Return the user ID the request is signed by, or answer 401."""
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
    state = request.app.state
    window = state.settings.timestamp_window_s
    skew = time.time() - float(timestamp)
    if abs(skew) > window:
        when = "old" if skew > 0 else "far in the future"
        raise unauthorized(f"The signed message's '_timestamp' is too {when} (allowed: {window} s either way).")
    api_key = state.key_cache.api_key(state.db, owner)
    if api_key is None:
        raise unauthorized(f"User '{owner}' is unknown.")
    if not signature_matches(msg, sig, api_key):
        raise unauthorized("Query parameter 'sig' does not match msg signed with the user's API key.")
    return owner


Owner = Annotated[str, Depends(authenticated_owner)]
