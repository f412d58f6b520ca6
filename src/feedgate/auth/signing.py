"""The v4 request signature, shared by the server's check and every client (SDK, CLI, api_auth).

msg = base64(zlib.compress(json.dumps(obj), 9)), obj holding at least `_owner` and `_timestamp`;
sig = hex HMAC-SHA256 of the base64 text keyed with the user's API key.

Binding (feedgate's addition, opt-in for vendor clients, always sent by feedgate's own): obj may also
carry `_method`, `_path`, `_body_sha256` and `_nonce`, which tie the signature to one request.
"""

import base64
import binascii
import functools
import hashlib
import hmac
import json
import secrets
import time
import zlib
from collections.abc import Mapping
from typing import Any

MAX_MSG_CHARS = 16_384  # the base64 text; a genuine msg is a few hundred characters
MAX_INFLATED = 8_192  # bytes of JSON once inflated
MAX_NONCE = 64
BINDING = ("_method", "_path", "_body_sha256", "_nonce")


class BadMessage(ValueError):
    """The msg parameter could not be read; the text says which step failed."""


def encode_msg(obj: dict[str, Any]) -> str:
    return base64.b64encode(zlib.compress(json.dumps(obj).encode("utf-8"), 9)).decode("ascii")


def sign(msg: str, api_key: str) -> str:
    return hmac.new(api_key.encode("utf-8"), msg.encode("ascii", "replace"), hashlib.sha256).hexdigest()


def body_sha256(body: bytes | None) -> str:
    return hashlib.sha256(body or b"").hexdigest()


def signed_params(user_id: str, api_key: str, data: dict[str, Any] | None = None,
                  timestamp: int | None = None) -> dict[str, str]:
    """Query parameters `msg` and `sig` for one request by `user_id` (the vendor's scheme, unbound)."""
    obj = dict(data or {})
    obj["_owner"] = user_id
    obj["_timestamp"] = int(time.time()) if timestamp is None else timestamp
    msg = encode_msg(obj)
    return {"msg": msg, "sig": sign(msg, api_key)}


def bound_params(user_id: str, api_key: str, method: str, path: str, body: bytes | None,
                 data: dict[str, Any] | None = None) -> dict[str, str]:
    """`signed_params` bound to one request: method, path (no query), body hash and a fresh nonce."""
    return signed_params(user_id, api_key, {**(data or {}), "_method": method.upper(), "_path": path,
                                            "_body_sha256": body_sha256(body), "_nonce": secrets.token_hex(16)})


def _reject_constant(name: str) -> Any:
    raise BadMessage(f"msg holds {name} (in '_timestamp' or elsewhere), which is not a JSON number")


@functools.lru_cache(maxsize=256)
def decode_msg(msg: str) -> Mapping[str, Any]:
    """The signed object, read with every size bounded: a hostile msg costs microseconds, never memory.

    Cached (a request's `msg` is read by `MsgParams` and by the signature check), so the answer is shared:
    read it, never change it. A refused msg is not cached."""
    if len(msg) > MAX_MSG_CHARS:
        raise BadMessage(f"msg is longer than {MAX_MSG_CHARS} characters")
    try:
        raw = base64.b64decode(msg.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise BadMessage("msg is not valid base64") from None
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(raw, MAX_INFLATED + 1)
    except zlib.error:
        raise BadMessage("msg is not zlib-compressed data") from None
    if len(text) > MAX_INFLATED or inflater.unconsumed_tail:
        raise BadMessage(f"msg inflates to more than {MAX_INFLATED} bytes")
    try:
        obj = json.loads(text, parse_constant=_reject_constant)
    except BadMessage:
        raise
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, ValueError):
        # ValueError: an integer longer than Python's digit limit; RecursionError: absurd nesting.
        raise BadMessage("msg does not hold JSON") from None
    if not isinstance(obj, dict):
        raise BadMessage("msg does not hold a JSON object")
    return obj


def signature_matches(msg: str, sig: str, api_key: str) -> bool:
    return hmac.compare_digest(sign(msg, api_key), sig.lower().encode("ascii", "replace").decode())


def webhook_signature(secret: str, body: bytes, timestamp: int) -> str:
    """`Feedgate-Signature` of an outbound webhook: `t=<unix s>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`,
    the scheme Stripe uses, so existing verifiers work."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"
