"""SCTE 224 import at a league's size (`python benchmarks/scte224.py`).

One document: 500 audiences (10 of a whole state's 40,000 zips, 90 of 2,000, 400 small ones of 50 zips, a
country and a DMA), 10 superaudiences, 200 viewing policies, 200 policies of 5 viewing policies each, on 20
Media (channels) with 10 time points each (200 windows). Prints, on a real server (SQLite by default,
`--postgres` for a throwaway PostgreSQL):
- the first import (everything created), the same document again (nothing changes), a dry run, and an import
  where one big audience lost one zip;
- the floors measured in the same run: the same bytes posted to a bare async FastAPI route (upload only), and
  lxml parsing them in this process;
- what it replaces: the same objects made through the v4 API one request at a time (audiences, rules,
  blackouts, windows), and the ratio.
"""

import argparse
import os
import platform
import random
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._baseline import baseline_server
from benchmarks._server import Api, backend_for

NS = ('xmlns="http://www.scte.org/schemas/224" version="20200407" xmlns:audience="urn:scte:224:audience" '
      'xmlns:action="urn:scte:224:action" xmlns:xlink="http://www.w3.org/1999/xlink"')
STATE_ZIPS = [f"{i:05d}" for i in range(10000, 50000)]


def zips_of(i: int, rng: random.Random) -> list[str]:
    if i < 10:
        return STATE_ZIPS[i * 100:] + STATE_ZIPS[:i * 100]
    if i < 100:
        return STATE_ZIPS[i * 300: i * 300 + 2000]
    return [f"{rng.randrange(100000):05d}" for _ in range(50)]


def spec(rng: random.Random) -> dict[str, Any]:
    """The document's content as plain data: written as XML here, and made through the API for the comparison."""
    audiences = [{"id": f"aud/{i}", "zips": sorted(set(zips_of(i, rng))), "country": "US",
                  "dma": str(500 + i % 200)} for i in range(500)]
    supers = [{"id": f"super/{i}", "members": [f"aud/{rng.randrange(100, 500)}" for _ in range(3)]}
              for i in range(10)]
    pool = [a["id"] for a in audiences] + [s["id"] for s in supers]
    policies_vp = [{"id": f"vp/{i}", "audience": pool[(i * 7) % len(pool)] if i % 25 else f"super/{i % 10}"}
                   for i in range(200)]
    policies = [{"id": f"policy/{i}", "vps": [f"vp/{(i + k * 40) % 200}" for k in range(5)]} for i in range(200)]
    media = [{"id": f"media/{m}", "source": f"BENCH{m}",
              "points": [(f"point/{m}/{k}", f"policy/{m * 10 + k}", f"2031-0{1 + k % 9}-{10 + k:02d}T18:00:00Z")
                         for k in range(10)]} for m in range(20)]
    return {"audiences": audiences, "supers": supers, "vps": policies_vp, "policies": policies, "media": media}


def document(s: dict[str, Any]) -> bytes:
    out = [f"<Results {NS}>"]
    for a in s["audiences"]:
        zips = "".join(f"<audience:Zip>{z}</audience:Zip>" for z in a["zips"])
        out.append(f'<Audience id="{a["id"]}" match="ANY">{zips}<audience:ISO3166>{a["country"]}</audience:ISO3166>'
                   f'<audience:DMA>{a["dma"]}</audience:DMA></Audience>')
    for sup in s["supers"]:
        members = "".join(f'<Audience xlink:href="{m}"/>' for m in sup["members"])
        out.append(f'<Audience id="{sup["id"]}" match="ANY">{members}</Audience>')
    for vp in s["vps"]:
        out.append(f'<ViewingPolicy id="{vp["id"]}"><Audience xlink:href="{vp["audience"]}"/>'
                   "<action:Content>urn:scte:224:action:blackout</action:Content></ViewingPolicy>")
    for p in s["policies"]:
        refs = "".join(f'<ViewingPolicy xlink:href="{v}"/>' for v in p["vps"])
        out.append(f'<Policy id="{p["id"]}">{refs}</Policy>')
    for m in s["media"]:
        points = "".join(f'<MediaPoint id="{pid}" matchTime="{at}"><Apply duration="PT3H">'
                         f'<Policy xlink:href="{policy}"/></Apply></MediaPoint>' for pid, policy, at in m["points"])
        out.append(f'<Media id="{m["id"]}" source="{m["source"]}">{points}</Media>')
    out.append("</Results>")
    return "\n".join(out).encode()


def post(api: Api, body: bytes, **params: str) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    r = api.http.post("/scte224", content=body, params=api.params(params),
                      headers={"Content-Type": "application/xml"}, timeout=600)
    elapsed = time.perf_counter() - started
    assert r.status_code == 200, r.text[:500]
    return elapsed, r.json()


def by_hand(api: Api, s: dict[str, Any]) -> float:
    """The same objects through the v4 API, one request each, as an operator re-typing the document would."""
    started = time.perf_counter()
    ids: dict[str, str] = {}
    for a in s["audiences"]:
        r = api.post("/audiences", {"desc": a["id"], "match_type": "ANY", "zip_codes": a["zips"],
                                    "country_codes": [a["country"]], "dma_codes": [a["dma"]]})
        assert r.status_code == 201, r.text[:300]
        ids[a["id"]] = r.json()["id"]
    for sup in s["supers"]:
        ids[sup["id"]] = api.post("/audiences", {"desc": sup["id"], "type": "Multiple", "match_type": "ANY",
                                                 "sub_audiences": [ids[m] for m in sup["members"]]}).json()["id"]
    for vp in s["vps"]:
        ids[vp["id"]] = api.post("/rules", {"desc": vp["id"], "audience": ids[vp["audience"]],
                                            "alternate_content_type": "slate"}).json()["id"]
    policy_of = {p["id"]: p for p in s["policies"]}
    for m in s["media"]:
        ch = api.make_channel(m["source"], external_id=m["source"])["id"]
        for _, policy, at in m["points"]:
            r = api.post(f"/channels/{ch}/blackouts", {"blackout_id": policy,
                                                        "rules": [ids[v] for v in policy_of[policy]["vps"]]})
            assert r.status_code == 201, r.text[:300]
            end = at.replace("T18:", "T21:")
            r = api.post(f"/channels/{ch}/schedule", {"blackout_id": policy, "start": at, "end": end})
            assert r.status_code == 201, r.text[:300]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", action="store_true", help="start a throwaway PostgreSQL and use it")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    cluster = None
    if args.postgres and not args.database_url:
        from tests.support import PostgresServer

        cluster = PostgresServer()
        args.database_url = cluster.create_database()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"database: {'PostgreSQL' if args.database_url else 'SQLite'}")
    s = spec(random.Random(224))
    body = document(s)
    zips = sum(len(a["zips"]) for a in s["audiences"])
    print(f"document: {len(body) / 1e6:.1f} MB, 500 audiences ({zips:,} zips), 10 superaudiences, 200 viewing "
          "policies, 200 policies, 20 Media, 200 time points")
    with baseline_server() as url:
        started = time.perf_counter()
        assert httpx.post(url + "/upload", content=body, timeout=120).json()["bytes"] == len(body)
        upload = time.perf_counter() - started
    started = time.perf_counter()
    etree.fromstring(body, etree.XMLParser(resolve_entities=False, huge_tree=True))
    parse = time.perf_counter() - started
    print(f"floors: bare async route upload {upload * 1000:.0f} ms; lxml parse {parse * 1000:.0f} ms")
    try:
        run(s, body, upload, args.database_url)
    finally:
        if cluster is not None:
            cluster.stop()


def run(s: dict[str, Any], body: bytes, upload: float, database_url: str | None) -> None:
    with backend_for(database_url) as backend:
        api = backend.new_user()
        for m in s["media"]:
            api.make_channel(m["source"], external_id=m["source"])
        first, result = post(api, body)
        print(f"first import: {first:.2f} s ({result['summary']['created']} objects created); "
              f"{first / upload:.0f}x the bare upload")
        again, result = post(api, body)
        assert not result["changed"]
        print(f"same document again: {again:.2f} s (nothing changed, no version)")
        dry, result = post(api, body, dry_run="true")
        print(f"dry run: {dry:.2f} s")
        s["audiences"][0]["zips"] = s["audiences"][0]["zips"][1:]
        changed, result = post(api, document(s))
        print(f"one zip fewer in a 40,000-zip audience: {changed:.2f} s ({result['summary']['updated']} updated)")
        hand = by_hand(backend.new_user(), s)
        print(f"the same objects by hand through the v4 API (1,310 requests): {hand:.2f} s; "
              f"the import is {hand / first:.1f}x faster")


if __name__ == "__main__":
    main()
