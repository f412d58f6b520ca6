"""The SCTE 224 half of the support module: test documents written from the schemas, posting them, and a
rights holder's HTTP server for feeds (it records what it saw and the webhook alerts posted back to it)."""

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx

from tests.support import Api, serve_http, wait_for

NS_2018 = 'xmlns="http://www.scte.org/schemas/224" version="20180501"'
NS_2015 = 'xmlns="http://www.scte.org/schemas/224/2015"'
NS_2020 = 'xmlns="http://www.scte.org/schemas/224" version="20200407"'
PREFIXES = ('xmlns:audience="urn:scte:224:audience" xmlns:action="urn:scte:224:action" '
            'xmlns:xlink="http://www.w3.org/1999/xlink"')


def document(source: str, ns: str = NS_2018, extra_audience: str = "", with_second: bool = True) -> str:
    second = """
  <Audience id="aud/east" match="ANY"><audience:Zip>10001</audience:Zip><audience:DMA>501</audience:DMA></Audience>
  <ViewingPolicy id="vp/east"><Audience xlink:href="aud/east"/>
    <action:Content>urn:scte:224:action:blackout</action:Content></ViewingPolicy>""" if with_second else ""
    east_ref = '<ViewingPolicy xlink:href="vp/east"/>' if with_second else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Results {ns} {PREFIXES}>
  <Audience id="aud/us" description="United States" match="ANY"><audience:ISO3166>us</audience:ISO3166>
    {extra_audience}</Audience>
  <Audience id="aud/devices" match="ALL"><Audience xlink:href="aud/us"/>
    <Audience id="aud/phones"><audience:Device>PHONE</audience:Device></Audience></Audience>
  <ViewingPolicy id="vp/us" description="US viewers get slate"><Audience xlink:href="aud/us"/>
    <action:Content>urn:scte:224:action:blackout</action:Content></ViewingPolicy>{second}
  <Policy id="policy/game" description="Regional game">
    <ViewingPolicy xlink:href="vp/us"/>{east_ref}</Policy>
  <Media id="media/news" description="News" source="{source}">
    <MediaPoint id="point/game" matchTime="2030-01-01T20:00:00Z">
      <Apply duration="PT3H"><Policy xlink:href="policy/game"/></Apply></MediaPoint>
    <MediaPoint id="point/signal" effective="2020-01-01T00:00:00Z">
      <Apply><Policy xlink:href="policy/game"/></Apply>
      <MatchSignal match="ANY">
        <Assert>/SpliceInfoSection/SegmentationDescriptor[@segmentationTypeId=16]/SegmentationUpid[text()='GAME7']</Assert>
      </MatchSignal></MediaPoint>
  </Media>
</Results>"""


def post(api: Api, xml: str | bytes, **params: Any) -> httpx.Response:
    body = xml.encode() if isinstance(xml, str) else xml
    return api.http.post("/scte224", content=body, params=api.params(params),
                         headers={"Content-Type": "application/xml"})


def by_external(api: Api, path: str) -> dict[str, dict]:
    items = api.get(path, params={"page_size": 40}).json()["items"]
    return {i["external_id"]: i for i in items if i.get("external_id")}


@dataclass
class Publisher:
    """A rights holder's server: the current document and ETag, or a forced status; it records what it saw."""

    body: bytes = b""
    etag: str = ""
    status: int = 200
    seen: list[dict[str, str]] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)  # webhook events posted back to it
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0

    def url(self, path: str = "/rights.xml") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def publish(self, xml: str, etag: str) -> None:
        with self.lock:
            self.body, self.etag, self.status = xml.encode(), etag, 200


def feed_state(api: Api, feed_id: str) -> dict[str, Any]:
    return dict(api.get(f"/scte224/feeds/{feed_id}").json())


def checked(api: Api, feed: dict[str, Any], state: str) -> dict[str, Any]:
    """Ask for a check now and wait until its outcome is recorded (a newer `checked`, in `state`)."""
    before = feed_state(api, feed["id"])["checked"]
    assert api.post(f"/scte224/feeds/{feed['id']}/check").status_code == 202
    return dict(wait_for(lambda: (lambda f: f if f["checked"] != before and f["state"] == state else None)(
        feed_state(api, feed["id"])), timeout=15, explain=lambda: feed_state(api, feed["id"])))


def serve_publisher() -> Iterator[Publisher]:
    """A running Publisher on loopback (use as a generator fixture)."""
    pub = Publisher()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with pub.lock:
                pub.seen.append(dict(self.headers))
                status = pub.status
                if status == 200 and pub.etag and self.headers.get("If-None-Match") == pub.etag:
                    status = 304
                body = pub.body if status == 200 else b""
            self.send_response(status)
            if status in (200, 304):
                self.send_header("ETag", pub.etag)
                self.send_header("Last-Modified", f"Tue, 01 Dec 2026 10:00:{len(pub.etag):02d} GMT")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with pub.lock:
                pub.alerts.append(body["type"])
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server, pub.port = serve_http(Handler)
    yield pub
    server.shutdown()
    server.server_close()
