"""Playback tokens: the vendor's signed playback URL, for players and edges that hold no API key.

The query string is `tc=1&exp=<unix s>&rn=<random>&ct=c&cid=<channel>&oid=<owner>[&extras]&sig=<hex>`,
`sig` last: the hex HMAC-SHA256 of the query string exactly as sent before `&sig=`, keyed with the
owner's API key. Extras (the `repl.cb*` viewer overrides among them) are covered by the signature.
A token authorises one thing: the playback decision (or manifest) of the channel it names.
"""

import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode

from feedgate.kit.errors import forbidden, unauthorized

ALGORITHM = "1"


def sign_query(query: str, api_key: str) -> str:
    return hmac.new(api_key.encode("utf-8"), query.encode("utf-8"), hashlib.sha256).hexdigest()


def token_query(owner: str, api_key: str, channel_id: str, ttl_s: int = 600,
                extras: Mapping[str, str] | None = None) -> str:
    """A signed query string for `channel_id`, valid for `ttl_s` seconds (what an operator's backend builds)."""
    params = {"tc": ALGORITHM, "exp": str(int(time.time()) + ttl_s), "rn": secrets.token_hex(8), "ct": "c",
              "cid": channel_id, "oid": owner, **{k: v for k, v in (extras or {}).items() if v is not None}}
    query = urlencode(params)
    return f"{query}&sig={sign_query(query, api_key)}"


def is_token(raw_query: bytes) -> bool:
    return raw_query.startswith(b"tc=") or b"&tc=" in raw_query


def split_token(raw_query: str) -> tuple[str, str, dict[str, str]]:
    """(signed part, sig, its parameters); 401 when the shape is wrong."""
    signed, found, sig = raw_query.rpartition("&sig=")
    if not found:
        raise unauthorized("Playback token has no 'sig': it must be the last parameter (&sig=…).")
    if len(sig) != 64 or any(c not in "0123456789abcdefABCDEF" for c in sig):
        raise unauthorized("Playback token 'sig' is invalid: expected 64 hex characters (HMAC-SHA256).")
    return signed, sig, dict(parse_qsl(signed, keep_blank_values=True))


def check_token(params: Mapping[str, str], signed: str, sig: str, api_key: str | None, channel_id: str,
                max_ttl_s: int = 24 * 3600) -> str:
    """The owner the token speaks for, after every check; 401 (who or when) or 403 (what) naming the field."""
    if params.get("tc") != ALGORITHM:
        raise unauthorized(f"Playback token 'tc' must be 1 (the only token algorithm), not '{params.get('tc', '')}'.")
    for name in ("exp", "rn", "ct", "cid", "oid"):
        if not params.get(name):
            raise unauthorized(f"Playback token has no '{name}'.")
    owner = params["oid"]
    if api_key is None:
        raise unauthorized(f"Playback token 'oid': user '{owner}' is unknown.")
    if not hmac.compare_digest(sign_query(signed, api_key), sig.lower()):
        raise unauthorized("Playback token 'sig' does not match: the URL was altered or signed with another key.")
    exp = params["exp"]
    if not (exp.isascii() and exp.isdigit() and len(exp) <= 12):
        raise unauthorized(f"Playback token 'exp' must be Unix seconds, not '{exp[:20]}'.")
    if int(exp) < time.time():
        raise unauthorized(f"Playback token expired at 'exp' {exp} (Unix seconds).")
    if int(exp) > time.time() + max_ttl_s:  # a token that never expires is a leaked key for good
        raise unauthorized(f"Playback token 'exp' {exp} is more than {max_ttl_s} s away, the longest a token may "
                           "live here (FEEDGATE_TOKEN_MAX_TTL_S).")
    if params["ct"] != "c":
        raise forbidden(f"Playback token 'ct' is '{params['ct'][:20]}': only channel tokens ('c') are accepted here.")
    if params["cid"] != channel_id:
        raise forbidden(f"Playback token 'cid' names channel '{params['cid'][:64]}', not '{channel_id}'.")
    return owner
