"""The v4 request signature, shared by the server's check and every client (SDK, CLI, api_auth).

msg = base64(zlib.compress(json.dumps(obj), 9)), obj holding at least `_owner` and `_timestamp`;
sig = hex HMAC-SHA256 of the base64 text keyed with the user's API key.
"""

import base64
import binascii
import hashlib
import hmac
import json
import time
import zlib
from typing import Any


class BadMessage(ValueError):
    """The msg parameter could not be read; the text says which step failed."""


def encode_msg(obj: dict[str, Any]) -> str:
    return base64.b64encode(zlib.compress(json.dumps(obj).encode("utf-8"), 9)).decode("ascii")


def sign(msg: str, api_key: str) -> str:
    return hmac.new(api_key.encode("utf-8"), msg.encode("ascii", "replace"), hashlib.sha256).hexdigest()


def signed_params(user_id: str, api_key: str, data: dict[str, Any] | None = None,
                  timestamp: int | None = None) -> dict[str, str]:
    """Query parameters `msg` and `sig` for one request by `user_id`."""
    obj = dict(data or {})
    obj["_owner"] = user_id
    obj["_timestamp"] = int(time.time()) if timestamp is None else timestamp
    msg = encode_msg(obj)
    return {"msg": msg, "sig": sign(msg, api_key)}


def decode_msg(msg: str) -> dict[str, Any]:
    try:
        raw = base64.b64decode(msg.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise BadMessage("msg is not valid base64") from None
    try:
        text = zlib.decompress(raw)
    except zlib.error:
        raise BadMessage("msg is not zlib-compressed data") from None
    try:
        obj = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadMessage("msg does not hold JSON") from None
    if not isinstance(obj, dict):
        raise BadMessage("msg does not hold a JSON object")
    return obj


def signature_matches(msg: str, sig: str, api_key: str) -> bool:
    return hmac.compare_digest(sign(msg, api_key), sig.lower().encode("ascii", "replace").decode())
