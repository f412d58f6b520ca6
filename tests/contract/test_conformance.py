"""The v4 contract, mechanically: every endpoint of the two documents (tests/contract/v4.json, transcribed
field by field) driven against a real server, each documented response field checked for presence,
name and type, each documented status code provoked, and each documented request field found in the
server's own OpenAPI schema with the documented type and required flag.

With FEEDGATE_CONFORMANCE_REPORT=path (`make conformance`, `make test`) it writes the table of marks.
"""

import json
import os
from pathlib import Path
from typing import Any

import httpx

from tests.support import Api, Backend, wait_for

TABLE = json.loads((Path(__file__).parent / "v4.json").read_text())
ENDPOINTS: list[dict[str, Any]] = TABLE["endpoints"]


def type_ok(kind: str, value: Any) -> bool:
    return {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "object": lambda v: isinstance(v, dict),
        "array<string>": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
        "array<object>": lambda v: isinstance(v, list) and all(isinstance(x, dict) for x in v),
    }[kind](value)


def openapi_type(prop: dict[str, Any], components: dict[str, Any]) -> str:
    options = [prop, *prop.get("anyOf", [])]
    for o in options:
        kind = o.get("type")
        if kind == "array":
            items = o.get("items", {})
            return "array<object>" if "$ref" in items or items.get("type") == "object" else "array<string>"
        if kind in ("string", "integer", "boolean", "object"):
            return str(kind)
        if "$ref" in o:
            return "object"
    return "unknown"


class World:
    """What the calls need: a group with two member slicers, channels, an audience, a rule, a blackout."""

    def __init__(self, api: Api, other: Api) -> None:
        self.api, self.other = api, other
        self.group = api.make_group("conformance", auto_failback=False, heartbeat_timeout_ms=3_600_000)
        for name in ("enc1", "enc2"):
            assert api.heartbeat(name, self.group["id"]).status_code == 200
        wait_for(lambda: api.group(self.group["id"])["active_slicer_id"] == "enc1")
        self.channel = api.make_channel("conformance")
        api.put(f"/failover-groups/{self.group['id']}/channels", {"channels_ids_to_add": [self.channel["id"]]})
        self.spare_channel = api.make_channel("spare")
        self.audience = api.post("/audiences", {"desc": "aud", "country_codes": ["US"],
                                                "external_id": "conf-aud"}).json()
        self.rule = api.post("/rules", {"desc": "rule", "audience": self.audience["id"],
                                        "alternate_content_type": "slate"}).json()
        self.blackout = api.post(f"/channels/{self.channel['id']}/blackouts",
                                 {"blackout_id": "BCONF", "rules": [self.rule["id"]]}).json()

    def ids(self, name: str) -> dict[str, str]:
        ids = {"group_id": self.group["id"], "channel_id": self.channel["id"], "audience_id": self.audience["id"],
               "rule_id": self.rule["id"], "blackout_id": self.blackout["id"]}
        # Deletions get objects nothing else uses (a used audience or rule is a documented-elsewhere 409).
        if name == "Delete audience":
            ids["audience_id"] = self.api.post("/audiences", {"desc": "gone", "country_codes": ["US"]}).json()["id"]
        elif name == "Delete rule":
            ids["rule_id"] = self.api.post("/rules", {"desc": "gone", "all_viewers": True}).json()["id"]
        elif name == "Delete blackout":
            ids["blackout_id"] = self.api.post(f"/channels/{self.channel['id']}/blackouts",
                                               {"blackout_id": "BGONE"}).json()["id"]
        return ids

    def body(self, name: str) -> Any:
        """A documented request for each endpoint, every documented field used where it makes sense."""
        return {
            "Activate Live Slicer": {"slicer_id": "enc2"},
            "Add/remove live channels": {"channels_ids_to_add": [self.spare_channel["id"]],
                                         "channels_ids_to_remove": []},
            "Grant/deny authorization": {"owners_to_add": [self.other.user_id], "owners_to_remove": []},
            "Toggle slate": {"no_slicer": False},
            "Update failover group configuration": {"auto_failback": False, "mode": "prioritized"},
            "Update Live Slicer failover eligibility": {"slicers": [{"slicer_id": "enc2", "order": 2,
                                                                     "enabled": True}]},
            "Add audience": {"desc": "My New audience", "country_codes": ["US", "CA"], "zip_codes": ["90503"],
                             "dma_codes": ["803"], "ip_networks": ["192.0.2.0/24"], "devices": ["Roku"],
                             "external_id": "NorthAmerica", "match_type": "ANY", "type": "Single"},
            "Update audience": {"desc": "renamed", "country_codes": ["MX"], "match_type": "ALL"},
            "Add rule": {"desc": "My New Rule", "alternate_content_type": "slate", "all_viewers": True,
                         "alternate_content_loop": False, "external_id": "rule-x"},
            "Update rule": {"desc": "renamed rule", "audience": self.audience["id"], "all_viewers": False},
            "Add blackout": {"blackout_id": "BNEW", "desc": "new", "external_id": "bx", "rules": [self.rule["id"]]},
            "Update blackout": {"desc": "renamed blackout", "rules": [self.rule["id"]]},
        }.get(name)

    def error_case(self, name: str, status: str) -> tuple[str, dict[str, Any]]:
        """A request the documents say answers `status`."""
        g = self.group["id"]
        if (name, status) == ("Activate Live Slicer", "400"):
            return f"/failover-groups/{g}/activate_slicer", {"slicer_id": "not-a-member"}
        if (name, status) == ("Add/remove live channels", "409"):
            theirs = self.api.make_group("elsewhere")
            return f"/failover-groups/{theirs['id']}/channels", {"channels_ids_to_add": [self.channel["id"]]}
        raise KeyError((name, status))


def check_fields(doc: dict[str, str], value: Any, where: str, marks: dict[str, str], problems: list[str]) -> None:
    for field, kind in doc.items():
        key = f"{where}{field}"
        if not isinstance(value, dict) or field not in value:
            marks[key] = "missing"
            problems.append(f"{key}: missing")
        elif not type_ok(kind, value[field]):
            marks[key] = f"{type(value[field]).__name__}"
            problems.append(f"{key}: documented {kind}, got {value[field]!r}")
        else:
            marks.setdefault(key, "ok")


def run_endpoint(ep: dict[str, Any], world: World, components: dict[str, Any], schema_paths: dict[str, Any],
                 marks: dict[str, str], extras: set[str]) -> list[str]:
    problems: list[str] = []
    api = world.api
    # The request side: each documented field in the server's schema, with the documented type.
    operation = schema_paths.get("/api/v4" + ep["path"], {}).get(ep["method"].lower())
    if operation is None:
        return [f"{ep['method']} {ep['path']}: not in /openapi.json"]
    if ep["request"]:
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
        props = components[ref]["properties"]
        required = set(components[ref].get("required", []))
        for field, spec in ep["request"].items():
            key = f"request.{field}"
            if field not in props:
                marks[key] = "missing"
                problems.append(f"{key}: not accepted")
                continue
            kind = openapi_type(props[field], components)
            if kind != spec["type"] or (field in required) != spec["required"]:
                marks[key] = f"{kind}{' required' if field in required else ''}"
                problems.append(f"{key}: documented {spec['type']} required={spec['required']}, schema {kind} "
                                f"required={field in required}")
            else:
                marks[key] = "ok"
    # The success status and the response fields.
    path = ep["path"].format(**world.ids(ep["name"]))
    r = api.request(ep["method"], path, json=world.body(ep["name"]))
    marks["status"] = "ok" if r.status_code == ep["status"] else str(r.status_code)
    if r.status_code != ep["status"]:
        problems.append(f"status {r.status_code}, documented {ep['status']}: {r.text[:200]}")
        return problems
    if ep["response"]:
        body = r.json()
        check_fields(ep["response"], body, "", marks, problems)
        extras.update(f"{k}" for k in body if k not in ep["response"])
        for where, fields in ep["nested"].items():
            values: list[Any] = [body]
            for part in where.split("."):
                values = [x for v in values for x in (v.get(part) if isinstance(v.get(part), list)
                                                      else [v.get(part)])]
            if not values:
                problems.append(f"{where}: empty, nothing to check")
            for item in values:
                check_fields(fields, item, f"{where}.", marks, problems)
                if isinstance(item, dict):
                    extras.update(f"{where}.{k}" for k in item if k not in fields)
    # Documented error statuses.
    for status in ep["errors"]:
        error_path, error_body = world.error_case(ep["name"], status)
        e = api.request(ep["method"], error_path, json=error_body)
        marks[f"error {status}"] = "ok" if str(e.status_code) == status else str(e.status_code)
        if str(e.status_code) != status:
            problems.append(f"documented {status}, got {e.status_code}: {e.text[:200]}")
    return problems


def test_every_documented_endpoint_and_field(backend: Backend) -> None:
    api, other = backend.new_user("conformance"), backend.new_user("conformance-other")
    world = World(api, other)
    spec = httpx.get(backend.server.base_url + "/openapi.json").json()
    components, schema_paths = spec["components"]["schemas"], spec["paths"]
    results: list[tuple[dict[str, Any], dict[str, str], set[str], list[str]]] = []
    # Changes first (so the reads see a granted user, a second channel…), deletions last.
    order = sorted(ENDPOINTS, key=lambda ep: {"GET": 1, "DELETE": 2}.get(ep["method"], 0))
    for ep in order:
        marks: dict[str, str] = {}
        extras: set[str] = set()
        problems = run_endpoint(ep, world, components, schema_paths, marks, extras)
        results.append((ep, marks, extras, problems))
    report = os.environ.get("FEEDGATE_CONFORMANCE_REPORT")
    if report and backend.name == "sqlite":
        write_report(Path(report), results, schema_paths)
    failures = [f"{ep['method']} {ep['path']}: {p}" for ep, _, _, problems in results for p in problems]
    assert len(results) == 24
    assert failures == [], "\n".join(failures)


def write_report(path: Path, results: list[tuple[dict[str, Any], dict[str, str], set[str], list[str]]],
                 schema_paths: dict[str, Any]) -> None:
    lines = ["# Conformance to the v4 documents", "",
             "Written by `make conformance` (and `make test`) from `tests/contract/test_conformance.py`, which",
             "drives each of the 24 documented endpoints against a real server. `tests/contract/v4.json` is the",
             "documents' table, transcribed field by field. ✓: present with the documented name and type (and,",
             "for request fields, accepted by the server's schema with the documented type and required flag);",
             "anything else names what was found instead.", ""]
    total = passed = 0
    for ep, marks, extras, _ in results:
        lines += [f"## {ep['name']}: `{ep['method']} {ep['path']}` ({ep['doc']})", ""]
        lines += ["| what | documented | feedgate |", "| --- | --- | --- |"]
        documented = {"status": str(ep["status"]), **{f"error {s}": s for s in ep["errors"]},
                      **{f"request.{k}": v["type"] + (" required" if v["required"] else "")
                         for k, v in ep["request"].items()},
                      **ep["response"],
                      **{f"{w}.{k}": t for w, fields in ep["nested"].items() for k, t in fields.items()}}
        for key, doc in documented.items():
            mark = marks.get(key, "not reached")
            total += 1
            passed += mark == "ok"
            lines.append(f"| `{key}` | {doc} | {'✓' if mark == 'ok' else mark} |")
        if extras:
            lines += ["", "Added by feedgate: " + ", ".join(f"`{x}`" for x in sorted(extras)) + "."]
        lines.append("")
    documented_paths = {"/api/v4" + ep["path"] for ep, *_ in results}
    added = sorted(f"{m.upper()} {p}" for p, ops in schema_paths.items() for m in ops
                   if p not in documented_paths or m.upper() not in
                   {ep["method"] for ep, *_ in results if "/api/v4" + ep["path"] == p})
    lines[8:8] = [f"**{passed} of {total} marks ✓** over 24 endpoints.", ""]
    lines += ["## Endpoints feedgate adds to the documents", "",
              "Described in `docs/design.md` and `/openapi.json`: " + ", ".join(f"`{a}`" for a in added) + ".", ""]
    path.write_text("\n".join(lines))


def vendor_params(user_id: str, api_key: str) -> Any:
    """The vendor's api_auth with only its two credential lines set (no feedgate code signs here)."""
    import types

    source = (Path(__file__).parent / "vendor" / "api_auth.py").read_text()
    source = source.replace("return ''  # Set your user ID.", f"return {user_id!r}")
    source = source.replace("return ''  # Set your API key.", f"return {api_key!r}")
    module = types.ModuleType("api_auth")
    exec(compile(source, "api_auth.py", "exec"), module.__dict__)
    return module.APIParams(module.APICredentials())


def test_the_vendor_client_unmodified_reaches_every_endpoint(backend: Backend) -> None:
    import requests

    api, other = backend.new_user("vendor"), backend.new_user("vendor-other")
    world = World(api, other)
    params = vendor_params(api.user_id, api.api_key)
    headers = {"Content-Type": "application/json"}
    answered = {}
    for ep in sorted(ENDPOINTS, key=lambda ep: {"GET": 1, "DELETE": 2}.get(ep["method"], 0)):
        url = backend.server.base_url + "/api/v4" + ep["path"].format(**world.ids(ep["name"]))
        body = world.body(ep["name"])
        r = requests.request(ep["method"], url, params=params.get_params({}), headers=headers,
                             data=json.dumps(body) if body is not None else None, timeout=30)
        answered[f"{ep['method']} {ep['path']}"] = r.status_code
        assert r.status_code == ep["status"], f"{ep['method']} {ep['path']}: {r.status_code} {r.text[:200]}"
    assert len(answered) == 24
