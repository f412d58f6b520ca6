"""The v4 contract, mechanically: every endpoint of the two documents (tests/contract/v4.json, transcribed
field by field) driven against a real server, each documented response field checked for presence,
name and type, each documented status code provoked, and each documented request field found in the
server's own OpenAPI schema with the documented type and required flag.

With FEEDGATE_CONFORMANCE_REPORT=path (`make conformance`, `make test`) it writes the table of marks.
"""

import json
import os
import time
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
        "null": lambda v: v is None,
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
        self.rule_with_external = api.post("/rules", {"desc": "ext", "all_viewers": True,
                                                      "external_id": "conf-rule"}).json()
        self.blackout_with_external = api.post(f"/channels/{self.channel['id']}/blackouts",
                                               {"blackout_id": "BEXT", "external_id": "conf-bo"}).json()

    def fill_lists(self, lister: Api) -> None:
        """Another account with 41 audiences, rules and blackouts: one more than a page of each."""
        self.lister = lister
        self.list_channel = lister.make_channel("lists")
        self.listed: list[dict[str, Any]] = []
        for i in range(41):
            assert lister.post("/audiences", {"desc": f"list {i:03}", "country_codes": ["US"]}).status_code == 201
            assert lister.post("/rules", {"desc": f"list {i:03}", "all_viewers": True}).status_code == 201
            self.listed.append(lister.post(f"/channels/{self.list_channel['id']}/blackouts",
                                           {"blackout_id": f"L{i:03}", "external_id": f"lx{i:03}"}).json())

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
            "Update Live Slicer failover eligibility": {"slicers": [{"slicer_id": "enc2", "order": 3,
                                                                     "enabled": False}]},
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
        if (name, status) == ("Activate Live Slicer", "400 (auto failback)"):
            failback = self.api.make_group("failback on", auto_failback=True)
            assert self.api.heartbeat("fb1", failback["id"]).status_code == 200
            return f"/failover-groups/{failback['id']}/activate_slicer", {"slicer_id": "fb1"}
        if (name, status) == ("Add/remove live channels", "409"):
            theirs = self.api.make_group("elsewhere")
            return f"/failover-groups/{theirs['id']}/channels", {"channels_ids_to_add": [self.channel["id"]]}
        raise KeyError((name, status))


def check_query(world: World, ep: dict[str, Any], name: str, spec: dict[str, Any], operation: dict[str, Any]) -> str:
    """One documented query parameter, earned by requests: its default, maximum, values and effect."""
    api = world.lister
    documented = {p["name"]: p.get("schema", {}) for p in operation.get("parameters", []) if p.get("in") == "query"}
    if name not in documented:
        return "not in /openapi.json"
    path = ep["path"].format(channel_id=world.list_channel["id"])
    if name == "page":
        default, first, second = (api.get(path).json(), api.get(path, params={"page": 1}).json(),
                                  api.get(path, params={"page": 2}).json())
        ok = ([i["id"] for i in default["items"]] == [i["id"] for i in first["items"]] and len(second["items"])
              == default["total_items"] - 40 and documented[name].get("default") == spec["default"])
        return "ok" if ok else f"page 2 held {len(second['items'])} of {default['total_items']}"
    if name == "page_size":
        default = api.get(path).json()
        refused = api.get(path, params={"page_size": spec["maximum"] + 1})
        small = api.get(path, params={"page_size": 5}).json()
        ok = (len(default["items"]) == spec["default"] < default["total_items"] and refused.status_code == 400
              and "page_size" in refused.json()["description"] and len(small["items"]) == 5
              and documented[name].get("maximum") == spec["maximum"])
        return "ok" if ok else f"{len(default['items'])} by default, {refused.status_code} over the maximum"
    if name == "order":
        for value in spec["values"]:
            for order in (value, spec["reverse"] + value):
                r = api.get(path, params={"order": order, "page_size": 40})
                if r.status_code != 200:
                    return f"order={order}: {r.status_code}"
        names = [i["blackout_id"] for i in api.get(path, params={"order": "-blackout_id"}).json()["items"]]
        wrong = api.get(path, params={"order": "name"})
        ok = names == sorted(names, reverse=True) and wrong.status_code == 400 and "order" in wrong.text
        return "ok" if ok else "not sorted, or an unknown order accepted"
    if name == "after":
        time.sleep(0.05)
        before = iso_now(0)
        time.sleep(0.05)
        changed = api.patch(f"{path}/{world.listed[3]['id']}", {"desc": "changed"}).json()
        recent = api.get(path, params={"after": before}).json()["items"]
        later = api.get(path, params={"after": iso_now(+60)}).json()["items"]
        bad = api.get(path, params={"after": "yesterday"})
        ok = ([i["id"] for i in recent] == [changed["id"]] and later == [] and bad.status_code == 400
              and "after" in bad.json()["description"])
        return "ok" if ok else f"after={before} gave {len(recent)} items"
    if name == "include_deleted":
        gone = world.listed[5]["id"]
        time.sleep(0.05)
        before = iso_now(0)
        time.sleep(0.05)
        assert api.delete(f"{path}/{gone}").status_code == 200
        plain = [i["id"] for i in api.get(path, params={"page_size": 40, "page": 1}).json()["items"]]
        every = api.get(path, params={"include_deleted": "true", "after": before}).json()["items"]
        ok = gone not in plain and any(i["id"] == gone for i in every)
        return "ok" if ok else "the deleted blackout was not reported"
    return "no check"


def iso_now(offset_s: float) -> str:
    from datetime import UTC, datetime, timedelta

    moment = datetime.now(UTC) + timedelta(seconds=offset_s)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def check_statements(world: World) -> dict[str, str]:
    """Each statement of the documents in words (`v4.json` "statements"), earned by requests that could fail."""
    api, marks = world.api, {}

    def refused(r: Any, field: str) -> bool:
        return bool(r.status_code == 400 and f"'{field}'" in r.json()["description"])

    g = api.make_group("enum")["id"]
    marks["enum mode"] = all([
        api.patch(f"/failover-groups/{g}", {"mode": "flat"}).status_code == 204,
        api.patch(f"/failover-groups/{g}", {"mode": "prioritized"}).status_code == 204,
        refused(api.patch(f"/failover-groups/{g}", {"mode": "Flat"}), "mode"),
        refused(api.patch(f"/failover-groups/{g}", {"mode": "PRIORITIZED"}), "mode")])
    aud = {"desc": "enum", "country_codes": ["US"]}
    lower = api.post("/audiences", {**aud, "match_type": "any"})
    marks["enum match_type"] = all([*(api.post("/audiences", {**aud, "match_type": m}).status_code == 201
                                      for m in ("ALL", "ANY", "NONE")),
                                    lower.status_code == 201 and lower.json()["match_type"] == "ANY",
                                    refused(api.post("/audiences", {**aud, "match_type": "SOME"}), "match_type")])
    single = api.post("/audiences", {**aud, "type": "Single"})
    multiple = api.post("/audiences", {"desc": "super", "type": "Multiple", "sub_audiences": [single.json()["id"]]})
    marks["enum type"] = (single.status_code == 201 and multiple.status_code == 201
                          and refused(api.post("/audiences", {**aud, "type": "single"}), "type"))
    content = {"slate": "", "channel": world.spare_channel["id"], "slicer": "enc1", "asset": "asset-1"}
    marks["enum alternate_content_type"] = all([
        *(api.post("/rules", {"desc": "enum", "all_viewers": True, "alternate_content_type": kind,
                              "alternate_content_id": ref}).status_code == 201 for kind, ref in content.items()),
        refused(api.post("/rules", {"desc": "enum", "all_viewers": True, "alternate_content_type": "Slate"}),
                "alternate_content_type")])
    bare = api.post("/rules", {"desc": "no all_viewers", "audience": world.audience["id"]})
    marks["default all_viewers"] = bare.status_code == 201 and bare.json()["all_viewers"] is False
    by_external = [api.get("/audiences/conf-aud"), api.get(f"/rules/{world.rule_with_external['external_id']}"),
                   api.get(f"/channels/{world.channel['id']}/blackouts/{world.blackout_with_external['external_id']}")]
    expected = [world.audience["id"], world.rule_with_external["id"], world.blackout_with_external["id"]]
    patched = api.patch("/audiences/conf-aud", {"desc": "by external id"})
    by_system = api.get(f"/channels/{world.channel['id']}/blackouts/{world.blackout_with_external['id']}")
    marks["path ids"] = ([r.json().get("id") for r in by_external] == expected and patched.status_code == 200
                         and by_system.status_code == 200)
    ch = world.channel["id"]
    first = api.post(f"/channels/{ch}/blackouts", {"blackout_id": "UNIQ"})
    again = api.post(f"/channels/{ch}/blackouts", {"blackout_id": "UNIQ"})
    elsewhere = api.post(f"/channels/{world.spare_channel['id']}/blackouts", {"blackout_id": "UNIQ"})
    marks["unique blackout_id"] = (first.status_code == 201 and again.status_code == 409
                                   and "'blackout_id'" in again.json()["description"] and elsewhere.status_code == 201)
    total = api.get("/audiences").json()["total_items"]
    marks["total_items type"] = isinstance(total, int) and not isinstance(total, bool)
    return {k: "ok" if v else "refused or answered otherwise" for k, v in marks.items()}


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
    for field, items in ep.get("request_items", {}).items():
        ref = props[field]["items"]["$ref"].split("/")[-1]
        item_props, item_required = components[ref]["properties"], set(components[ref].get("required", []))
        for name, spec in items.items():
            key = f"request.{field}[].{name}"
            kind = openapi_type(item_props[name], components) if name in item_props else "missing"
            ok = kind == spec["type"] and (name in item_required) == spec["required"]
            marks[key] = "ok" if ok else f"{kind}{' required' if name in item_required else ''}"
            if not ok:
                problems.append(f"{key}: documented {spec['type']} required={spec['required']}, schema {kind}")
    # The success status and the response fields.
    path = ep["path"].format(**world.ids(ep["name"]))
    r = api.request(ep["method"], path, json=world.body(ep["name"]))
    marks["status"] = "ok" if r.status_code == ep["status"] else str(r.status_code)
    if r.status_code != ep["status"]:
        problems.append(f"status {r.status_code}, documented {ep['status']}: {r.text[:200]}")
        return problems
    if ep.get("request_items"):  # the item fields took effect, as the group shows them
        sent = world.body(ep["name"])["slicers"][0]
        shown = next(m for m in api.group(world.group["id"])["slicers"] if m["id"] == sent["slicer_id"])
        for name in ("enabled", "order"):
            if shown[name] != sent[name]:
                marks[f"request.slicers[].{name}"] = f"sent {sent[name]}, shown {shown[name]}"
                problems.append(f"request.slicers[].{name}: sent {sent[name]}, the group shows {shown[name]}")
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
    for name, spec in ep.get("query", {}).items():
        mark = check_query(world, ep, name, spec, operation)
        marks[f"query {name}"] = mark
        if mark != "ok":
            problems.append(f"query {name}: {mark}")
    # Documented error statuses.
    for status in ep["errors"]:
        error_path, error_body = world.error_case(ep["name"], status)
        e = api.request(ep["method"], error_path, json=error_body)
        code = status.split()[0]
        marks[f"error {status}"] = "ok" if str(e.status_code) == code else str(e.status_code)
        if str(e.status_code) != code:
            problems.append(f"documented {status}, got {e.status_code}: {e.text[:200]}")
    return problems


def test_every_documented_endpoint_and_field(backend: Backend) -> None:
    api, other = backend.new_user("conformance"), backend.new_user("conformance-other")
    world = World(api, other)
    world.fill_lists(backend.new_user("conformance-lists"))
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
    statements = check_statements(world)
    report = os.environ.get("FEEDGATE_CONFORMANCE_REPORT")
    if report and backend.name == "sqlite":
        write_report(Path(report), results, schema_paths, statements)
    failures = [f"{ep['method']} {ep['path']}: {p}" for ep, _, _, problems in results for p in problems]
    failures += [f"{name}: {mark}" for name, mark in statements.items() if mark != "ok"]
    assert len(results) == 24
    assert failures == [], "\n".join(failures)


def write_report(path: Path, results: list[tuple[dict[str, Any], dict[str, str], set[str], list[str]]],
                 schema_paths: dict[str, Any], statements: dict[str, str]) -> None:
    lines = ["# Conformance to the v4 documents", "",
             "Written by `make conformance` (and `make test`) from `tests/contract/test_conformance.py`, which",
             "drives each of the 24 documented endpoints against a real server. `tests/contract/v4.json` is the",
             "documents' table, transcribed field by field, with their query parameters and what they state in",
             "words. ✓: present with the documented name and type (and,",
             "for request fields, accepted by the server's schema with the documented type and required flag);",
             "anything else names what was found instead.", ""]
    total = passed = 0
    for ep, marks, extras, _ in results:
        lines += [f"## {ep['name']}: `{ep['method']} {ep['path']}` ({ep['doc']})", ""]
        lines += ["| what | documented | feedgate |", "| --- | --- | --- |"]
        by_example = set(ep.get("by_example", []))
        documented = {"status": str(ep["status"]), **{f"error {s}": s.split()[0] for s in ep["errors"]},
                      **{f"request.{k}": v["type"] + (" required" if v["required"] else "")
                         for k, v in ep["request"].items()},
                      **{f"request.{f}[].{k}": v["type"] + (" required" if v["required"] else "")
                         for f, items in ep.get("request_items", {}).items() for k, v in items.items()},
                      **{f"query {k}": ", ".join(f"{n} {v if not isinstance(v, list) else ' / '.join(v)}"
                                                 for n, v in q.items()) for k, q in ep.get("query", {}).items()},
                      **ep["response"],
                      **{f"{w}.{k}": t for w, fields in ep["nested"].items() for k, t in fields.items()}}
        for key, doc in documented.items():
            mark = marks.get(key, "not reached")
            if key == "status" and ep.get("status_documented") is False:
                # The document gives no status here: feedgate's, shown and not counted as documented.
                lines.append(f"| `status` | not given by the document | {ep['status']} (feedgate's choice; "
                             f"{'answered' if mark == 'ok' else mark}) |")
                continue
            total += 1
            passed += mark == "ok"
            doc = f"{doc} (in the samples, not the tables)" if key in by_example else doc
            lines.append(f"| `{key}` | {doc} | {'✓' if mark == 'ok' else mark} |")
        if extras:
            lines += ["", "Added by feedgate: " + ", ".join(f"`{x}`" for x in sorted(extras)) + "."]
        lines.append("")
    documented_paths = {"/api/v4" + ep["path"] for ep, *_ in results}
    added = sorted(f"{m.upper()} {p}" for p, ops in schema_paths.items() for m in ops
                   if p not in documented_paths or m.upper() not in
                   {ep["method"] for ep, *_ in results if "/api/v4" + ep["path"] == p})
    lines += ["## What the documents say in words", "",
              "Each checked by requests that could fail (`check_statements`): valid values accepted, others refused "
              "with a 400 naming the field, and so on. Where the documents leave a choice, the choice is named.", "",
              "| statement | documented | feedgate's choice | |", "| --- | --- | --- | --- |"]
    for statement in TABLE["statements"]:
        mark = statements.get(statement["id"], "not reached")
        total += 1
        passed += mark == "ok"
        lines.append(f"| {statement['id']} | {statement['text']} ({statement['doc']}) | {statement['choice']} | "
                     f"{'✓' if mark == 'ok' else mark} |")
    lines.append("")
    lines[9:9] = [f"**{passed} of {total} marks ✓** over 24 endpoints and {len(statements)} statements.", ""]
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
