"""The signed-request check: `SignatureCheck` (plain async), and the FastAPI dependency on all of /api/v4.

Order of work: cheap shape checks first, then a cache of already verified (msg, sig) pairs, and only
then the bounded decode, the key and the HMAC. The cache changes nothing that is accepted or refused:
a hit still has its timestamp checked against the window, and still needs the user's current key to
be the one it was verified with (a rotated key refuses old signatures as soon as the key cache sees it).
"""

import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from sqlalchemy import delete, insert, update
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from feedgate.auth.models import Nonce
from feedgate.auth.service import KeyCache
from feedgate.auth.signing import BINDING, MAX_NONCE, BadMessage, body_sha256, decode_msg, signature_matches
from feedgate.auth.tokens import check_token, is_token, split_token
from feedgate.kit.actor import Actor, act_as
from feedgate.kit.db import Database
from feedgate.kit.errors import unauthorized

SIG_RE = re.compile(r"[0-9a-fA-F]{64}")
INLINE_DECODE_CHARS = 2048  # larger msgs (never a genuine one) are inflated off the event loop
VERIFIED_CAPACITY = 65_536
NONCE_CAPACITY = 500_000

Body = Callable[[], Awaitable[bytes]]
VERIFIED_OWNER = "feedgate.owner"  # scope key set by a hot route that verified the request


@dataclass(frozen=True)
class Verified:
    owner: str
    timestamp: int
    api_key: str
    binding: tuple[tuple[str, Any], ...]  # the _method/_path/_body_sha256/_nonce it carried


class NonceStore:
    """Nonces seen within the window: in memory for one process; a table when several processes share the
    database (PostgreSQL instances, or `--workers N`), so a nonce used on one is refused by the others."""

    def __init__(self, db: Database, shared: bool, capacity: int = NONCE_CAPACITY) -> None:
        self.db = db
        self.shared = shared
        self.capacity = capacity
        self._seen: dict[tuple[str, str], int] = {}
        self._claims = 0

    async def claim(self, owner: str, nonce: str, expires_ms: int) -> bool:
        """True the first time (owner, nonce) is seen before it expires."""
        if self.shared:
            return await run_in_threadpool(self._claim_shared, owner, nonce, expires_ms)
        now = int(time.time() * 1000)
        seen = self._seen.get((owner, nonce))
        if seen is not None and seen >= now:
            return False
        if len(self._seen) >= self.capacity:
            self._seen = {k: v for k, v in self._seen.items() if v >= now}
            while len(self._seen) >= self.capacity:  # still full: the oldest claims go (docs/security.md)
                self._seen.pop(next(iter(self._seen)))
        self._seen[(owner, nonce)] = expires_ms
        return True

    def _claim_shared(self, owner: str, nonce: str, expires_ms: int) -> bool:
        now = int(time.time() * 1000)
        with self.db.engine.begin() as conn:
            self._claims += 1
            if self._claims % 1000 == 1:
                conn.execute(delete(Nonce).where(Nonce.expires_ms < now))
            try:
                with conn.begin_nested():
                    conn.execute(insert(Nonce).values(owner=owner, nonce=nonce, expires_ms=expires_ms))
            except IntegrityError:
                # Used before: refuse, unless the old claim has expired (then this one takes its place).
                updated = conn.execute(update(Nonce).where(
                    Nonce.owner == owner, Nonce.nonce == nonce, Nonce.expires_ms < now).values(expires_ms=expires_ms))
                return bool(updated.rowcount)
        return True


class SignatureCheck:
    def __init__(self, db: Database, keys: KeyCache, window_s: int, strict: bool, processes: int = 1) -> None:
        self.db = db
        self.keys = keys
        self.window_s = window_s
        self.strict = strict
        self.token_max_ttl_s = 24 * 3600  # the runtime sets FEEDGATE_TOKEN_MAX_TTL_S
        self.nonces = NonceStore(db, shared=db.is_postgres or processes > 1)
        self._verified: OrderedDict[tuple[str, str], Verified] = OrderedDict()

    async def owner(self, msg: str | None, sig: str | None, method: str, path: str, body: Body) -> str:
        """The user ID the request is signed by, or a 401 FeedgateError saying why."""
        if not msg:
            raise unauthorized("Query parameter 'msg' is missing: sign the request (msg and sig).")
        if not sig:
            raise unauthorized("Query parameter 'sig' is missing: sign the request (msg and sig).")
        if not SIG_RE.fullmatch(sig):
            raise unauthorized("Query parameter 'sig' is invalid: expected 64 hex characters (HMAC-SHA256).")
        verified = self._verified.get((msg, sig))
        if verified is not None:
            self._in_window(verified.timestamp)
            found, key = self.keys.cached(verified.owner)
            if not found:
                key = await run_in_threadpool(self.keys.api_key, self.db, verified.owner)
            if key != verified.api_key:
                self._verified.pop((msg, sig), None)
                verified = None
        if verified is None:
            verified = await self._verify(msg, sig)
        await self._check_binding(verified, method, path, body)
        return verified.owner

    async def _verify(self, msg: str, sig: str) -> Verified:
        try:
            obj = decode_msg(msg) if len(msg) <= INLINE_DECODE_CHARS else await run_in_threadpool(decode_msg, msg)
        except BadMessage as exc:
            raise unauthorized(f"Query parameter 'msg' cannot be read: {exc}.") from None
        owner = obj.get("_owner")
        if not isinstance(owner, str) or not owner or len(owner) > 64:
            raise unauthorized("The signed message has no '_owner' (user ID).")
        timestamp = obj.get("_timestamp")
        if type(timestamp) is not int:  # not a bool, float (NaN), string or anything else
            raise unauthorized("The signed message's '_timestamp' must be an integer (Unix seconds).")
        self._in_window(timestamp)
        found, api_key = self.keys.cached(owner)
        if not found:  # a miss reads the database: off the event loop
            api_key = await run_in_threadpool(self.keys.api_key, self.db, owner)
        if api_key is None:
            raise unauthorized(f"User '{owner}' is unknown.")
        if not signature_matches(msg, sig, api_key):
            raise unauthorized("Query parameter 'sig' does not match msg signed with the user's API key.")
        verified = Verified(owner, timestamp, api_key, tuple((k, obj[k]) for k in BINDING if k in obj))
        self._verified[(msg, sig)] = verified
        if len(self._verified) > VERIFIED_CAPACITY:
            self._verified.popitem(last=False)
        return verified

    def _in_window(self, timestamp: int) -> None:
        # Bounded before any float arithmetic: a 400-digit integer must not overflow.
        skew = time.time() - max(-10**12, min(10**12, timestamp))
        if abs(skew) > self.window_s:
            when = "old" if skew > 0 else "far in the future"
            raise unauthorized(f"The signed message's '_timestamp' is too {when} "
                               f"(allowed: {self.window_s} s either way).")

    async def _check_binding(self, verified: Verified, method: str, path: str, body: Body) -> None:
        binding = dict(verified.binding)
        if self.strict:
            for name in BINDING:
                if name not in binding:
                    raise unauthorized(f"The signed message has no '{name}': this server requires requests "
                                       "bound to their method, path, body and a nonce.")
        if "_method" in binding and binding["_method"] != method:
            raise unauthorized(f"The signed message's '_method' is {_shown(binding['_method'])}, "
                               f"but the request is {method}.")
        if "_path" in binding and binding["_path"] != path:
            raise unauthorized(f"The signed message's '_path' is {_shown(binding['_path'])}, but the request is "
                               f"for '{path}'.")
        if "_body_sha256" in binding and binding["_body_sha256"] != body_sha256(await body()):
            raise unauthorized("The signed message's '_body_sha256' does not match the request body.")
        if "_nonce" in binding:
            nonce = binding["_nonce"]
            if not isinstance(nonce, str) or not 1 <= len(nonce) <= MAX_NONCE:
                raise unauthorized(f"The signed message's '_nonce' must be a string of 1 to {MAX_NONCE} characters.")
            expires_ms = (verified.timestamp + self.window_s) * 1000
            if not await self.nonces.claim(verified.owner, nonce, expires_ms):
                raise unauthorized("The signed message's '_nonce' was used before: a signed request is accepted once.")


def _shown(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= 80 else text[:77] + "..."


async def signatures(request: Request) -> SignatureCheck:
    """The runtime's signature check (the app keeps one `Runtime`; see `kit.deps.database`)."""
    return request.app.state.runtime.signatures


async def authenticated_owner(
    request: Request,
    msg: Annotated[str | None, Query(description="Signed message: base64 of zlib-compressed JSON.")] = None,
    sig: Annotated[str | None, Query(description="Hex HMAC-SHA256 of msg keyed with the API key.")] = None,
) -> str:
    """Return the user ID the request is signed by, or answer 401."""
    verified = request.scope.get(VERIFIED_OWNER)
    if verified is not None:  # a hot route checked this very request, then handed it over
        return str(verified)
    check = await signatures(request)
    path = request.scope["path"]
    owner = await check.owner(msg, sig, request.method, path, request.body)
    if request.method not in ("GET", "HEAD", "OPTIONS") and not HEARTBEAT_PATH.match(path):
        act_as(Actor("api", owner, f"API key of {owner}", owner, f"{request.method} {path}"))  # the audit log
    return owner


HEARTBEAT_PATH = re.compile(r"^/api/v4/slicers/[^/]+/status$")  # a slicer's beat is no one's decision
Owner = Annotated[str, Depends(authenticated_owner)]


async def viewer_owner(
    request: Request,
    channel_id: str,
    msg: Annotated[str | None, Query(description="Signed message (API clients); or use a playback token.")] = None,
    sig: Annotated[str | None, Query(description="Signature of msg, or of the playback token (last).")] = None,
    tc: Annotated[str | None, Query(description="Playback token algorithm: 1.")] = None,
    exp: Annotated[str | None, Query(description="Playback token expiry (Unix seconds).")] = None,
    rn: Annotated[str | None, Query(description="Playback token random value.")] = None,
    ct: Annotated[str | None, Query(description="Playback token content type: c (channel).")] = None,
    cid: Annotated[str | None, Query(description="Playback token content ID: this channel.")] = None,
    oid: Annotated[str | None, Query(description="Playback token owner ID.")] = None,
) -> str:
    """The owner a viewer's request speaks for: a playback token (players, edges) or msg/sig (API clients)."""
    raw: bytes = request.scope.get("query_string", b"")
    if msg is None and is_token(raw):
        owner, _ = await token_owner(await signatures(request), raw, channel_id)
        return owner
    return await authenticated_owner(request, msg, sig)


async def token_owner(check: SignatureCheck, raw_query: bytes, channel_id: str) -> tuple[str, dict[str, str]]:
    """The owner a playback token speaks for, and its parameters (the `repl.cb*` viewer fields among
    them); 401/403 naming the field. The one token check: decisions and the viewer's stream share it."""
    signed, token_sig, params = split_token(raw_query.decode("latin-1"))
    owner = params.get("oid", "")
    found, api_key = check.keys.cached(owner)
    if not found and owner:
        api_key = await run_in_threadpool(check.keys.api_key, check.db, owner)
    return check_token(params, signed, token_sig, api_key, channel_id, check.token_max_ttl_s), params


ViewerOwner = Annotated[str, Depends(viewer_owner)]
SignaturesDep = Annotated[SignatureCheck, Depends(signatures)]
