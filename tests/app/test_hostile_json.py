"""Hostile JSON in every field of every write endpoint, taken from the server's own OpenAPI document: each
answer is a 4xx with the error body naming the field, and reading back shows nothing changed."""

import json
from typing import Any

import httpx
import pytest

from feedgate.auth.signing import signed_params
from tests.support import Api, wait_for

DEEP = "[" * 10_000 + "]" * 10_000
BIG = json.dumps("x" * 1_000_000)
NUL = json.dumps("a\u0000b")
HUGE = "1" + "0" * 30
PUBLIC_URL = "http://93.184.215.14/hook"  # a public address as a literal: checked without a resolver

# Raw JSON texts that are wrong for a field of each documented type.
WRONG: dict[str, list[str]] = {
    "string": ["12", "true", "[]", "{}", BIG, NUL, DEEP],
    "integer": ["true", '"12"', "[]", "{}", "1.5", HUGE, "-" + HUGE, "1e400", DEEP],
    "number": ["true", "false", '"12"', "[]", "{}", HUGE, "-" + HUGE, "1e400", "NaN", DEEP],
    "boolean": ["0", "1", '"true"', '"maybe"', "[]", "{}", NUL, DEEP],
    "array": ['"a"', "12", "{}", "true", f"[{NUL}]", f"[{BIG}]", "[12]", "[[]]", DEEP],
    "object": ['"a"', "12", "[]", "true", DEEP],
}


def field_types(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, str]:
    props = components[schema["$ref"].split("/")[-1]]["properties"]
    types = {}
    for name, prop in props.items():
        options = [prop, *prop.get("anyOf", [])]
        kinds = [o.get("type") for o in options if o.get("type") not in (None, "null")]
        if not kinds and any("$ref" in o for o in options):
            kinds = ["object"]
        types[name] = kinds[0] if kinds else "object"
    return types


@pytest.fixture
def world(api: Api) -> dict[str, Any]:
    """One of everything, owned by this user, for the endpoints' path IDs and valid bodies."""
    g = api.make_group("hostile", heartbeat_timeout_ms=3_600_000)  # enc1 stays healthy without beating
    ch = api.make_channel("hostile")
    assert api.heartbeat("enc1", g["id"]).status_code == 200
    wait_for(lambda: api.group(g["id"])["active_slicer_id"] == "enc1")  # the engine's own change, first
    aud = api.post("/audiences", {"desc": "aud", "country_codes": ["US"]}).json()
    rule = api.post("/rules", {"desc": "rule", "alternate_content_type": "slate", "all_viewers": True}).json()
    blackout = api.post(f"/channels/{ch['id']}/blackouts", {"blackout_id": "BNA", "rules": [rule["id"]]}).json()
    hook = api.post("/webhooks", {"url": PUBLIC_URL, "events": ["*"]}).json()
    person = api.post("/operators", {"login": f"h-{api.user_id[:8]}", "name": "H", "password": "x" * 12}).json()
    return {"group_id": g["id"], "channel_id": ch["id"], "audience_id": aud["id"], "rule_id": rule["id"],
            "blackout_id": blackout["id"], "slicer_id": "enc1", "webhook_id": hook["id"],
            "operator_id": person["id"]}


def valid_body(method: str, path: str, w: dict[str, Any]) -> dict[str, Any]:
    """A body each endpoint accepts; the test changes one field of it at a time."""
    table: dict[tuple[str, str], dict[str, Any]] = {
        ("POST", "/failover-groups"): {"name": "n"},
        ("PATCH", "/failover-groups/{group_id}"): {"name": "n"},
        ("PUT", "/failover-groups/{group_id}/activate_slicer"): {"slicer_id": "enc1"},
        ("PUT", "/failover-groups/{group_id}/channels"): {"channels_ids_to_add": []},
        ("PUT", "/failover-groups/{group_id}/allowed-owners"): {"owners_to_add": []},
        ("PUT", "/failover-groups/{group_id}/set_no_slicer"): {"no_slicer": False},
        ("PUT", "/failover-groups/{group_id}/slicers"): {"slicers": []},
        ("POST", "/channels"): {"desc": "d"},
        ("PATCH", "/channels/{channel_id}"): {"desc": "d"},
        ("PUT", "/slicers/{slicer_id}/status"): {"hostname": "h"},
        ("POST", "/audiences"): {"desc": "d", "country_codes": ["US"]},
        ("PATCH", "/audiences/{audience_id}"): {"desc": "d"},
        ("POST", "/rules"): {"desc": "d", "alternate_content_type": "slate", "all_viewers": True},
        ("PATCH", "/rules/{rule_id}"): {"desc": "d"},
        ("POST", "/channels/{channel_id}/blackouts"): {"blackout_id": "X"},
        ("PATCH", "/channels/{channel_id}/blackouts/{blackout_id}"): {"desc": "d"},
        ("PUT", "/channels/{channel_id}/program"): {"blackout_id": "BNA", "title": "t"},
        ("POST", "/channels/{channel_id}/scte35"): {"cue": "/DAgAAAAAAAAAP/wDwUAAAABf//+AFJlwAABAAAAAMOOklg="},
        ("POST", "/webhooks"): {"url": PUBLIC_URL, "events": ["*"]},
        ("PATCH", "/webhooks/{webhook_id}"): {"description": "d"},
        ("POST", "/channels/{channel_id}/schedule"): {"blackout_id": "BNA", "start": "2030-01-01T00:00:00Z",
                                                      "end": "2030-01-01T01:00:00Z"},
        ("POST", "/scte224/feeds"): {"url": PUBLIC_URL},
        ("POST", "/operators"): {"login": "hostile-op", "name": "n", "password": "y" * 12},
        ("PATCH", "/operators/{operator_id}"): {"name": "n"},
    }
    return table[(method, path)]


def snapshot(api: Api, w: dict[str, Any]) -> list[Any]:
    paths = [f"/failover-groups/{w['group_id']}", f"/failover-groups/{w['group_id']}/allowed-owners",
             "/failover-groups", "/channels", "/audiences", "/rules", f"/channels/{w['channel_id']}/blackouts",
             f"/channels/{w['channel_id']}/program", f"/channels/{w['channel_id']}/schedule", "/slicers",
             "/webhooks", "/scte224/feeds", "/operators"]
    out = []
    for path in paths:
        r = api.get(path, params={"page_size": 40})
        assert r.status_code == 200, (path, r.text)
        out.append(_stable(r.json()))
    return out


def _stable(value: Any) -> Any:
    """Drop what moves by itself (heartbeat ages)."""
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if "heartbeat" not in k and not k.endswith("_age_ms")}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


def test_every_field_of_every_write_endpoint_refuses_hostile_json(api: Api, world: dict[str, Any]) -> None:
    spec = httpx.get(api.base_url + "/openapi.json").json()
    components = spec["components"]["schemas"]
    before = snapshot(api, world)
    tried = 0
    for full_path, ops in spec["paths"].items():
        for method, op in ops.items():
            if "application/json" not in op.get("requestBody", {}).get("content", {}):
                continue  # no body, or an XML one (SCTE 224: tests/scte224 sends it hostile XML)
            path = full_path.removeprefix("/api/v4")
            base = valid_body(method.upper(), path, world)
            target = "/api/v4" + path.format(**world)
            for field, kind in field_types(op["requestBody"]["content"]["application/json"]["schema"],
                                           components).items():
                for raw in WRONG[kind]:
                    rest = json.dumps({k: v for k, v in base.items() if k != field})
                    text = f'{{"{field}": {raw}' + (("," + rest[1:]) if rest != "{}" else "}")
                    r = httpx.request(method.upper(), api.base_url + target, content=text.encode(),
                                      params=signed_params(api.user_id, api.api_key),
                                      headers={"Content-Type": "application/json"}, timeout=30)
                    what = f"{method.upper()} {path} {field}={raw[:40]!r}"
                    assert 400 <= r.status_code < 500, f"{what}: {r.status_code} {r.text[:300]}"
                    body = r.json()
                    assert body["@type"] == "Error" and body["status"] == r.status_code, what
                    named = field in body["description"] or (raw == DEEP and "JSON" in body["description"])
                    assert named, f"{what}: {body['description']}"
                    tried += 1
    assert tried > 500
    assert snapshot(api, world) == before
